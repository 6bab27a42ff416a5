// The commands as users run them: the built binary, in a temp folder.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, copyFile, mkdir, readFile, readdir, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { writeArtifacts } from "../../src/write/output.js";
import { BIN, EXAMPLES, runCli, tempDir, tree } from "../helpers/cli.js";
import { EXAMPLE_ENV } from "../helpers/plan.js";
import { sha256 } from "../../src/write/hash.js";

let dir: string;
let cleanup: () => void;
beforeEach(async () => ({ dir, cleanup } = tempDir()));
afterEach(async () => cleanup());

describe("k8s-ha", () => {
  it("prints its version and help", async () => {
    const pkg = JSON.parse(await readFile(join(EXAMPLES, "../package.json"), "utf8"));
    const version = await runCli(["--version"]);
    expect(version).toMatchObject({ code: 0, stdout: `${pkg.version}\n` });
    const help = await runCli(["--help"]);
    expect(help.code).toBe(0);
    for (const command of ["init", "validate", "render", "schema"]) expect(help.stdout).toContain(command);
    const renderHelp = await runCli(["render", "--help"]);
    expect(renderHelp.code).toBe(0);
    expect(renderHelp.stdout).toContain("-o, --output <dir>");
  });

  it("exits 2 on an unknown command or a bad option value", async () => {
    expect((await runCli(["frobnicate"])).code).toBe(2);
    const bad = await runCli(["validate", join(EXAMPLES, "two-masters.yaml"), "--tools", "sometimes"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/argument 'sometimes' is invalid.*auto, required, off/);
  });
});

describe("init", () => {
  it("writes the starter spec, which is examples/two-masters.yaml and valid", async () => {
    const result = await runCli(["init"], { cwd: dir });
    expect(result.code).toBe(0);
    const written = await readFile(join(dir, "k8s-ha.yaml"), "utf8");
    expect(written).toBe(await readFile(join(EXAMPLES, "two-masters.yaml"), "utf8"));
    expect((await runCli(["validate"], { cwd: dir })).code).toBe(0);
  });

  it("refuses to overwrite without --force, and overwrites with it", async () => {
    const target = join(dir, "mine.yaml");
    await writeFile(target, "keep me\n");
    const refused = await runCli(["init", target]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/already exists; nothing was written\n.*--force/);
    expect(await readFile(target, "utf8")).toBe("keep me\n");
    expect((await runCli(["init", target, "--force"])).code).toBe(0);
    expect(await readFile(target, "utf8")).toContain("apiVersion: k8s-ha/v1alpha1");
  });
});

describe("render", () => {
  const spec = join(EXAMPLES, "two-masters.yaml");

  it("writes the layout of DESIGN.md with the promised modes and a manifest of it", async () => {
    const out = join(dir, "out");
    const result = await runCli(["render", spec, "-o", out]);
    expect(result.code, result.stderr).toBe(0);
    const files = await tree(out);
    for (const node of ["master01", "master02"]) {
      for (const f of [
        "user-data",
        "meta-data",
        "network-config",
        "files/keepalived.conf",
        "files/check_apiserver.sh",
        "files/haproxy.cfg",
      ]) {
        expect(files).toHaveProperty(`nodes/${node}/${f}`);
      }
      expect((await stat(join(out, `nodes/${node}/files/keepalived.conf`))).mode & 0o777).toBe(0o640);
      expect((await stat(join(out, `nodes/${node}/files/check_apiserver.sh`))).mode & 0o777).toBe(0o755);
      expect((await stat(join(out, `nodes/${node}/files/haproxy.cfg`))).mode & 0o777).toBe(0o644);
    }
    for (const f of ["plugins.pkr.hcl", "k8s-ha.pkr.hcl", "http/user-data", "scripts/90-generalize.sh"])
      expect(files).toHaveProperty(`packer/${f}`);
    const manifest = JSON.parse(await readFile(join(out, "manifest.json"), "utf8"));
    expect(manifest.generator).toMatch(/^k8s-ha \d+\.\d+\.\d+/);
    expect(manifest.specSha256).toBe(sha256(await readFile(spec)));
    const listed = Object.fromEntries(
      manifest.artifacts.map((a: { path: string; sha256: string }) => [a.path, a.sha256]),
    );
    const { ["manifest.json"]: _, ...written } = files;
    expect(listed).toEqual(written);
  });

  it("gives the same bytes every time, whatever the time zone, locale or folder", async () => {
    const a = join(dir, "a");
    const b = join(dir, "deeper/b");
    expect((await runCli(["render", spec, "-o", a])).code).toBe(0);
    await mkdir(dirname(b), { recursive: true });
    await copyFile(spec, join(dir, "copy.yaml"));
    expect(
      (
        await runCli(["render", "copy.yaml", "-o", b], {
          cwd: dir,
          env: { TZ: "Pacific/Kiritimati", LANG: "tr_TR.UTF-8", LC_ALL: "tr_TR.UTF-8" },
        })
      ).code,
    ).toBe(0);
    expect(await tree(b)).toEqual(await tree(a));
  });

  it("replaces its own files and deletes nothing else (build-image's images/, a node no longer in the spec)", async () => {
    const out = join(dir, "out");
    await mkdir(join(out, "images"), { recursive: true });
    await writeFile(join(out, "images/golden.ova"), "precious");
    await mkdir(join(out, "nodes/old-node"), { recursive: true });
    await writeFile(join(out, "nodes/old-node/user-data"), "stale");
    expect((await runCli(["render", spec, "-o", out])).code).toBe(0);
    expect(await readFile(join(out, "images/golden.ova"), "utf8")).toBe("precious");
    expect(await readFile(join(out, "nodes/old-node/user-data"), "utf8")).toBe("stale");
    const manifest = JSON.parse(await readFile(join(out, "manifest.json"), "utf8")) as {
      artifacts: { path: string }[];
    };
    expect(manifest.artifacts.map((a) => a.path)).not.toContain("nodes/old-node/user-data");
    expect((await readdir(out)).filter((e) => e.startsWith(".k8s-ha"))).toEqual([]);
  });

  it("leaves a file that already holds its bytes and mode as it is; replaces one edited (even to the same size) or chmod'ed", async () => {
    const out = join(dir, "out");
    expect((await runCli(["render", spec, "-o", out])).code).toBe(0);
    const files = {
      same: join(out, "nodes/master01/user-data"),
      edited: join(out, "nodes/master01/files/haproxy.cfg"),
      chmodded: join(out, "nodes/master02/files/check_apiserver.sh"),
      sameSize: join(out, "nodes/master02/user-data"), // one byte changed: only the bytes tell
    };
    const rendered = await tree(out);
    await writeFile(files.edited, "edited by hand\n");
    const userData = await readFile(files.sameSize);
    userData[userData.length - 2] ^= 0x20;
    await writeFile(files.sameSize, userData);
    await chmod(files.chmodded, 0o777);
    const inode = async (file: string) => (await stat(file)).ino;
    const before = {
      same: await inode(files.same),
      edited: await inode(files.edited),
      sameSize: await inode(files.sameSize),
    };
    expect((await runCli(["render", spec, "-o", out])).code).toBe(0);
    expect(await tree(out)).toEqual(rendered); // the bytes the first render wrote
    expect(await inode(files.same)).toBe(before.same); // not rewritten
    expect(await inode(files.edited)).not.toBe(before.edited); // replaced, by rename, as every write is
    expect(await inode(files.sameSize)).not.toBe(before.sameSize);
    expect((await stat(files.chmodded)).mode & 0o777).toBe(0o755);
  });

  it("gives every file the mode its manifest names, whatever the umask", async () => {
    for (const umask of ["077", "000"]) {
      const out = join(dir, `umask-${umask}`);
      const result = spawnSync("sh", [
        "-c",
        `umask ${umask} && exec "$0" "$@"`,
        process.execPath,
        BIN,
        "render",
        spec,
        "-o",
        out,
      ]);
      expect(result.status, String(result.stderr)).toBe(0);
      const manifest = JSON.parse(await readFile(join(out, "manifest.json"), "utf8")) as {
        artifacts: { path: string; mode: string }[];
      };
      const modes = new Set(manifest.artifacts.map((a) => a.mode));
      expect(modes).toEqual(new Set(["0644", "0640", "0755"]));
      for (const artifact of manifest.artifacts) {
        expect(((await stat(join(out, artifact.path))).mode & 0o7777).toString(8).padStart(4, "0"), artifact.path).toBe(
          artifact.mode,
        );
      }
    }
  });

  it("keeps the previous output whole when a render fails", async () => {
    const out = join(dir, "out");
    expect((await runCli(["render", spec, "-o", out])).code).toBe(0);
    const before = await tree(out);
    const bad = join(dir, "bad.yaml");
    await writeFile(bad, (await readFile(spec, "utf8")).replace("192.168.56.11", "10.9.9.9"));
    expect((await runCli(["render", bad, "-o", out])).code).toBe(1);
    expect(await tree(out)).toEqual(before);
  });

  it("rolls back when writing fails halfway (the writer's own guarantee)", async () => {
    const out = join(dir, "out");
    expect((await runCli(["render", spec, "-o", out])).code).toBe(0);
    const before = await tree(out);
    const unwritable = { path: "nodes/x/user-data", contents: 42 as unknown as string, mode: 0o644 };
    await expect(
      writeArtifacts(out, [{ path: "nodes/a/user-data", contents: "new", mode: 0o644 }, unwritable]),
    ).rejects.toThrow();
    expect(await tree(out)).toEqual(before);
    expect((await readdir(out)).filter((e) => e.startsWith(".k8s-ha"))).toEqual([]);
    await expect(writeArtifacts(out, [{ path: "../escape", contents: "x", mode: 0o644 }])).rejects.toThrow(
      /not a plain relative path/,
    );
  });
});

describe("build-image", () => {
  it("refuses a Fedora CoreOS or Flatcar spec (exit 2) before writing anything: it bakes Ubuntu only", async () => {
    for (const example of ["fcos.yaml", "flatcar-static-pods.yaml"]) {
      const out = join(dir, "out");
      const result = await runCli(["build-image", join(EXAMPLES, example), "-o", out]);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toMatch(
        /targets (fcos|flatcar): build-image bakes the Ubuntu and Debian golden images only; nothing was written/,
      );
      expect(result.stderr).toMatch(/hint: .*config\.ign/);
      expect(existsSync(out)).toBe(false);
    }
  });

  it("refuses debian-12 (exit 2): the VirtualBox build installs Ubuntu from its ISO", async () => {
    const spec = join(dir, "debian.yaml");
    const text = await readFile(join(EXAMPLES, "two-masters.yaml"), "utf8");
    await writeFile(spec, text.replace(/^(\s+os:) ubuntu-20\.04/m, "$1 debian-12"));
    const out = join(dir, "out");
    const result = await runCli(["build-image", spec, "-o", out], { env: EXAMPLE_ENV });
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain(
      "targets debian-12: the VirtualBox build installs Ubuntu from its live-server ISO, and debian-12 has none",
    );
    expect(result.stderr).toMatch(/hint: set spec\.image\.builder: qemu/);
    expect(existsSync(out)).toBe(false);
  });
});

describe("validate", () => {
  const two = join(EXAMPLES, "two-masters.yaml");

  it("says valid, with warnings, and exits 0", async () => {
    const result = await runCli(["validate", two]);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/two-masters\.yaml:\d+:\d+  spec\.vrrp\.authPass  warning: .*plain text/);
    expect(result.stderr).toMatch(
      /two-masters\.yaml:\d+:\d+  spec\.target\.os  warning: Ubuntu 20\.04 left standard support/,
    );
    expect(result.stderr).toMatch(/valid \(0 errors, 2 warnings\)/);
  });

  it("--format json is one stable document on stdout", async () => {
    const result = await runCli(["validate", two, "--format", "json"]);
    expect(result.code).toBe(0);
    const doc = JSON.parse(result.stdout);
    expect(Object.keys(doc)).toEqual(["file", "valid", "findings", "tools"]);
    expect(doc.valid).toBe(true);
    expect(doc.findings[0]).toEqual({
      severity: "warning",
      file: two,
      line: expect.any(Number),
      col: expect.any(Number),
      path: "spec.vrrp.authPass",
      message: expect.stringMatching(/plain text/),
      hint: expect.any(String),
    });
    expect(doc.tools).toEqual({ mode: "off", ran: false });
    const bad = join(dir, "bad.yaml");
    await writeFile(bad, (await readFile(two, "utf8")).replace("port: 1644", "port: 6443"));
    const invalid = await runCli(["validate", bad, "--format", "json"]);
    expect(invalid.code).toBe(1);
    expect(JSON.parse(invalid.stdout)).toMatchObject({
      valid: false,
      findings: [
        { severity: "error", path: "spec.loadBalancer.port" },
        { severity: "warning" },
        { severity: "warning", path: "spec.target.os" },
      ],
    });
  });

  it("--format github prints workflow annotations", async () => {
    const bad = join(dir, "bad.yaml");
    await writeFile(bad, (await readFile(two, "utf8")).replace("address: 192.168.56.11", "address: 192.168.57.11"));
    const result = await runCli(["validate", bad, "--format", "github"]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(
      /^::error file=.*bad\.yaml,line=\d+,col=\d+,title=spec\.nodes\[1\]\.address::192\.168\.57\.11 is outside 192\.168\.56\.0\/24/m,
    );
  });

  it("--tools required exits 3 and names what to install when a tool is missing", async () => {
    const result = await runCli(["validate", two, "--tools", "required"], {
      env: { PATH: join(dir, "no-tools-here") },
    });
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/--tools required: .*shellcheck.*not found/);
    expect(result.stderr).toMatch(/apt-get install shellcheck/);
  });

  it("reads the VRRP password from the environment; without it, validates with a placeholder and warns", async () => {
    const unicast = join(EXAMPLES, "three-node-unicast.yaml");
    const without = await runCli(["validate", unicast], { env: { K8S_HA_VRRP_PASS: "" } });
    expect(without.code).toBe(0);
    expect(without.stderr).toMatch(
      /spec\.vrrp\.authPassEnv  warning: environment variable K8S_HA_VRRP_PASS is not set: validated with a placeholder/,
    );
    expect((await runCli(["validate", unicast], { env: { K8S_HA_VRRP_PASS: "123456789" } })).code).toBe(1);
    expect((await runCli(["validate", unicast], { env: EXAMPLE_ENV })).code).toBe(0);
  });
});

describe("schema", () => {
  it("prints a JSON Schema of the spec as users write it", async () => {
    const result = await runCli(["schema"]);
    expect(result.code).toBe(0);
    const schema = JSON.parse(result.stdout);
    expect(schema.$schema).toMatch(/json-schema\.org/);
    expect(schema.required).toEqual(["apiVersion", "kind", "metadata", "spec"]);
    expect(schema.properties.spec.required).toEqual(["vip", "network", "nodes"]);
    expect(schema.properties.spec.properties.loadBalancer.properties.balance.enum).toEqual([
      "roundrobin",
      "leastconn",
      "source",
    ]);
    expect(schema.properties.spec.additionalProperties).toBe(false);
  });
});

// The command line's contract (docs/cli.md): data on stdout, everything for people on stderr;
// --json wherever there are results; a spec from stdin; the machine's failures (a full disk, a
// read-only folder) as one line naming the path and the cause, exit 3, and nothing half-written.
import { execFileSync } from "node:child_process";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXAMPLES, runCli, tempDir, tree } from "../helpers/cli.js";
import { haveTools, IN_CI, isRoot } from "../helpers/tools.js";

const two = join(EXAMPLES, "two-masters.yaml");
let work: ReturnType<typeof tempDir>;
beforeAll(async () => {
  work = tempDir("k8s-ha-contract-");
});
afterAll(async () => {
  work.cleanup();
});

describe("stdout is data, stderr is for people", () => {
  it("validate --json is validate --format json", async () => {
    const [alias, format] = await Promise.all([
      runCli(["validate", two, "--json"]),
      runCli(["validate", two, "--format", "json"]),
    ]);
    expect(alias.code).toBe(0);
    expect(alias.stdout).toBe(format.stdout);
    expect(JSON.parse(alias.stdout)).toMatchObject({ valid: true });
    expect((await runCli(["validate", two, "--json", "--format", "github"])).code).toBe(2);
  });

  it.skipIf(!haveTools("shellcheck"))("validate --tools: the verdicts go to stderr, stdout stays empty", async () => {
    const result = await runCli(["validate", two, "--tools", "auto"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/^ok {4}master01 {6}shellcheck -s sh files\/check_apiserver\.sh$/m);
  });

  it("render --json prints the files written; the summary goes to stderr", async () => {
    const out = join(work.dir, "render-json");
    const result = await runCli(["render", two, "-o", out, "--json"]);
    expect(result.code, result.stderr).toBe(0);
    const doc = JSON.parse(result.stdout);
    expect(doc).toMatchObject({ output: out, cluster: "lab" });
    expect(doc.artifacts.map((a: { path: string }) => a.path)).toContain("nodes/master01/user-data");
    expect(result.stderr).toMatch(/^rendered 2 node\(s\)/m);
  });
});

describe("a spec from standard input (-)", () => {
  it("validate - and render - read the spec piped in, and name it <stdin>", async () => {
    const text = await readFile(two, "utf8");
    const validated = await runCli(["validate", "-"], { input: text });
    expect(validated.code, validated.stderr).toBe(0);
    expect(validated.stderr).toMatch(/^<stdin>:\d+:\d+  spec\.vrrp\.authPass  warning/m);
    const out = join(work.dir, "from-stdin");
    const fromFile = join(work.dir, "from-file");
    expect((await runCli(["render", "-", "-o", out], { input: text })).code).toBe(0);
    expect((await runCli(["render", two, "-o", fromFile])).code).toBe(0);
    expect(await tree(out)).toEqual(await tree(fromFile));
    const broken = await runCli(["render", "-", "-o", join(work.dir, "broken")], {
      input: text.replace("port: 1644", "port: 6443"),
    });
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/^<stdin>:\d+:\d+  spec\.loadBalancer\.port/m);
  });
});

describe("validate without the production secrets", () => {
  it("an unset authPassEnv is a warning for validate (checked with a placeholder), an error for render", async () => {
    const spec = join(work.dir, "env-pass.yaml");
    await writeFile(spec, (await readFile(two, "utf8")).replace(/authPass: .*/, "authPassEnv: K8S_HA_TEST_NEVER_SET"));
    const validated = await runCli(["validate", spec, "--json"]);
    expect(validated.code, validated.stdout).toBe(0);
    expect(JSON.parse(validated.stdout).findings).toContainEqual(
      expect.objectContaining({
        severity: "warning",
        path: "spec.vrrp.authPassEnv",
        message: expect.stringMatching(/K8S_HA_TEST_NEVER_SET is not set: validated with a placeholder/),
      }),
    );
    const out = join(work.dir, "env-pass-out");
    const rendered = await runCli(["render", spec, "-o", out]);
    expect(rendered.code).toBe(1);
    expect(rendered.stderr).toMatch(/K8S_HA_TEST_NEVER_SET is not set or empty/);
    await expect(readdir(out)).rejects.toThrow();
  });
});

describe("--format github", () => {
  it("names files relative to GITHUB_WORKSPACE", async () => {
    const repo = join(work.dir, "repo");
    await mkdir(join(repo, "clusters"), { recursive: true });
    const bad = join(repo, "clusters", "bad.yaml");
    await writeFile(bad, (await readFile(two, "utf8")).replace("address: 192.168.56.11", "address: 192.168.57.11"));
    const result = await runCli(["validate", bad, "--format", "github"], { env: { GITHUB_WORKSPACE: repo } });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(
      /^::error file=clusters\/bad\.yaml,line=\d+,col=\d+,title=spec\.nodes\[1\]\.address::/m,
    );
  });

  it("else relative to the git top level of the working folder", async () => {
    const repo = join(work.dir, "git-repo");
    await mkdir(join(repo, "specs"), { recursive: true });
    execFileSync("git", ["init", "-q", repo]);
    const bad = join(repo, "specs", "bad.yaml");
    await writeFile(bad, (await readFile(two, "utf8")).replace("address: 192.168.56.11", "address: 192.168.57.11"));
    const result = await runCli(["validate", "bad.yaml", "--format", "github"], {
      cwd: join(repo, "specs"),
      env: { GITHUB_WORKSPACE: "" },
    });
    expect(result.stdout).toMatch(/^::error file=specs\/bad\.yaml,line=/m);
  });
});

/** Root mounts small file systems here; in CI that is required, locally its absence skips loudly. */
function canMount(): boolean {
  if (isRoot()) return true;
  if (IN_CI) throw new Error("the machine-failure tests mount tmpfs: CI must run them as root");
  process.stderr.write("\n!!!!! SKIPPING machine-failure tests: not root (they mount tmpfs) !!!!!\n\n");
  return false;
}

describe.skipIf(!canMount())("the machine's failures: one line naming the path and the cause, exit 3", () => {
  /** Runs `body` with a tmpfs of `options` mounted at a fresh folder, always unmounted after. */
  async function withMount(options: string, body: (mnt: string) => Promise<void>): Promise<void> {
    const mnt = join(work.dir, `mnt-${Math.random().toString(36).slice(2)}`);
    await mkdir(mnt);
    execFileSync("mount", ["-t", "tmpfs", "-o", options, "tmpfs", mnt]);
    try {
      await body(mnt);
    } finally {
      execFileSync("umount", [mnt]);
    }
  }
  const expectMachineFailure = (result: { code: number | null; stderr: string }, line: RegExp) => {
    expect(result.code, result.stderr).toBe(3);
    expect(result.stderr).toMatch(line);
    expect(result.stderr).not.toMatch(/internal error|\n\s+at /);
  };

  it("a full disk (ENOSPC): render and seed name the file, and leave nothing behind", async () => {
    await withMount("size=64k", async (mnt) => {
      for (const command of ["render", "seed"]) {
        const out = join(mnt, "out");
        const result = await runCli([command, two, "-o", out]);
        expectMachineFailure(
          result,
          new RegExp(`^k8s-ha: cannot write ${out}/\\S+: no space left on the device \\(ENOSPC\\)$`, "m"),
        );
        expect(await readdir(out)).toEqual([]);
      }
    });
  });

  it("a read-only file system (EROFS, and the ENOENT Node's mkdir reports for it): render and init", async () => {
    await withMount("size=1m,ro", async (mnt) => {
      const created = await runCli(["render", two, "-o", join(mnt, "out")]);
      expectMachineFailure(created, new RegExp(`^k8s-ha: cannot create folder ${mnt}/out: .*read-only`, "m"));
      const into = await runCli(["render", two, "-o", mnt]);
      expectMachineFailure(
        into,
        new RegExp(`^k8s-ha: cannot create folder ${mnt}: the file system is read-only \\(EROFS\\)$`, "m"),
      );
      const init = await runCli(["init", join(mnt, "k8s-ha.yaml")]);
      expectMachineFailure(
        init,
        new RegExp(`^k8s-ha: cannot open ${mnt}/k8s-ha.yaml: the file system is read-only \\(EROFS\\)$`, "m"),
      );
      expect(await readdir(mnt)).toEqual([]);
    });
  });

  it("a file where the output folder should be (ENOTDIR): exit 3 naming it", async () => {
    const file = join(work.dir, "a-file");
    await writeFile(file, "x");
    const result = await runCli(["render", two, "-o", join(file, "out")]);
    expectMachineFailure(
      result,
      new RegExp(`^k8s-ha: cannot use ${file}/out: a part of the path is a file, not a folder \\(ENOTDIR\\)$`, "m"),
    );
  });
});

// buildImage against the real Packer binary (Debian's 1.6.6 in CI), with small templates that
// need no VirtualBox: the null builder with shell-local steps, the file builder, and the
// artifice post-processor to name the "OVA". VirtualBox itself is not installable here, so the
// VirtualBox preflight is turned off except in the test that proves it fails clearly.
import { sha256 } from "../../src/write/hash.js";
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ExternalError, InterruptedError } from "../../src/errors.js";
import { buildImage, type BuildImageOptions } from "../../src/packer/build-image.js";
import { templateFingerprint } from "../../src/packer/fingerprint.js";
import type { Artifact } from "../../src/render/artifact.js";
import { haveTools } from "../helpers/tools.js";
import { Capture, DEFAULT_IMAGE, packerTestEnv, tempDir } from "./helpers.js";

const have = haveTools("packer");
const STEM = `${DEFAULT_IMAGE.name}-${DEFAULT_IMAGE.version}`;

function testTemplate(hcl: string): { artifacts: Artifact[]; mainFile: string } {
  return { artifacts: [{ path: "packer/test.pkr.hcl", contents: hcl, mode: 0o644 }], mainFile: "packer/test.pkr.hcl" };
}

/** null builder; the shell-local steps run `inline`; artifice names the OVA they wrote. */
const nullBuild = (inline: string[], artifact = "test.ova") =>
  testTemplate(`variable "output_directory" {
  type = string
}
source "null" "test" {
  communicator = "none"
}
build {
  sources = ["source.null.test"]
  provisioner "shell-local" {
    inline = ${JSON.stringify(inline)}
  }
  post-processor "artifice" {
    files = ["\${var.output_directory}/${artifact}"]
  }
}
`);

const writesOva = (text: string) => [`mkdir -p "$OUT"`, `printf '%s' '${text}' > "$OUT/test.ova"`];
/** shell-local's environment has no template variables; pass the output folder in. */
const withOut = (inline: string[], artifact?: string) =>
  nullBuild(
    inline.map((line) => line.replace(/\$OUT/g, "${var.output_directory}")),
    artifact,
  );

let work: ReturnType<typeof tempDir>;
let stderr: Capture;
let stdout: Capture;

beforeEach(async () => {
  work = tempDir("build-image");
  stderr = new Capture();
  stdout = new Capture();
});
afterEach(async () => {
  vi.unstubAllEnvs();
  work.cleanup();
});

function options(overrides: Partial<BuildImageOptions> = {}): BuildImageOptions {
  return {
    outDir: join(work.dir, "out"),
    specSha256: "a".repeat(64),
    clusterName: "lab",
    image: DEFAULT_IMAGE,
    os: "ubuntu-20.04",
    dryRun: false,
    force: false,
    requireVirtualBox: false,
    stderr,
    stdout,
    tty: false,
    env: packerTestEnv(work.dir),
    ...overrides,
  };
}

const imagesDir = () => join(work.dir, "out", "images");
const imagesLeft = () => (existsSync(imagesDir()) ? readdirSync(imagesDir()).sort() : []);

describe.skipIf(!have)("buildImage with the real Packer", { timeout: 60_000 }, () => {
  it("streams Packer's output, finds the OVA from its artifact lines, and records the image", async () => {
    const template = withOut(["echo step one, with a comma", "sleep 1", ...writesOva("fake ova"), "echo step two"]);
    const record = await buildImage(options({ template }));

    const expectedSha = sha256("fake ova");
    expect(record).toMatchObject({
      name: DEFAULT_IMAGE.name,
      version: DEFAULT_IMAGE.version,
      file: `${STEM}.ova`,
      size: 8,
      sha256: expectedSha,
      specSha256: "a".repeat(64),
      templateFingerprint: templateFingerprint(template.artifacts),
      packerVersion: expect.stringMatching(/^1\.\d+\.\d+$/),
    });
    expect(imagesLeft()).toEqual([`${STEM}.json`, `${STEM}.ova`]);
    expect(readFileSync(join(imagesDir(), `${STEM}.ova`), "utf8")).toBe("fake ova");
    expect(JSON.parse(readFileSync(join(imagesDir(), `${STEM}.json`), "utf8"))).toEqual(record);
    expect(readFileSync(join(work.dir, "out", "packer", "test.pkr.hcl"), "utf8")).toBe(template.artifacts[0]?.contents);

    // Progress: Packer's lines, unescaped, each with a timestamp, as they happened.
    const text = stderr.text;
    expect(text).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \[\d+:\d\d\] Packer 1\.\d+\.\d+ \(/m);
    expect(text).toMatch(/Z \[\d+:\d\d\] ==> null\.test: Running local shell script/);
    expect(text).toContain("null.test: step one, with a comma");
    const at = (needle: string) => stderr.chunks.find((c) => c.text.includes(needle))?.at ?? Number.NaN;
    expect(at("step two") - at("step one")).toBeGreaterThanOrEqual(800);
  });

  it("lists in the record the packages the provisioning reported (30-kubernetes.sh's k8s-ha-package lines)", async () => {
    const template = withOut([
      "echo k8s-ha-package kubeadm 1.31.4-1.1",
      "echo k8s-ha-package containerd 1.6.20~ds1-1+b1",
      "echo not k8s-ha-package-like",
      ...writesOva("ova"),
    ]);
    const record = await buildImage(options({ template }));
    expect(record?.packages).toEqual({ kubeadm: "1.31.4-1.1", containerd: "1.6.20~ds1-1+b1" });
  });

  it("finds the OVA of the file builder too", async () => {
    const template = testTemplate(`variable "output_directory" {
  type = string
}
source "file" "ova" {
  content = "from the file builder"
  target  = "\${var.output_directory}/built.ova"
}
build {
  sources = ["source.file.ova"]
}
`);
    const record = await buildImage(options({ template }));
    expect(record?.size).toBe("from the file builder".length);
    expect(readFileSync(join(imagesDir(), `${STEM}.ova`), "utf8")).toBe("from the file builder");
  });

  it.each([
    [
      "a failing step",
      withOut(["echo about to fail", "echo 'it broke: disk, full' >&2", "exit 7"]),
      /packer build failed[\s\S]*it broke: disk, full[\s\S]*exit status: 7/,
    ],
    [
      "a template Packer rejects",
      testTemplate(
        'variable "output_directory" {\n  type = string\n}\nsource "null" "test" {\n  no_such_option = 1\n}\nbuild {\n  sources = ["source.null.test"]\n}\n',
      ),
      /packer validate failed[\s\S]*no_such_option/,
    ],
    [
      "a build without an OVA",
      withOut(['mkdir -p "$OUT"', 'echo nothing > "$OUT/test.txt"'], "test.txt"),
      /no \.ova artifact/,
    ],
  ])(
    "%s: ExternalError (exit 3) with Packer's words, and nothing left in images/",
    async (_name, template, message) => {
      const error = await buildImage(options({ template })).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ExternalError);
      expect((error as ExternalError).code).toBe(3);
      expect((error as ExternalError).message).toMatch(message);
      expect(imagesLeft()).toEqual([]);
    },
  );

  // With `trap '' INT` the step's shell ignores Ctrl-C, so only Packer can react: it prints that
  // it cancels, stops without waiting for the shell, and we end what it left in its group.
  it.each([
    ["Ctrl-C reaching this process (SIGINT)", "process", true],
    ["an aborted AbortSignal", "abort", true],
    ["Ctrl-C, the step's shell dying of it too", "process", false],
  ])("%s: Packer gets SIGINT and is waited for, then exit 130 with nothing half-written", async (_name, how, trap) => {
    const pidFile = join(work.dir, "script.pid");
    const template = withOut([
      ...(trap ? ["trap '' INT"] : []),
      `echo $$ > '${pidFile}'`,
      ...writesOva("partial"),
      "echo waiting for Ctrl-C",
      "sleep 30",
      "echo not reached",
    ]);
    const controller = new AbortController();
    const started = Date.now();
    const build = buildImage(options({ template, signal: controller.signal })).catch((e: unknown) => e);
    await vi.waitFor(() => expect(stderr.text).toContain("waiting for Ctrl-C"), { timeout: 15_000, interval: 50 });
    if (how === "abort") controller.abort();
    // In a forked vitest worker the signal is real; in a thread, only our listener may see it.
    else if (typeof process.send === "function") process.kill(process.pid, "SIGINT");
    else process.emit("SIGINT", "SIGINT");

    const error = await build;
    expect(error).toBeInstanceOf(InterruptedError);
    expect((error as InterruptedError).code).toBe(130);
    expect(Date.now() - started).toBeLessThan(20_000);
    if (trap) expect(stderr.text).toContain("Cancelling build after receiving interrupt");
    expect(stderr.text).not.toContain("not reached");
    expect(imagesLeft()).toEqual([]);
    // No process of the build outlives it.
    const scriptPid = Number(readFileSync(pidFile, "utf8"));
    await vi.waitFor(() => expect(() => process.kill(scriptPid, 0)).toThrow(), { timeout: 5000 });
    expect(process.listenerCount("SIGINT")).toBe(0);
  });

  it("skips an up-to-date image in well under a second without running Packer; --force and changes rebuild", async () => {
    const template = withOut(writesOva("v1"));
    const first = await buildImage(options({ template }));

    const t0 = performance.now();
    const skipped = await buildImage(options({ template, packer: join(work.dir, "no-such-packer") }));
    expect(performance.now() - t0).toBeLessThan(500);
    expect(skipped).toEqual(first);
    expect(stderr.text).toContain(`${STEM} is up to date`);

    const forced = await buildImage(options({ template, force: true }));
    expect(forced?.builtAt).not.toBe(first?.builtAt);

    const changed = withOut(writesOva("v2"));
    const rebuilt = await buildImage(options({ template: changed }));
    expect(rebuilt?.templateFingerprint).not.toBe(first?.templateFingerprint);
    expect(rebuilt?.sha256).toBe(sha256("v2"));

    rmSync(join(imagesDir(), `${STEM}.ova`));
    const error = await buildImage(options({ template: changed, packer: join(work.dir, "no-such-packer") })).catch(
      (e: unknown) => e,
    );
    expect((error as ExternalError).message).toContain("Packer not found");
  });

  it("--dry-run runs the preflight, prints commands to paste and writes nothing", async () => {
    const template = withOut(writesOva("x"));
    const result = await buildImage(
      options({ template, dryRun: true, renderCommand: ["k8s-ha", "render", "k8s-ha.yaml", "-o", "out"] }),
    );
    expect(result).toBeUndefined();
    const out = join(work.dir, "out");
    const packer = String(await import("../../src/tools/run.js").then((m) => m.which("packer")));
    // Packer 1.6.6: no `packer init`, and the main file rather than the folder; a lasting output folder
    expect(stdout.text.trim().split("\n")).toEqual([
      "k8s-ha render k8s-ha.yaml -o out",
      `${packer} validate -var output_directory=${out}/images/${STEM}.packer-output ${out}/packer/test.pkr.hcl`,
      `${packer} build -machine-readable -on-error=cleanup -var output_directory=${out}/images/${STEM}.packer-output ${out}/packer/test.pkr.hcl`,
    ]);
    expect(existsSync(out)).toBe(false);
  });
});

describe("buildImage preflight", { timeout: 30_000 }, () => {
  it("--dry-run without Packer fails its preflight like a bake: ExternalError (exit 3), no commands", async () => {
    const error = await buildImage(options({ dryRun: true, packer: join(work.dir, "packer") })).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ExternalError);
    expect((error as ExternalError).message).toMatch(/^Packer not found/);
    expect(stdout.text).toBe("");
    expect(existsSync(join(work.dir, "out"))).toBe(false);
  });

  it("missing Packer: ExternalError (exit 3) saying what to install", async () => {
    const error = await buildImage(options({ packer: join(work.dir, "packer") })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExternalError);
    expect((error as ExternalError).code).toBe(3);
    expect((error as ExternalError).message).toMatch(/^Packer not found/);
    expect((error as ExternalError).hint).toMatch(
      /install Packer >= 1\.7 from https:\/\/developer\.hashicorp\.com\/packer\/install/,
    );
    expect(existsSync(join(work.dir, "out"))).toBe(false);
  });

  it.skipIf(!have)("missing VBoxManage: ExternalError (exit 3) saying to install VirtualBox", async () => {
    const packer = String(await import("../../src/tools/run.js").then((m) => m.which("packer")));
    vi.stubEnv("PATH", work.dir); // Packer by its path; nothing else on PATH
    const error = await buildImage(options({ packer, requireVirtualBox: true })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExternalError);
    expect((error as ExternalError).code).toBe(3);
    expect((error as ExternalError).message).toBe("VirtualBox not found: 'VBoxManage' is not on PATH");
    expect((error as ExternalError).hint).toContain("https://www.virtualbox.org/wiki/Downloads");
    expect(existsSync(join(work.dir, "out"))).toBe(false);
  });
});

describe.skipIf(!have)("buildImage with a stand-in VBoxManage", { timeout: 60_000 }, () => {
  /** A VBoxManage that reports `version` and records its calls; Packer by its path, the stand-in on PATH. */
  async function standIn(version: string): Promise<string> {
    const packer = String(await import("../../src/tools/run.js").then((m) => m.which("packer")));
    const bin = join(work.dir, "bin");
    mkdirSync(bin);
    writeFileSync(
      join(bin, "VBoxManage"),
      `#!/bin/sh\nprintf '%s\\n' "$*" >>"${bin}/calls"\n[ "$1" = --version ] && echo '${version}'\nexit 0\n`,
      { mode: 0o755 },
    );
    vi.stubEnv("PATH", `${bin}:/usr/bin:/bin`);
    return packer;
  }

  /** Writes an OVA (a tar holding an OVF) whose vbox:Machine names its IDE controller, and the flag it was given. */
  const ovaTemplate = () => {
    const ovf =
      '<Envelope><vbox:Machine><StorageControllers><StorageController name="SATA" type="AHCI" PortCount="1"/>' +
      '<StorageController name="IDE" type="PIIX4" PortCount="2"/></StorageControllers></vbox:Machine>' +
      "<!-- nat_localhost_reachable=${var.nat_localhost_reachable} --></Envelope>";
    const template = withOut([
      `mkdir -p "$OUT"`,
      `printf '%s' '${ovf}' > "$OUT/test.ovf"`,
      `tar -cf "$OUT/test.ova" -C "$OUT" test.ovf`,
    ]);
    const [main] = template.artifacts;
    const contents = `variable "nat_localhost_reachable" {\n  type    = bool\n  default = false\n}\n${String(main?.contents)}`;
    return { ...template, artifacts: [{ ...main!, contents }] };
  };
  const ovfIn = (ova: string) => execFileSync("tar", ["-xOf", ova, "test.ovf"], { encoding: "utf8" });

  it("VirtualBox 7: build-image sets nat_localhost_reachable (packer #12118); the OVA's IDE controller is recorded", async () => {
    const packer = await standIn("7.0.14r161095");
    const record = await buildImage(
      options({ template: ovaTemplate(), packer, requireVirtualBox: true, env: packerTestEnv(work.dir) }),
    );
    expect(record).toMatchObject({ virtualBoxVersion: "7.0.14r161095", storageController: "IDE" });
    expect(ovfIn(join(imagesDir(), `${STEM}.ova`))).toContain("nat_localhost_reachable=true");
    expect(stderr.text).toContain(
      "VirtualBox 7: the build VM's NAT may reach Packer's HTTP server (--nat-localhostreachable1 on)",
    );
    expect(readFileSync(join(work.dir, "bin", "calls"), "utf8")).toBe("--version\n");
  });

  it("VirtualBox 6.1: the flag stays off (VirtualBox 6 rejects it)", async () => {
    const packer = await standIn("6.1.50r161033");
    const record = await buildImage(
      options({ template: ovaTemplate(), packer, requireVirtualBox: true, env: packerTestEnv(work.dir) }),
    );
    expect(record?.virtualBoxVersion).toBe("6.1.50r161033");
    expect(ovfIn(join(imagesDir(), `${STEM}.ova`))).toContain("nat_localhost_reachable=false");
    expect(stderr.text).not.toContain("nat-localhostreachable");
  });

  it("an OVA without an OVF records no controller (seed then says it assumed one)", async () => {
    const record = await buildImage(options({ template: withOut(writesOva("not a tar")) }));
    expect(record).toBeDefined();
    expect(record).not.toHaveProperty("storageController");
  });
});

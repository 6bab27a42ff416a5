// The qemu builder's pieces that need no VM: the accelerator passed to Packer, qemu's version,
// the image-check lines read into the record, and `validate --tools` on a qemu spec.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ImageCheckCollector } from "../../src/packer/image-check.js";
import { chooseAccelerator, parseQemuVersion } from "../../src/packer/qemu-host.js";
import { packerCommands } from "../../src/packer/runner.js";
import { runCli, tempDir } from "../helpers/cli.js";
import { specYaml } from "../helpers/specs.js";
import { haveTools } from "../helpers/tools.js";

describe("qemu builder", () => {
  it("passes the accelerator to validate and build as a template variable", () => {
    const commands = packerCommands({
      templateDir: "/o/packer",
      mainFile: "/o/packer/k8s-ha.pkr.hcl",
      plugins: false,
      outputDirectory: "/o/x",
      vars: { accelerator: "tcg" },
    });
    for (const args of [commands.validate, commands.build]) {
      expect(args.join(" ")).toContain("-var output_directory=/o/x -var accelerator=tcg /o/packer/k8s-ha.pkr.hcl");
    }
  });

  it("reads qemu's version", () => {
    expect(parseQemuVersion("QEMU emulator version 7.2.19 (Debian 1:7.2+dfsg-7+deb12u18)\nCopyright")).toBe("7.2.19");
    expect(parseQemuVersion("QEMU emulator version 9.0\n")).toBe("9.0");
    expect(parseQemuVersion("qemu: command not found")).toBeUndefined();
  });

  it("K8S_HA_QEMU_ACCEL overrides the KVM probe", async () => {
    expect(await chooseAccelerator("/nonexistent/qemu", { K8S_HA_QEMU_ACCEL: "tcg" })).toBe("tcg");
    expect(await chooseAccelerator("/nonexistent/qemu", { K8S_HA_QEMU_ACCEL: "kvm" })).toBe("kvm");
  });

  it("collects the image checks from Packer's lines for the record, and only a finished run", () => {
    const checks = new ImageCheckCollector();
    const say = (text: string) => checks.add({ level: "message", text, timestamp: 0 });
    say("    qemu.golden: image-check: package keepalived 1:2.2.7-1+b2");
    say(
      "    qemu.golden: image-check: ok keepalived 1:2.2.7-1+b2 is release 2.2.7\n    qemu.golden: image-check: ok machine-id empty",
    );
    say("    qemu.golden: apt noise that is not a check");
    expect(checks.result()).toBeUndefined(); // the script has not said it finished
    say("    qemu.golden: image-check: passed 2 checks");
    expect(checks.result()).toEqual({
      passed: true,
      checks: ["keepalived 1:2.2.7-1+b2 is release 2.2.7", "machine-id empty"],
      packages: { keepalived: "1:2.2.7-1+b2" },
    });
    say("    qemu.golden: image-check: FAIL machine-id: 0123");
    expect(checks.result()?.passed).toBe(false);
  });
});

describe("validate --tools on a qemu spec", { timeout: 120_000 }, () => {
  let dir: { dir: string; cleanup: () => Promise<void> };
  beforeEach(async () => (dir = await tempDir("k8s-ha-qemu-validate-")));
  afterEach(async () => dir.cleanup());

  it.skipIf(!haveTools("packer"))("runs packer validate on the qemu template of each OS, offline", async () => {
    for (const os of ["ubuntu-22.04", "ubuntu-24.04", "debian-12"]) {
      const spec = join(dir.dir, `${os}.yaml`);
      await writeFile(
        spec,
        specYaml((s) => ((s.spec.target = { os }), (s.spec.image = { builder: "qemu" }))),
      );
      const result = await runCli(["validate", spec, "--tools", "auto"], { env: { CHECKPOINT_DISABLE: "1" } });
      expect(result.code, result.stdout + result.stderr).toBe(0);
      expect(result.stderr).toMatch(/^ok\s+cluster\s+packer validate packer\/k8s-ha\.pkr\.hcl$/m);
    }
  });
});

// The golden path on every CI run (issue 16): spec → bake → seed → boot, with the real Packer,
// the real qemu and Debian's archive. scripts/build-test-cloud-image.sh makes (once per machine,
// cached) a Debian 12 UEFI "cloud image" from the boot test's root file system. `k8s-ha
// build-image` with `builder: qemu, os: debian-12` bakes it: Packer boots it under qemu (TCG
// where KVM is unusable), logs in as the build user it got through NoCloud, runs the real
// provisioning (apt-get update and install from Debian's archive, jq from spec.image.extraPackages
// among them), the image checks and the generalisation, and powers it off; the record is
// written. Then THAT qcow2 boots with a node's `k8s-ha seed` ISO (installPackages: false: no apt at
// first boot) and the boot report shows the node configured: cloud-init done from the seed,
// the three files byte for byte, keepalived and haproxy running, the VIP held, the firewall up.
//
// The seeded boot starts the baked disk's own kernel directly (-kernel/-initrd from the stand-in,
// the same files as in the image) so that the report's settings reach the kernel command line;
// the image's UEFI boot path is what Packer's build VM booted through.
import type { ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, readdir, stat, writeFile } from "node:fs/promises";
import { hashFile, sha256 } from "../../src/write/hash.js";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseImageRecord, type ImageRecord } from "../../src/packer/record.js";
import { chooseAccelerator } from "../../src/packer/qemu-host.js";
import { OVMF_FIRMWARE } from "../../src/packer/qemu.js";
import { BIN, ROOT, tempDir } from "../helpers/cli.js";
import { specYaml } from "../helpers/specs.js";
import { haveTools, IN_CI, isRoot } from "../helpers/tools.js";
import {
  bootForReport,
  bootTimeoutMs,
  earlyStallMs,
  kernelCommandLine,
  reportSection,
  runDetached,
  type ReportedBoot,
} from "../helpers/vm-boot.js";

const BUILD_SCRIPT = join(ROOT, "scripts/build-test-cloud-image.sh");
const NODE = "master01";
const VIP = "10.0.2.100";
const ADDRESS = "10.0.2.10";
const PEER = "10.0.2.11";
const LB_PORT = 1644;
const USER = "ops";
const IMAGE = { name: "k8s-ha-debian-12", version: "0.1.0" };

function prerequisites(): boolean {
  if (!isRoot()) {
    if (IN_CI) throw new Error("the bake test must run as root in CI (debootstrap, chroot)");
    process.stderr.write("\n!!!!! SKIPPING the bake test: it needs root (debootstrap, chroot) !!!!!\n\n");
    return false;
  }
  if (!existsSync(OVMF_FIRMWARE)) {
    if (IN_CI) throw new Error(`${OVMF_FIRMWARE} missing: scripts/install-tools.sh installs ovmf`);
    process.stderr.write(`\n!!!!! SKIPPING the bake test: no ${OVMF_FIRMWARE} (apt-get install ovmf) !!!!!\n\n`);
    return false;
  }
  return haveTools(
    "packer",
    "qemu-system-x86_64",
    "qemu-img",
    "debootstrap",
    "debugfs",
    "mkfs.vfat",
    "mcopy",
    "grub-mkstandalone",
    "sfdisk",
    "flock",
    "setpriv",
  );
}

const canRun = prerequisites();
const minutes = (n: number) => n * 60_000;
/** Ceilings that only catch a hang: measured times are in docs/qemu-bake.md. */
const STAND_IN_TIMEOUT = minutes(40);
const BAKE_TIMEOUT = Number(process.env.K8S_HA_TEST_BAKE_TIMEOUT ?? 45 * 60) * 1000;

const sha256File = async (path: string) => (await hashFile(path)).sha256;

describe.skipIf(!canRun)("a qemu bake of Debian 12, then the first boot of the baked image", () => {
  let dir = "";
  let cleanup = async () => {};
  let out = "";
  let standIn = "";
  const stops: Array<() => void> = [];
  let vm: ChildProcess | undefined;
  let bake: { code: number | null; stderr: string; seconds: number };
  let again: { code: number | null; stderr: string; seconds: number };
  let record: ImageRecord | undefined;
  let imageSha256 = "";
  let seed: { instanceId: string; absolutePath: string };
  let booted: ReportedBoot;

  /** The built CLI, stopped with SIGTERM (which it passes on to Packer) if the test ends early. */
  async function cli(args: string[], env: NodeJS.ProcessEnv, timeoutMs: number) {
    const started = Date.now();
    const run = runDetached(process.execPath, [BIN, ...args], {
      env,
      timeoutMs,
      onStderr: IN_CI ? (c) => process.stderr.write(c) : undefined,
    });
    stops.push(run.stop);
    const result = await run.done;
    return { ...result, seconds: Math.round((Date.now() - started) / 1000) };
  }

  beforeAll(
    async () => {
      ({ dir, cleanup } = await tempDir("k8s-ha-bake-"));
      const built = runDetached("bash", [BUILD_SCRIPT], { timeoutMs: STAND_IN_TIMEOUT });
      stops.push(built.stop);
      const stand = await built.done;
      if (stand.code !== 0)
        throw new Error(
          `build-test-cloud-image.sh ended with ${stand.signal ?? `exit ${stand.code}`}:\n${stand.stderr.split("\n").slice(-40).join("\n")}`,
        );
      standIn = stand.stdout.trim().split("\n").pop()!;
      const source = join(standIn, "disk.qcow2");

      const spec = join(dir, "k8s-ha.yaml");
      await writeFile(
        spec,
        specYaml((s) => {
          s.metadata.name = "bake";
          s.spec.network.interface = "eth0";
          s.spec.installPackages = false; // the baked image has every package: no apt at first boot
          s.spec.firewall = { enabled: true, allowSsh: true, allow: ["10250/tcp"] };
          s.spec.users = [
            {
              name: USER,
              sshAuthorizedKeys: [
                "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMQOqA/g+Q2Og5yWI588HYHVroOOL/NjApqNbKN/deM4 ops@laptop",
              ],
            },
          ];
          s.spec.target = { os: "debian-12" };
          s.spec.image = { builder: "qemu", ...IMAGE, cpus: 2, memoryMiB: 1024, diskMiB: 8192, extraPackages: ["jq"] };
        }),
      );
      out = join(dir, "out");
      // The stand-in replaces Debian's cloud image through Packer's own variables (PKR_VAR_*), as a
      // user would point the template at a local copy.
      const env = {
        PKR_VAR_iso_url: source,
        PKR_VAR_iso_checksum: `sha256:${await sha256File(source)}`,
        PACKER_CACHE_DIR: join(dir, "packer_cache"),
        CHECKPOINT_DISABLE: "1",
      };
      bake = await cli(["build-image", spec, "-o", out], env, BAKE_TIMEOUT);
      const recordPath = join(out, "images", `${IMAGE.name}-${IMAGE.version}.json`);
      record = existsSync(recordPath) ? parseImageRecord(readFileSync(recordPath, "utf8")) : undefined;
      if (record) imageSha256 = await sha256File(join(out, "images", record.file));
      again = await cli(["build-image", spec, "-o", out], env, minutes(2));
      process.stderr.write(
        `bake test: build-image exited ${bake.code} after ${bake.seconds}s; ${record ? `record written` : "NO record"}\n`,
      );

      const seeded = await cli(["seed", spec, "-o", out, "--node", NODE, "--json"], {}, minutes(2));
      if (seeded.code !== 0) throw new Error(`k8s-ha seed failed:\n${seeded.stderr}`);
      seed = (JSON.parse(seeded.stdout) as { seeds: { instanceId: string; absolutePath: string }[] }).seeds[0]!;

      if (!record) return; // the bake's own tests say why
      const keep = process.env.K8S_HA_TEST_KEEP_LOGS;
      if (keep) {
        await mkdir(keep, { recursive: true });
        await writeFile(join(keep, "bake-build-image.log"), bake.stderr);
      }
      const kvm = (await chooseAccelerator("qemu-system-x86_64", process.env)) === "kvm";
      const timeoutMs = bootTimeoutMs(kvm);
      booted = await bootForReport(
        {
          kernel: join(standIn, "vmlinuz"),
          initrd: join(standIn, "initrd.img"),
          disk: { path: join(out, "images", record.file), format: "qcow2" },
          append: kernelCommandLine("LABEL=k8s-ha-root", {
            vip: VIP,
            iface: "eth0",
            lbPort: LB_PORT,
            waitS: Math.floor(timeoutMs / 1000),
          }),
          cdrom: seed.absolutePath,
          dir,
          kvm,
          timeoutMs,
          earlyStallMs: earlyStallMs(kvm),
          onStart: (child: ChildProcess) => (vm = child),
        },
        "bake-boot",
      );
    },
    STAND_IN_TIMEOUT + BAKE_TIMEOUT + minutes(6) + 2 * (earlyStallMs(false) + bootTimeoutMs(false)),
  );

  afterAll(async () => {
    for (const stop of stops) stop();
    vm?.kill("SIGKILL");
    await cleanup();
  });

  const bakeLog = () => bake.stderr.split("\n").slice(-80).join("\n");

  it("build-image bakes the stand-in with Packer's qemu builder and records the qcow2", async () => {
    expect(bake.code, bakeLog()).toBe(0);
    expect(record, bakeLog()).toBeDefined();
    expect(record).toMatchObject({
      ...IMAGE,
      file: `${IMAGE.name}-${IMAGE.version}.qcow2`,
      builder: "qemu",
      os: "debian-12",
    });
    expect(record!.qemu?.accelerator).toMatch(/^(kvm|tcg)$/);
    const file = join(out, "images", record!.file);
    expect((await stat(file)).size).toBe(record!.size);
    expect(imageSha256).toBe(record!.sha256);
    expect(readFileSync(file).subarray(0, 4).toString("latin1")).toBe("QFI\xfb"); // a qcow2, not raw
    // nothing left behind: no staging folder with Packer's output in it
    expect((await readdir(join(out, "images"))).sort()).toEqual([`${IMAGE.name}-${IMAGE.version}.json`, record!.file]);
  });

  it("shows progress: Packer's stages and the provisioning scripts' output, timestamped", () => {
    expect(bake.stderr).toMatch(/accelerator (kvm|tcg)/);
    expect(bake.stderr).toMatch(
      /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \[\d+:\d\d\] ==> qemu\.golden: Waiting for SSH to become available/,
    );
    expect(bake.stderr).toContain("10-wait-cloud-init: first boot finished");
    expect(bake.stderr).toContain("90-generalize: done");
  });

  it("provisioned from Debian's archive and passed the image checks, recorded with the package versions", () => {
    expect(bake.stderr).toMatch(/Get:\d+ http:\/\/deb\.debian\.org\/debian bookworm/); // apt-get update fetched the lists
    const check = record?.imageCheck;
    expect(check, bakeLog()).toBeDefined();
    expect(check!.passed).toBe(true);
    expect(check!.packages.keepalived).toMatch(/^1:2\.2\.7-/);
    expect(check!.packages.haproxy).toMatch(/^2\.6\.\d+-/);
    expect(Object.keys(check!.packages).sort()).toEqual(["cloud-init", "curl", "haproxy", "jq", "keepalived", "ufw"]);
    for (const what of [
      "keepalived.service disabled and stopped",
      "haproxy.service disabled and stopped",
      "cloud-init clean (no instance, seed or log)",
      "machine-id empty",
      "no installer or build network leftovers",
    ]) {
      expect(check!.checks).toContain(what);
    }
  });

  it("skips a second bake of the same template at once (fingerprint)", () => {
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(
      new RegExp(`${IMAGE.name}-${IMAGE.version} is up to date: .* was baked from this template`),
    );
    expect(again.stderr).not.toContain("packer build");
  });

  /** A section of the boot report; fails with the console's last lines when there is none. */
  function section(name: string): string {
    if (!record) throw new Error(`nothing was baked, nothing booted:\n${bakeLog()}`);
    return reportSection(booted, name);
  }

  it("the baked image boots with the seed: cloud-init found it and finished without errors", () => {
    expect(section("boot-finished"), `${section("cloud-init-status")}\n${section("ds-identify")}`).toMatch(/^yes /);
    expect(booted.boot.timedOut).toBe(false);
    const status = section("cloud-init-status");
    expect(status, `${status}\n${section("cloud-init-warnings")}`).toMatch(/^status: done$/m);
    const result = JSON.parse(section("result.json")) as { v1: { datasource: string; errors: string[] } };
    expect(result.v1.errors, section("cloud-init-warnings")).toEqual([]);
    expect(result.v1.datasource).toMatch(/^DataSourceNoCloud \[seed=\/dev\/sr0\]/);
    expect(section("instance-id")).toBe(seed.instanceId);
    expect(section("hostname")).toBe(NODE);
    // the build user is gone: the seed's user is the only login
    expect(section("users").split("\n")).toEqual([USER]);
  });

  it("wrote the three files with their modes, byte for byte, and runs keepalived and haproxy", () => {
    expect(section("files").split("\n")).toEqual([
      "640 root:root /etc/keepalived/keepalived.conf",
      "755 root:root /etc/keepalived/check_apiserver.sh",
      "644 root:root /etc/haproxy/haproxy.cfg",
    ]);
    const files = join(out, "nodes", NODE, "files");
    expect(section("sha256").split("\n")).toEqual([
      `${sha256(readFileSync(join(files, "keepalived.conf")))}  /etc/keepalived/keepalived.conf`,
      `${sha256(readFileSync(join(files, "check_apiserver.sh")))}  /etc/keepalived/check_apiserver.sh`,
      `${sha256(readFileSync(join(files, "haproxy.cfg")))}  /etc/haproxy/haproxy.cfg`,
    ]);
    expect(section("is-active").split("\n"), section("journal")).toEqual(["active", "active"]);
    expect(section("is-enabled").split("\n")).toEqual(["enabled", "enabled"]);
  });

  it("has the seed's address, holds the VIP, and the firewall lets in SSH, the peer and the LB port", () => {
    expect(section("addresses")).toContain(`inet ${ADDRESS}/24 `);
    expect(section("routes")).toMatch(/^default via 10\.0\.2\.1 dev eth0/m);
    expect(section("vip"), section("journal")).toBe("yes");
    expect(section("check-script").split("\n").pop(), section("check-script")).toBe("exit 0");
    expect(section("lb-vip")).toBe("ok exit 0");
    const rules = section("ufw").split("\n");
    expect(rules).toContain("ENABLED=yes");
    expect(rules).toContain("-A ufw-user-input -p tcp -m tcp --dport 22 -j ACCEPT");
    expect(rules).toContain("-A ufw-user-input -p tcp -m tcp --dport 6443 -j ACCEPT");
    expect(rules).toContain(
      `-A ufw-user-input -s ${PEER}/32 -p tcp -m multiport --dports 2379:2380,10250,10257,10259 -j ACCEPT`,
    );
    expect(rules).toContain(`-A ufw-user-input -s ${PEER}/32 -d 224.0.0.18/32 -j ACCEPT`);
    expect(rules).toContain(`-A ufw-user-input -p tcp -m tcp --dport ${LB_PORT} -j ACCEPT`);
  });
});

// The generalisation scripts run for real: 90-generalize.sh and 99-shutdown.sh, as rendered into
// out/packer/, in a chroot of a copy of the Debian 12 stand-in that the boot test boots
// (scripts/build-boot-rootfs.sh, cached; its disk.img is copied out with debugfs, never mounted
// or changed). The copy is dressed as a freshly installed build VM: subiquity's and curtin's
// leftovers, netplan files, the build user, sshd's password login from cloud-init, host keys.
// Each check the scripts make is shown to fail the bake on a bad image first, then to pass.
// What a chroot cannot show (journald's rotation, the power-off) is replaced by a recorder.
import { execFile, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadPackerAssets } from "../../src/packer/assets.js";
import { renderPacker } from "../../src/packer/render.js";
import { ROOT } from "../helpers/cli.js";
import { haveTools, IN_CI, isRoot } from "../helpers/tools.js";
import { DEFAULT_IMAGE } from "./helpers.js";

const BUILD_SCRIPT = join(ROOT, "scripts/build-boot-rootfs.sh");
/** A first build of the stand-in (debootstrap) takes minutes; later runs find it cached. */
const BUILD_TIMEOUT_MS = 30 * 60_000;

function prerequisites(): boolean {
  if (!isRoot()) {
    if (IN_CI) throw new Error("the generalisation test must run as root in CI (chroot)");
    process.stderr.write("\n!!!!! SKIPPING the generalisation test: it needs root (chroot) !!!!!\n\n");
    return false;
  }
  return haveTools("debootstrap", "debugfs", "chroot", "mkfs.ext4", "flock");
}

const ready = prerequisites();
let root = "";
let work = "";
/** Uploaded after 90-generalize, as Packer's file provisioner does (90 empties /tmp). */
let shutdownScript = "";

function buildRootfs(): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      "bash",
      [BUILD_SCRIPT],
      { timeout: BUILD_TIMEOUT_MS, killSignal: "SIGTERM", maxBuffer: 64 << 20 },
      (error, stdout, stderr) => {
        if (error)
          reject(
            new Error(`build-boot-rootfs.sh failed: ${error.message}\n${stderr.split("\n").slice(-20).join("\n")}`),
          );
        else resolve(stdout.trim().split("\n").pop()!);
      },
    );
  });
}

const at = (path: string) => join(root, path);
function put(path: string, contents: string, mode = 0o644): void {
  mkdirSync(join(at(path), ".."), { recursive: true });
  writeFileSync(at(path), contents, { mode });
  chmodSync(at(path), mode);
}
function inChroot(...command: string[]): { status: number | null; out: string } {
  const result = spawnSync("chroot", [root, ...command], {
    env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", LANG: "C.UTF-8", HOME: "/root" },
    encoding: "utf8",
    timeout: 120_000,
  });
  return { status: result.status, out: `${result.stdout}${result.stderr}` };
}
const generalize = () => inChroot("/bin/sh", "/tmp/90-generalize.sh");
const shutdown = () => inChroot("/bin/sh", "/tmp/k8s-ha-shutdown.sh");

describe.skipIf(!ready)("generalisation scripts in a chroot of the Debian 12 stand-in", { timeout: 180_000 }, () => {
  beforeAll(async () => {
    const rootfs = await buildRootfs();
    work = await mkdtemp("/var/tmp/k8s-ha-generalize-");
    root = join(work, "root");
    mkdirSync(root);
    const dump = spawnSync("debugfs", ["-R", `rdump / ${root}`, join(rootfs, "disk.img")], { encoding: "utf8" });
    if (dump.status !== 0) throw new Error(`debugfs rdump failed: ${dump.stderr}`);

    // The scripts exactly as build-image writes them to out/packer/ (and Packer uploads them).
    const rendered = renderPacker({
      clusterName: "lab",
      image: DEFAULT_IMAGE,
      os: "ubuntu-20.04",
      assets: await loadPackerAssets(),
    });
    const script = (name: string) => String(rendered.find((a) => a.path === `packer/scripts/${name}`)?.contents);
    put("tmp/90-generalize.sh", script("90-generalize.sh"), 0o755);
    shutdownScript = script("99-shutdown.sh");

    // A build VM as the installer leaves it.
    const cfg = "etc/cloud/cloud.cfg.d";
    put(`${cfg}/99-installer.cfg`, "datasource_list: [ None ]\n");
    put(`${cfg}/subiquity-disable-cloudinit-networking.cfg`, "network: {config: disabled}\n");
    put(`${cfg}/curtin-preserve-sources.cfg`, "apt: {preserve_sources_list: true}\n");
    put(`${cfg}/90-k8s-ha-datasource.cfg`, "datasource_list: [ NoCloud, None ]\n"); // the old name
    // What the cloud-init package writes from debconf (Debian and Ubuntu); sorts after "90-…".
    put(`${cfg}/90_dpkg.cfg`, "datasource_list: [ NoCloud, ConfigDrive, OpenStack, Ec2, None ]\n");
    put("etc/cloud/ds-identify.cfg", "policy: enabled\n");
    put("etc/netplan/00-installer-config.yaml", "network: {version: 2, ethernets: {enp0s3: {dhcp4: true}}}\n", 0o600);
    put("etc/netplan/50-cloud-init.yaml", "network: {version: 2}\n", 0o600);
    put("etc/default/grub", 'GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT="quiet"\nGRUB_CMDLINE_LINUX=""\n');
    put("etc/ssh/sshd_config.d/50-cloud-init.conf", "PasswordAuthentication yes\n");
    put("etc/machine-id", "0123456789abcdef0123456789abcdef\n", 0o444);
    put("var/log/installer-test.log", "the build's log\n");
    put("var/log/journal/0123/system.journal", "journald's open file\n");
    put("var/lib/cloud/seed/nocloud-net/user-data", "#cloud-config\n");
    mkdirSync(at("run/sshd"), { recursive: true }); // systemd makes it on a running system
    // The few device nodes the tools open (the image's /dev is empty until devtmpfs is mounted).
    for (const [name, minor] of [
      ["null", 3],
      ["zero", 5],
      ["random", 8],
      ["urandom", 9],
    ] as const) {
      const made = spawnSync("mknod", ["-m", "666", at(`dev/${name}`), "c", "1", String(minor)], { encoding: "utf8" });
      if (made.status !== 0) throw new Error(`mknod /dev/${name}: ${made.stderr}`);
    }
    const keys = inChroot("ssh-keygen", "-A");
    expect(keys.status, keys.out).toBe(0);
    const user = inChroot("useradd", "--create-home", "--shell", "/bin/sh", "packer");
    expect(user.status, user.out).toBe(0);
    put("etc/sudoers.d/90-k8s-ha-build", "packer ALL=(ALL) NOPASSWD:ALL\n", 0o440);
    // The power-off, recorded instead of done.
    rmSync(at("usr/sbin/shutdown"), { force: true });
    put("usr/sbin/shutdown", '#!/bin/sh\necho "$*" >/shutdown-called\n', 0o755);
  }, BUILD_TIMEOUT_MS);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("90-generalize fails the bake when a cloud.cfg.d file would override its datasource_list", () => {
    put("etc/cloud/cloud.cfg.d/99_zz-local.cfg", "datasource_list: [ Ec2 ]\n");
    const run = generalize();
    rmSync(at("etc/cloud/cloud.cfg.d/99_zz-local.cfg"));
    expect(run.status, run.out).toBe(1);
    expect(run.out).toContain(
      "99_zz-local.cfg sorts after 99_k8s-ha-datasource.cfg and would override its datasource_list",
    );
  });

  it("90-generalize fails the bake when cloud.cfg.d has a top-level network: key", () => {
    put("etc/cloud/cloud.cfg.d/50-net.cfg", "network:\n  version: 2\n");
    const run = generalize();
    rmSync(at("etc/cloud/cloud.cfg.d/50-net.cfg"));
    expect(run.status).toBe(1);
    expect(run.out).toContain("50-net.cfg has a top-level network: key");
  });

  it("90-generalize fails the bake when curtin carried the autoinstall arguments into GRUB", () => {
    const grub = readFileSync(at("etc/default/grub"), "utf8");
    put("etc/default/grub", grub.replace('"quiet"', '"quiet autoinstall ds=nocloud-net;s=http://10.0.2.2:8080/"'));
    const run = generalize();
    put("etc/default/grub", grub);
    expect(run.status).toBe(1);
    expect(run.out).toContain("/etc/default/grub passes the installer's autoinstall arguments to every boot");
  });

  it("90-generalize leaves a template: seedable cloud-init, no network files, no identity, intact journal", () => {
    const run = generalize();
    expect(run.out, run.out).toContain("90-generalize: done");
    expect(run.status).toBe(0);
    const cfgs = readdirSync(at("etc/cloud/cloud.cfg.d")).sort();
    for (const gone of [
      "99-installer.cfg",
      "subiquity-disable-cloudinit-networking.cfg",
      "curtin-preserve-sources.cfg",
      "90-k8s-ha-datasource.cfg",
    ]) {
      expect(cfgs).not.toContain(gone);
    }
    expect(existsSync(at("etc/cloud/ds-identify.cfg"))).toBe(false);
    expect(cfgs.filter((f) => f.endsWith(".cfg")).at(-1)).toBe("99_k8s-ha-datasource.cfg");
    expect(readFileSync(at("etc/cloud/cloud.cfg.d/99_k8s-ha-datasource.cfg"), "utf8")).toContain(
      "datasource_list: [ NoCloud, None ]",
    );
    // cloud-init itself, reading the merged config as a clone's first boot will.
    const merged = inChroot(
      "python3",
      "-c",
      "from cloudinit import util; print(util.read_conf_with_confd('/etc/cloud/cloud.cfg')['datasource_list'])",
    );
    expect(merged.out.trim()).toBe("['NoCloud', 'None']");
    expect(existsSync(at("var/lib/cloud/seed/nocloud-net"))).toBe(false);
    expect(readdirSync(at("etc/netplan")).filter((f) => f.endsWith(".yaml"))).toEqual([]);
    expect(readFileSync(at("etc/machine-id"), "utf8")).toBe("");
    expect(readFileSync(at("etc/hostname"), "utf8")).toBe("localhost\n");
    expect(readFileSync(at("var/log/installer-test.log"), "utf8")).toBe("");
    expect(readFileSync(at("var/log/journal/0123/system.journal"), "utf8")).toBe("journald's open file\n");
  });

  it("99-shutdown refuses to power off while sshd would still take passwords", () => {
    put("tmp/k8s-ha-shutdown.sh", shutdownScript, 0o755);
    put("etc/ssh/sshd_config.d/40-local.conf", "PasswordAuthentication yes\n");
    const run = shutdown();
    rmSync(at("etc/ssh/sshd_config.d/40-local.conf"));
    expect(run.status).toBe(1);
    expect(run.out).toContain("sshd would still accept passwords (sshd -T: 'passwordauthentication yes')");
    expect(existsSync(at("shutdown-called"))).toBe(false);
    expect(readdirSync(at("etc/ssh")).some((f) => f.startsWith("ssh_host_"))).toBe(true);
  });

  it("99-shutdown: no password logins, no host keys, no build user, then the power-off", () => {
    const run = shutdown();
    expect(run.status, run.out).toBe(0);
    expect(readFileSync(at("shutdown-called"), "utf8")).toBe("-P now\n");
    expect(existsSync(at("etc/ssh/sshd_config.d/50-cloud-init.conf"))).toBe(false);
    expect(readdirSync(at("etc/ssh")).filter((f) => f.startsWith("ssh_host_"))).toEqual([]);
    expect(readFileSync(at("etc/passwd"), "utf8")).not.toMatch(/^packer:/m);
    expect(existsSync(at("home/packer"))).toBe(false);
    expect(existsSync(at("etc/sudoers.d/90-k8s-ha-build"))).toBe(false);
    expect(existsSync(at("tmp/k8s-ha-shutdown.sh"))).toBe(false);
    // sshd's effective setting, asked again with a throwaway host key (the image has none now).
    expect(inChroot("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", "/tmp/hk").status).toBe(0);
    expect(inChroot("sshd", "-T", "-h", "/tmp/hk").out).toMatch(/^passwordauthentication no$/m);
  });
});

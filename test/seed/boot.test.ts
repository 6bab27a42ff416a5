// A real first boot (issue 3, item 5) and a re-seed (issue 19). scripts/build-boot-rootfs.sh
// builds (once per machine, cached) a small Debian 12 system that plays the golden image:
// cloud-init, keepalived, haproxy, curl, ufw installed, nothing configured, no SSH host keys; plus
// a stand-in kube-apiserver and a report unit. The test seeds one node of a two-node spec with the
// built CLI and boots that system under qemu with the seed ISO as its CD-ROM and the two NICs of
// the common VirtualBox lab: eth0 plays the NAT adapter (qemu's user-mode network: DHCP 10.0.2.15,
// gateway 10.0.2.2, DNS 10.0.2.3), eth1 the host-only cluster NIC (a qemu hub with no other port).
// qemu runs in a network namespace that the test creates with only `lo`: nothing leaves the
// machine. The report unit waits for /var/lib/cloud/instance/boot-finished, prints a marked
// report on the second serial port and powers off; the assertions read that report.
// Then the spec's firewall.allow loses a port, `k8s-ha seed` runs again, and the SAME disk (a
// qcow2 overlay the first boot wrote) boots with the new ISO: a new instance for cloud-init.
import { spawnSync, type ChildProcess } from "node:child_process";
import { closeSync, constants, openSync, readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, runCli, tempDir } from "../helpers/cli.js";
import { specYaml } from "../helpers/specs.js";
import { haveTools, IN_CI, isRoot } from "../helpers/tools.js";
import {
  bootForReport,
  bootTimeoutMs,
  createIsolatedNetns,
  deleteNetns,
  earlyStallMs,
  kernelCommandLine,
  reportSection,
  runDetached,
  type BootOptions,
  type ReportedBoot,
} from "../helpers/vm-boot.js";
import { namespaceLinks } from "../../src/up/network.js";
import { sha256 } from "../../src/write/hash.js";

const BUILD_SCRIPT = join(ROOT, "scripts/build-boot-rootfs.sh");
const NODE = "master01";
/** VirtualBox's host-only network; the NAT side is qemu's 10.0.2.0/24. */
const VIP = "192.168.56.100";
const ADDRESS = "192.168.56.10";
const PEER = "192.168.56.11";
const CLUSTER_SUBNET = "192.168.56.0/24";
const CLUSTER_NIC = "eth1";
const DHCP_NIC = "eth0";
const LB_PORT = 1644;
const USER = "ops";
/** firewall.allow at the first boot; the re-seed drops the second rule. */
const FLANNEL = { port: "8472/udp", from: CLUSTER_SUBNET };
const REMOVED = "4240/tcp";

/** Root (debootstrap, chroot, file owners in the image) and the programs; in CI both are required. */
function prerequisites(): boolean {
  if (!isRoot()) {
    if (IN_CI) throw new Error("the VM boot test must run as root in CI (debootstrap, chroot)");
    process.stderr.write("\n!!!!! SKIPPING the VM boot test: it needs root (debootstrap, chroot) !!!!!\n\n");
    return false;
  }
  return haveTools("debootstrap", "qemu-system-x86_64", "qemu-img", "ip", "mkfs.ext4", "flock", "setpriv");
}

/**
 * KVM only where it works: /dev/kvm opens for read and write, the CPU has vmx or svm, and a probe
 * boot reaches the kernel's first message within 20 s. Some nested hosts have a /dev/kvm on which
 * qemu aborts (MSR errors) or the guest hangs before its first line; they get TCG, which is slower
 * but gives the same result. K8S_HA_TEST_ACCEL=kvm|tcg overrides the probe.
 */
function kvmUsable(image: string): boolean {
  const forced = process.env.K8S_HA_TEST_ACCEL;
  if (forced === "kvm" || forced === "tcg") return forced === "kvm";
  try {
    closeSync(openSync("/dev/kvm", constants.O_RDWR));
  } catch {
    return false;
  }
  if (!/^flags\s*:.*\b(vmx|svm)\b/m.test(readFileSync("/proc/cpuinfo", "utf8"))) return false;
  // qemu prints the serial console on stdout here; the probe has no disk, so its kernel panics
  // and, with -no-reboot, qemu exits. spawnSync's timeout stops it otherwise.
  const probe = spawnSync(
    "qemu-system-x86_64",
    [
      "-machine",
      "pc,accel=kvm",
      "-cpu",
      "host",
      "-m",
      "256",
      "-nodefaults",
      "-no-user-config",
      "-display",
      "none",
      "-no-reboot",
      "-kernel",
      join(image, "vmlinuz"),
      "-append",
      "console=ttyS0 panic=-1",
      "-serial",
      "stdio",
    ],
    { encoding: "utf8", timeout: 20_000, killSignal: "SIGKILL" },
  );
  return /Linux version/.test(probe.stdout ?? "");
}

const canBoot = prerequisites();
const BUILD_TIMEOUT_MS = 40 * 60_000;
const oneBootMs = (kvm: boolean) => earlyStallMs(kvm) + bootTimeoutMs(kvm);
/** The ceiling for one boot with KVM or without, whichever is longer, plus a minute for the CLI. */
const BOOT_HOOK_MS = Math.max(oneBootMs(false), oneBootMs(true)) + 60_000;

/** The spec of the two-node lab, master01 of which boots; `allow` is its firewall.allow. */
function labSpec(allow: unknown[]): string {
  return specYaml((s) => {
    s.metadata.name = "boot";
    s.spec.vip = VIP;
    // no gateway: the default route and DNS come from the DHCP NIC
    s.spec.network = { interface: CLUSTER_NIC, prefixLength: 24, dhcpInterfaces: [DHCP_NIC] };
    s.spec.nodes = [
      { name: NODE, address: ADDRESS },
      { name: "master02", address: PEER },
    ];
    s.spec.installPackages = false; // the image plays the golden image: no apt at boot
    s.spec.firewall = { enabled: true, allowSsh: true, allow };
    s.spec.users = [
      {
        name: USER,
        sshAuthorizedKeys: [
          "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMQOqA/g+Q2Og5yWI588HYHVroOOL/NjApqNbKN/deM4 ops@laptop",
        ],
      },
    ];
  });
}

/** `ufw status verbose` lines for IPv4 rules on `to` (the "(v6)" twins end differently). */
function ufwRule(status: string, to: string): string[] {
  return status.split("\n").filter((line) => line.startsWith(`${to} `) && !line.includes("(v6)"));
}

describe.skipIf(!canBoot)("first boot of a seeded node with two NICs under qemu, then a re-seed", () => {
  const netns = `k8s-ha-boot-${process.pid}`;
  let kvm = false;
  let dir = "";
  let cleanup = () => {};
  let spec = "";
  let out = "";
  let stopBuild = () => {};
  let vm: ChildProcess | undefined;
  let linksBeforeBoot: string[] = [];
  let options: BootOptions;
  let seed: { instanceId: string; absolutePath: string };
  let first: ReportedBoot;

  async function seedNode(allow: unknown[]): Promise<{ instanceId: string; absolutePath: string }> {
    await writeFile(spec, labSpec(allow));
    const seeded = await runCli(["seed", spec, "-o", out, "--node", NODE, "--json"]);
    if (seeded.code !== 0) throw new Error(`k8s-ha seed failed:\n${seeded.stderr}`);
    return (JSON.parse(seeded.stdout) as { seeds: { instanceId: string; absolutePath: string }[] }).seeds[0]!;
  }

  beforeAll(
    async () => {
      ({ dir, cleanup } = tempDir("k8s-ha-boot-"));
      const build = runDetached("bash", [BUILD_SCRIPT], { timeoutMs: BUILD_TIMEOUT_MS });
      stopBuild = build.stop;
      const built = await build.done;
      if (built.code !== 0)
        throw new Error(
          `build-boot-rootfs.sh ended with ${built.signal ?? `exit ${built.code}`}:\n${built.stderr.split("\n").slice(-40).join("\n")}`,
        );
      const image = built.stdout.trim().split("\n").pop()!;
      spec = join(dir, "k8s-ha.yaml");
      out = join(dir, "out");
      seed = await seedNode([FLANNEL, REMOVED]);
      // Both boots write this overlay; the cached image under it is only read.
      const overlay = join(dir, "node.qcow2");
      const created = spawnSync(
        "qemu-img",
        ["create", "-q", "-f", "qcow2", "-F", "raw", "-b", join(image, "disk.img"), overlay],
        { encoding: "utf8" },
      );
      if (created.status !== 0) throw new Error(`qemu-img create: ${created.stderr}`);
      createIsolatedNetns(netns);
      linksBeforeBoot = await namespaceLinks("ip", netns);
      kvm = kvmUsable(image);
      const timeoutMs = bootTimeoutMs(kvm);
      options = {
        kernel: join(image, "vmlinuz"),
        initrd: join(image, "initrd.img"),
        disk: { path: overlay, format: "qcow2", persistent: true },
        append: kernelCommandLine("/dev/vda", {
          vip: VIP,
          iface: CLUSTER_NIC,
          lbPort: LB_PORT,
          waitS: Math.floor(timeoutMs / 1000),
        }),
        cdrom: seed.absolutePath,
        dir: join(dir, "first-boot"),
        kvm,
        timeoutMs,
        earlyStallMs: earlyStallMs(kvm),
        nics: ["user", "isolated"], // eth0: the NAT adapter; eth1: the cluster NIC
        netns,
        onStart: (child) => (vm = child),
      };
      first = await bootForReport(options, "boot");
    },
    BUILD_TIMEOUT_MS + BOOT_HOOK_MS + 60_000,
  );

  afterAll(async () => {
    stopBuild();
    vm?.kill("SIGKILL");
    deleteNetns(netns);
    cleanup();
  });

  const section = (name: string) => reportSection(first, name);

  it("qemu ran in a namespace with only lo: the user-mode network had no way out", () => {
    expect(linksBeforeBoot).toEqual(["lo"]);
  });

  it("powers off by itself, in time, after printing its report", () => {
    section("boot-finished");
    expect(first.boot.timedOut).toBe(false);
    expect(first.boot.code).toBe(0);
  });

  it("cloud-init found the seed (NoCloud, on the CD-ROM) and finished without errors", () => {
    // "no": cloud-init disabled itself (ds-identify saw no cidata volume) or never finished
    expect(section("boot-finished"), `${section("cloud-init-status")}\n${section("ds-identify")}`).toMatch(/^yes /);
    const status = section("cloud-init-status");
    expect(status, `${status}\n${section("cloud-init-warnings")}`).toMatch(/^status: done$/m);
    const result = JSON.parse(section("result.json")) as { v1: { datasource: string; errors: string[] } };
    expect(result.v1.errors, section("cloud-init-warnings")).toEqual([]);
    expect(result.v1.datasource).toMatch(/^DataSourceNoCloud \[seed=\/dev\/sr0\]/);
    expect(section("instance-id")).toBe(seed.instanceId);
    expect(section("hostname")).toBe(NODE);
    expect(section("users").split("\n")).toContain(USER);
  });

  it("wrote the three files with their modes, owner root, byte for byte", () => {
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
  });

  it("keepalived and haproxy are enabled and active; haproxy's worker runs as haproxy in its chroot", () => {
    expect(section("is-active").split("\n"), section("journal")).toEqual(["active", "active"]);
    expect(section("is-enabled").split("\n")).toEqual(["enabled", "enabled"]);
    // the master (root) reads the config and binds; the worker that carries the traffic drops root
    const processes = section("haproxy-processes").split("\n");
    expect(processes).toContain("master root /");
    expect(processes.filter((p) => p.startsWith("worker "))).toEqual(["worker haproxy /var/lib/haproxy"]);
  });

  it("cloud-init rendered network-config with netplan, for systemd-networkd", () => {
    const renderer = section("network-renderer");
    expect(renderer).toMatch(/^Selected renderer 'netplan'$/m);
    expect(renderer).toMatch(/^50-cloud-init\.yaml$/m);
    // ls puts several names on one line
    expect(renderer.split(/\s+/)).toEqual(
      expect.arrayContaining([`10-netplan-${DHCP_NIC}.network`, `10-netplan-${CLUSTER_NIC}.network`]),
    );
  });

  it("the DHCP NIC has VirtualBox NAT's address, the only default route and the DNS server", () => {
    expect(section("all-addresses")).toMatch(new RegExp(`^\\d+: ${DHCP_NIC}\\s+inet 10\\.0\\.2\\.15/24 `, "m"));
    const defaults = section("routes")
      .split("\n")
      .filter((line) => line.startsWith("default"));
    expect(defaults, section("routes")).toHaveLength(1);
    expect(defaults[0]).toMatch(new RegExp(`^default via 10\\.0\\.2\\.2 dev ${DHCP_NIC} `));
    expect(section("networkctl")).toMatch(/DNS: 10\.0\.2\.3\b/);
  });

  it("the cluster NIC has the static address and the VIP, and the load balancer answers through it", () => {
    const addresses = section("all-addresses");
    expect(addresses).toMatch(new RegExp(`^\\d+: ${CLUSTER_NIC}\\s+inet ${ADDRESS.replace(/\./g, "\\.")}/24 `, "m"));
    expect(section("vip"), section("journal")).toBe("yes");
    expect(addresses).toMatch(new RegExp(`^\\d+: ${CLUSTER_NIC}\\s+inet ${VIP.replace(/\./g, "\\.")}/24 `, "m"));
    expect(section("journal")).toContain("(k8s_apiserver) Entering MASTER STATE");
    // the report runs the check up to five times: without KVM one run can exceed curl's 2 s
    expect(section("check-script").split("\n").pop(), section("check-script")).toBe("exit 0");
    expect(section("lb-local")).toBe("ok exit 0");
    expect(section("lb-vip")).toBe("ok exit 0");
  });

  it("ufw is active, allows routed traffic and lists SSH, kubeadm's ports, VRRP from the peer, the LB port and firewall.allow", () => {
    const status = section("ufw-status");
    expect(status).toMatch(/^Status: active$/m);
    // "allow (routed)" needs forwarding on in the kernel too (the image has net.ipv4.ip_forward = 1,
    // as the Kubernetes image does); ufw shows "disabled (routed)" otherwise, whatever its policy
    expect(status).toMatch(/^Default: deny \(incoming\), allow \(outgoing\), allow \(routed\)$/m);
    expect(section("ufw-routed").split("\n")).toEqual(['DEFAULT_FORWARD_POLICY="ACCEPT"', "-P FORWARD ACCEPT"]);
    const allowIn = (to: string, from: string) =>
      expect(
        ufwRule(status, to).some((line) =>
          new RegExp(`\\sALLOW IN\\s+${from.replace(/\./g, "\\.")}(\\s|$)`).test(line),
        ),
        `${to} from ${from}:\n${status}`,
      ).toBe(true);
    allowIn("22/tcp", "Anywhere");
    allowIn("6443/tcp", "Anywhere");
    allowIn(`${LB_PORT}/tcp`, "Anywhere");
    allowIn("2379:2380,10250,10257,10259/tcp", PEER);
    allowIn("224.0.0.18", PEER);
    allowIn(FLANNEL.port, CLUSTER_SUBNET);
    allowIn(REMOVED, "Anywhere");
    // and what ufw loaded into the kernel
    const rules = section("ufw").split("\n");
    expect(rules).toContain("ENABLED=yes");
    expect(rules).toContain(
      `-A ufw-user-input -s ${PEER}/32 -p tcp -m multiport --dports 2379:2380,10250,10257,10259 -j ACCEPT`,
    );
    expect(rules).toContain(`-A ufw-user-input -s ${PEER}/32 -d 224.0.0.18/32 -j ACCEPT`);
  });

  it("cloud-init generated the node's own SSH host key (the image has none)", () => {
    expect(section("ssh-host-keys")).toMatch(/^256 SHA256:\S+ root@\S+ \(ED25519\)$/m);
  });

  describe("after firewall.allow loses a port: re-seeded, the same disk boots again", () => {
    let reseed: { instanceId: string; absolutePath: string };
    let second: ReportedBoot;

    beforeAll(async () => {
      reseed = await seedNode([FLANNEL]);
      // the first boot's own failures are reported above; without its report there is no "before"
      if (!first?.report) return;
      second = await bootForReport(
        { ...options, cdrom: reseed.absolutePath, dir: join(dir, "second-boot") },
        "reseed-boot",
      );
    }, BOOT_HOOK_MS);

    const again = (name: string) => {
      if (!second) throw new Error("the re-seed boot did not run: the first boot gave no report");
      return reportSection(second, name);
    };

    it("cloud-init ran the new seed as a new instance and finished without errors", () => {
      expect(reseed.instanceId).not.toBe(seed.instanceId);
      expect(again("boot-finished")).toMatch(/^yes /);
      expect(again("cloud-init-status"), again("cloud-init-warnings")).toMatch(/^status: done$/m);
      const result = JSON.parse(again("result.json")) as { v1: { errors: string[] } };
      expect(result.v1.errors, again("cloud-init-warnings")).toEqual([]);
      expect(again("instance-id")).toBe(reseed.instanceId);
    });

    it("the removed port is closed; the rules the spec still has are there", () => {
      const status = again("ufw-status");
      expect(status).toMatch(/^Status: active$/m);
      expect(ufwRule(status, REMOVED), status).toEqual([]);
      expect(again("ufw")).not.toMatch(/--dport 4240\b/);
      expect(ufwRule(status, FLANNEL.port).join("\n"), status).toContain(CLUSTER_SUBNET);
      expect(ufwRule(status, "6443/tcp"), status).toHaveLength(1);
    });

    it("kept the SSH host keys of the first boot", () => {
      expect(again("ssh-host-keys")).toBe(section("ssh-host-keys"));
    });
  });
});

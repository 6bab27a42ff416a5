// The pure parts of `up`: lab seeds (accepted by the real cloud-init, never the production seed),
// the qemu command line (NIC slots give the guest the spec's interface names), the host address.
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { renderNodes } from "../../src/render/index.js";
import { labArtifacts, labUserData } from "../../src/up/lab-seed.js";
import { nicSlot } from "../../src/up/nic-slot.js";
import { hostAddress } from "../../src/up/qemu-provider.js";
import { qemuArgs } from "../../src/up/qemu.js";
import { vmPaths } from "../../src/up/layout.js";
import { tempDir } from "../helpers/cli.js";
import { planOf } from "../helpers/plan.js";
import { haveTools } from "../helpers/tools.js";

const plan = planOf((s) => {
  s.spec.network.interface = "enp0s8";
});
const userDataOf = (artifacts: { path: string; contents: string | Uint8Array }[], node: string) =>
  String(artifacts.find((a) => a.path === `nodes/${node}/user-data`)!.contents);
const metaDataOf = (artifacts: { path: string; contents: string | Uint8Array }[], node: string) =>
  String(artifacts.find((a) => a.path === `nodes/${node}/meta-data`)!.contents);

describe("lab seeds", () => {
  const production = renderNodes(plan);
  const lab = labArtifacts(plan, production);

  it("keep everything of the production user-data and add the stand-in apiserver and the agent", () => {
    const before = parse(userDataOf(production, "master01")) as Record<string, any>;
    const after = parse(userDataOf(lab, "master01")) as Record<string, any>;
    expect(userDataOf(lab, "master01").startsWith("#cloud-config\n")).toBe(true);
    expect(after.write_files.slice(0, before.write_files.length)).toEqual(before.write_files);
    expect(after.write_files.map((f: { path: string }) => f.path)).toContain("/usr/local/sbin/k8s-ha-lab-agent");
    expect(after.runcmd.slice(0, before.runcmd.length)).toEqual(before.runcmd);
    expect(after.runcmd.at(-2)).toEqual(["systemctl", "enable", "--now", "k8s-ha-lab-apiserver.service", "k8s-ha-lab-agent.service"]);
    expect(after.write_files.find((f: { path: string }) => f.path.endsWith("apiserver.service")).content).toContain(`k8s-ha-lab-apiserver ${plan.apiserverPort}\n`);
  });

  it("never touch the production artifacts, and get their own instance-id", () => {
    expect(userDataOf(production, "master01")).not.toContain("k8s-ha-lab");
    expect(metaDataOf(lab, "master01")).not.toEqual(metaDataOf(production, "master01"));
  });

  it.skipIf(!haveTools("cloud-init"))("pass cloud-init's schema check", async () => {
    const { dir, cleanup } = await tempDir("k8s-ha-lab-seed-");
    try {
      const file = join(dir, "user-data");
      writeFileSync(file, labUserData(plan, plan.nodes[0]!, userDataOf(production, "master01")));
      expect(execFileSync("cloud-init", ["schema", "-c", file], { encoding: "utf8" })).toMatch(/Valid cloud-config/);
    } finally {
      await cleanup();
    }
  });
});

describe("qemu command line", () => {
  const args = qemuArgs({
    name: "master01",
    paths: vmPaths("/tmp/x", "master01"),
    accel: "tcg",
    cpus: 1,
    memoryMiB: 768,
    nics: [
      { slot: 8, mac: "52:54:00:4b:00:01", kind: { tap: "k8sha-tap0" } },
      { slot: 3, mac: "52:54:00:4b:01:01", kind: { user: true } },
    ],
    agent: true,
  });
  const joined = args.join(" ");

  it("places each NIC at the PCI slot its name asks for, before any other device", () => {
    expect(joined).toContain("-netdev tap,id=net0,ifname=k8sha-tap0,script=no,downscript=no -device virtio-net-pci,netdev=net0,mac=52:54:00:4b:00:01,addr=0x8");
    expect(joined).toContain("-netdev user,id=net1 -device virtio-net-pci,netdev=net1,mac=52:54:00:4b:01:01,addr=0x3");
    expect(args.indexOf("-netdev")).toBeLessThan(args.indexOf("-drive"));
    expect(joined).toContain("PIIX4_PM.acpi-root-pci-hotplug=off");
  });

  it("boots UEFI from the overlay with the seed as CD-ROM, and runs as a daemon", () => {
    expect(joined).toContain("-bios /usr/share/ovmf/OVMF.fd");
    expect(joined).toContain("file=/tmp/x/up/master01/disk.qcow2,format=qcow2,if=virtio");
    expect(joined).toContain("file=/tmp/x/up/master01/seed.iso,format=raw,media=cdrom,readonly=on");
    expect(joined).not.toContain("-kernel");
    expect(args.slice(-3)).toEqual(["-daemonize", "-pidfile", "/tmp/x/up/master01/qemu.pid"]);
  });

  it("names NICs enp0s<slot> and rejects names it cannot place", () => {
    expect(nicSlot("enp0s8", "f")).toBe(8);
    expect(() => nicSlot("eth0", "spec.network.interface")).toThrow(/enp0s<slot>/);
    expect(() => nicSlot("enp0s2", "f")).toThrow();
  });
});

describe("the host's address on the lab bridge", () => {
  it("is the spec's gateway, else the highest address no node and no VIP uses", () => {
    expect(hostAddress(plan)).toBe("10.0.2.1");
    const noGateway = planOf((s) => {
      delete s.spec.network.gateway;
      s.spec.nodes[1].address = "10.0.2.254";
    });
    expect(hostAddress(noGateway)).toBe("10.0.2.253");
  });
});

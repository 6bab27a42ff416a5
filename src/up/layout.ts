// Where `up` keeps what it makes, and the names it gives things. Everything lives under DIR/up/
// (one folder per VM) so that `down` can remove exactly that; the network namespace is named
// after the output folder, so two labs from two folders never share one.
import { createHash } from "node:crypto";
import { join, resolve } from "node:path";

export const UP_DIR = "up";
export const STATE_FILE = "state.json";
/** In a VM's folder: what `status --report` last read from the node's lab agent. */
export const REPORT_FILE = "report.txt";

export function upDir(outDir: string): string {
  return join(outDir, UP_DIR);
}

export function statePath(outDir: string): string {
  return join(upDir(outDir), STATE_FILE);
}

export interface VmPaths {
  dir: string;
  disk: string;
  seed: string;
  serialLog: string;
  qmp: string;
  agent: string;
  pidFile: string;
}

export function vmPaths(outDir: string, node: string): VmPaths {
  const dir = join(upDir(outDir), node);
  return {
    dir,
    disk: join(dir, "disk.qcow2"),
    seed: join(dir, "seed.iso"),
    serialLog: join(dir, "serial.log"),
    qmp: join(dir, "qmp.sock"),
    agent: join(dir, "agent.sock"),
    pidFile: join(dir, "qemu.pid"),
  };
}

/** "k8s-ha-<cluster>-<8 hex of the output folder>", cut to fit `ip netns` names comfortably. */
export function labNetns(cluster: string, outDir: string): string {
  const digest = createHash("sha256").update(resolve(outDir)).digest("hex").slice(0, 8);
  return `k8s-ha-${cluster.slice(0, 40)}-${digest}`;
}

export const BRIDGE = "k8sha-br0";

/**
 * The rootless lab's cluster segment: a multicast group and port on loopback that the VMs' qemu
 * processes share (qemu's socket network), from the output folder's hash as the namespace name
 * is, so two labs never share one. 239.255.0.0/16 is the IPv4 local scope (RFC 2365).
 */
export function labSegment(outDir: string): string {
  const digest = createHash("sha256").update(resolve(outDir)).digest();
  const port = 20_000 + (digest.readUInt16BE(2) % 40_000);
  return `239.255.${digest[0]}.${digest[1]}:${port}`;
}

export function tapName(index: number): string {
  return `k8sha-tap${index}`;
}

/** A locally administered MAC per node and NIC: 52:54:00 is qemu's prefix; the VIP holder is found by it. */
export function macAddress(index: number, nic: number): string {
  const hex = (n: number) => n.toString(16).padStart(2, "0");
  return `52:54:00:4b:${hex(nic)}:${hex(index + 1)}`;
}

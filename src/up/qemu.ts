// The qemu adapter: the command line of one lab VM (pure), starting it inside the lab's network
// namespace as a daemon, and stopping it through its QMP socket. A VM is a UEFI machine (OVMF)
// booting its own disk, a copy-on-write overlay of the golden qcow2; its seed is the CD-ROM, as
// VirtualBox users attach it; serial console to a file; QMP and the agent port on Unix sockets.
import { connect } from "node:net";
import { readFile } from "node:fs/promises";
import { ExternalError } from "../errors.js";
import { describeExit, run } from "../tools/run.js";
import { AGENT_PORT } from "./lab-seed.js";
import type { VmPaths } from "./layout.js";

export const OVMF = "/usr/share/ovmf/OVMF.fd";

export interface Nic {
  /** PCI slot: the guest calls the NIC enp0s<slot>. */
  slot: number;
  mac: string;
  /**
   * A tap on the lab bridge; qemu's multicast socket network on loopback ("group:port", the
   * rootless lab's segment); or qemu's user-mode network (NAT and DHCP, like VirtualBox NAT).
   */
  kind: { tap: string } | { segment: string } | { user: true };
}

export interface VmConfig {
  name: string;
  paths: VmPaths;
  accel: "kvm" | "tcg";
  cpus: number;
  memoryMiB: number;
  nics: Nic[];
  agent: boolean;
}

function netdev(id: string, kind: Nic["kind"]): string {
  if ("tap" in kind) return `tap,id=${id},ifname=${kind.tap},script=no,downscript=no`;
  // localaddr: the group is joined and sent to on loopback only, so frames never leave the host
  if ("segment" in kind) return `socket,id=${id},mcast=${kind.segment},localaddr=127.0.0.1`;
  return `user,id=${id}`;
}

export function qemuArgs(vm: VmConfig): string[] {
  const { paths } = vm;
  const args = [
    "-name",
    `k8s-ha-${vm.name}`,
    "-machine",
    `pc,accel=${vm.accel}`,
    "-cpu",
    vm.accel === "kvm" ? "host" : "max",
    "-smp",
    String(vm.cpus),
    "-m",
    String(vm.memoryMiB),
    "-nodefaults",
    "-no-user-config",
    "-display",
    "none",
    // no ACPI hot-plug slot numbers on the root bus: the guest names NICs enp0s<slot> (nic-slot.ts)
    "-global",
    "PIIX4_PM.acpi-root-pci-hotplug=off",
    "-bios",
    OVMF,
  ];
  // NICs first: their slots are fixed, every other device takes whatever slot is left
  vm.nics.forEach((nic, i) => {
    const id = `net${i}`;
    args.push(
      "-netdev",
      netdev(id, nic.kind),
      "-device",
      `virtio-net-pci,netdev=${id},mac=${nic.mac},addr=0x${nic.slot.toString(16)}`,
    );
  });
  args.push(
    "-drive",
    `file=${paths.disk},format=qcow2,if=virtio`,
    "-drive",
    `file=${paths.seed},format=raw,media=cdrom,readonly=on`,
    "-serial",
    `file:${paths.serialLog}`,
    "-qmp",
    `unix:${paths.qmp},server=on,wait=off`,
  );
  if (vm.agent) {
    args.push(
      "-device",
      "virtio-serial-pci",
      "-chardev",
      `socket,id=agent,path=${paths.agent},server=on,wait=off`,
      "-device",
      `virtserialport,chardev=agent,name=${AGENT_PORT}`,
    );
  }
  args.push("-daemonize", "-pidfile", paths.pidFile);
  return args;
}

/** Starts the VM, inside `netns` when the lab has one (qemu opens its taps there); resolves to qemu's pid. */
export async function startVm(
  ipPath: string,
  qemuPath: string,
  netns: string | undefined,
  vm: VmConfig,
): Promise<number> {
  const result = netns
    ? await run(ipPath, ["netns", "exec", netns, qemuPath, ...qemuArgs(vm)], { timeoutMs: 60_000 })
    : await run(qemuPath, qemuArgs(vm), { timeoutMs: 60_000 });
  if (result.code !== 0) {
    throw new ExternalError(
      `qemu could not start VM ${vm.name}: ${describeExit("qemu", result)}: ${result.stderr.trim()}`,
    );
  }
  const pid = Number((await readFile(vm.paths.pidFile, "utf8")).trim());
  if (!Number.isInteger(pid) || pid <= 0)
    throw new ExternalError(`qemu wrote no pid for VM ${vm.name} to ${vm.paths.pidFile}`);
  return pid;
}

/** True while a process with this pid runs and is a qemu (a pid can be reused after a reboot). */
export async function isQemu(pid: number | undefined): Promise<boolean> {
  if (pid === undefined) return false;
  try {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8");
    return cmdline.includes("qemu-system");
  } catch {
    return false;
  }
}

/** Sends one QMP command (after the capabilities handshake); resolves when qemu answered or hung up. */
export function qmp(
  socket: string,
  command: "quit" | "system_powerdown" | "query-status",
  timeoutMs = 10_000,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const conn = connect(socket);
    let buffer = "";
    let step = 0;
    const timer = setTimeout(() => {
      conn.destroy();
      reject(new ExternalError(`qemu's QMP socket ${socket} did not answer ${command} within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    const done = (value: string) => {
      clearTimeout(timer);
      conn.destroy();
      resolve(value);
    };
    conn.setEncoding("utf8");
    conn.on("data", (chunk: string) => {
      buffer += chunk;
      let newline: number;
      while ((newline = buffer.indexOf("\n")) !== -1) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        const message = JSON.parse(line) as { QMP?: unknown; return?: unknown; error?: { desc: string } };
        if (message.error) return done(`error: ${message.error.desc}`);
        if (step === 0 && message.QMP) {
          step = 1;
          conn.write(`${JSON.stringify({ execute: "qmp_capabilities" })}\n`);
        } else if (step === 1 && message.return !== undefined) {
          step = 2;
          conn.write(`${JSON.stringify({ execute: command })}\n`);
        } else if (step === 2 && message.return !== undefined) {
          return done(JSON.stringify(message.return));
        }
      }
    });
    // quit: qemu closes the socket as it exits
    conn.on("close", () => done(""));
    conn.on("error", (error) => {
      clearTimeout(timer);
      reject(new ExternalError(`cannot reach qemu's QMP socket ${socket}: ${error.message}`));
    });
  });
}

/** Waits up to `ms` for the process to end. */
export async function waitGone(pid: number, ms: number): Promise<boolean> {
  for (let waited = 0; waited < ms; waited += 200) {
    if (!(await isQemu(pid))) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return !(await isQemu(pid));
}

/**
 * Stops a VM: ACPI power button first when `graceMs` > 0 (the guest shuts down cleanly, its disk
 * is consistent), then QMP quit, then SIGKILL. Resolves once the process is gone.
 */
export async function stopVm(pid: number | undefined, qmpSocket: string, graceMs: number): Promise<void> {
  if (!(await isQemu(pid))) return;
  if (graceMs > 0) {
    await qmp(qmpSocket, "system_powerdown").catch(() => "");
    if (await waitGone(pid!, graceMs)) return;
  }
  await qmp(qmpSocket, "quit").catch(() => "");
  if (await waitGone(pid!, 5000)) return;
  try {
    process.kill(pid!, "SIGKILL");
  } catch {
    // gone
  }
  await waitGone(pid!, 5000);
}

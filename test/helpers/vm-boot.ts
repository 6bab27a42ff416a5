// Booting a test VM under qemu and reading what it reports: the pieces of the seeded first-boot
// tests (test/seed/boot.test.ts keeps its own copy until the lead folds the two boot tests).
// The guest's report unit (scripts/build-boot-rootfs.sh) waits for cloud-init, prints a marked
// report on the second serial port and powers off; its settings come on the kernel command line.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** systemd's first line on the console, once the kernel and the initrd have done their part. */
export const USERSPACE_MARK = "Welcome to ";

export interface BootResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  /** The guest never started systemd in its root file system: tried again once by the caller. */
  neverBooted: boolean;
  seconds: number;
}

export interface BootOptions {
  kernel: string;
  initrd: string;
  disk: { path: string; format: "raw" | "qcow2" };
  /** Kernel command line: root=…, console and the report's k8s_ha_test.* settings. */
  append: string;
  /** The NoCloud seed ISO, attached as a CD-ROM (where VirtualBox users attach it). */
  cdrom: string;
  /** console.log and report.log go here. */
  dir: string;
  kvm: boolean;
  timeoutMs: number;
  /** Stop a boot that has not reached systemd after this long (a rare TCG hang). */
  earlyStallMs: number;
  /** Set while the VM runs, so that afterAll can kill it. */
  onStart?: (child: ChildProcess) => void;
}

export const consoleText = (dir: string): string => {
  const file = join(dir, "console.log");
  return existsSync(file) ? readFileSync(file, "utf8") : "";
};

/** Boots one VM, its NIC on a hub with nothing else on it (no host network, no port on the host). */
export function bootVm(options: BootOptions): Promise<BootResult> {
  const { dir, kvm } = options;
  const args = [
    "--pdeathsig", "SIGKILL", "--",
    "qemu-system-x86_64",
    "-name", "k8s-ha-boot-test",
    "-machine", `pc,accel=${kvm ? "kvm" : "tcg"}`,
    "-cpu", kvm ? "host" : "max",
    "-smp", "2",
    "-m", "1024",
    "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
    "-kernel", options.kernel,
    "-initrd", options.initrd,
    "-append", options.append,
    // the image is never written: changes go to a deleted temp file
    "-drive", `file=${options.disk.path},format=${options.disk.format},if=virtio,snapshot=on`,
    "-cdrom", options.cdrom,
    "-netdev", "hubport,id=n0,hubid=0",
    "-device", "virtio-net-pci,netdev=n0",
    "-serial", `file:${join(dir, "console.log")}`,
    "-serial", `file:${join(dir, "report.log")}`,
  ];
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn("setpriv", args, { stdio: ["ignore", "ignore", "pipe"] });
    options.onStart?.(child);
    let stderr = "";
    let timedOut = false;
    child.stderr!.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, options.timeoutMs);
    const stallTimer = setTimeout(() => {
      if (!consoleText(dir).includes(USERSPACE_MARK)) child.kill("SIGKILL");
    }, options.earlyStallMs);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      clearTimeout(stallTimer);
      if (code !== 0 && !timedOut && stderr) process.stderr.write(`qemu: ${stderr}\n`);
      const neverBooted = !consoleText(dir).includes(USERSPACE_MARK);
      resolve({ code, signal, timedOut, neverBooted, seconds: Math.round((Date.now() - started) / 1000) });
    });
  });
}

/** The report's sections by name, from the text between the begin and end markers. */
export function parseReport(text: string): Map<string, string> | undefined {
  const begin = text.indexOf("=== k8s-ha boot report begin ===");
  const end = text.indexOf("=== k8s-ha boot report end ===");
  if (begin === -1 || end === -1) return undefined;
  const sections = new Map<string, string>();
  for (const chunk of text.slice(begin, end).replace(/\r/g, "").split("\n--- ").slice(1)) {
    const newline = chunk.indexOf("\n");
    sections.set(chunk.slice(0, newline), chunk.slice(newline + 1).trim());
  }
  return sections;
}

/**
 * Runs a program to its end in its own process group (stopped as a whole by `stop()`, and sent
 * SIGTERM if this process dies: setpriv --pdeathsig), collecting its output.
 */
export function runDetached(
  program: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs: number; onStderr?: (chunk: string) => void },
): { done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>; stop: () => void } {
  const child = spawn("setpriv", ["--pdeathsig", "SIGTERM", "--", program, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
    env: { ...process.env, ...options.env },
  });
  const stop = () => {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {
      // already gone
    }
  };
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve, reject) => {
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => {
      stderr += c;
      options.onStderr?.(c);
    });
    const timer = setTimeout(stop, options.timeoutMs);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { done, stop };
}

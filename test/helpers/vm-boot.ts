// Booting a test VM under qemu and reading what it reports: the pieces shared by the seeded
// first-boot test (test/seed/boot.test.ts) and the boot of the baked image (test/bake).
// The guest's report unit (scripts/build-boot-rootfs.sh) waits for cloud-init, prints a marked
// report on the second serial port and powers off; its settings come on the kernel command line.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { copyFile, mkdir, rename } from "node:fs/promises";
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

/**
 * Whole-boot ceiling (K8S_HA_TEST_BOOT_TIMEOUT seconds overrides it). A boot takes well under a
 * minute with KVM; with TCG on 2 cores about 4 minutes on an idle machine, so the ceiling only
 * catches a hang. On a machine shared with other VM boots one took 36 minutes (load 15–25): raise
 * it there.
 */
export const bootTimeoutMs = (kvm: boolean) =>
  Number(process.env.K8S_HA_TEST_BOOT_TIMEOUT ?? (kvm ? 180 : 1200)) * 1000;
/**
 * Under TCG a guest has, rarely, reset or hung before its kernel got to systemd: nothing to do
 * with the seed. Such a boot is stopped after this long (or when it ends) and tried once more.
 */
export const earlyStallMs = (kvm: boolean) => (kvm ? 60_000 : 240_000);

/** The report unit's settings: the cluster NIC, the VIP it waits for, the LB port it probes. */
export interface ReportSettings {
  vip: string;
  iface: string;
  lbPort: number;
  /** How long the unit waits for cloud-init (s). */
  waitS: number;
}

/** Kernel command line for the stand-in's kernel: the console, the root file system and the report's settings. */
export function kernelCommandLine(root: string, report: ReportSettings): string {
  return [
    // earlyprintk: a failure before the console driver starts still shows in console.log;
    // net.ifnames=0: the NICs are eth0, eth1, … in the order they are given to qemu
    `root=${root} rw console=ttyS0 earlyprintk=serial,ttyS0,115200 net.ifnames=0 panic=1 loglevel=4 mitigations=off`,
    `k8s_ha_test.vip=${report.vip} k8s_ha_test.iface=${report.iface} k8s_ha_test.lb_port=${report.lbPort} k8s_ha_test.wait=${report.waitS}`,
  ].join(" ");
}

/**
 * A NIC of the test VM (eth0, eth1, … in this order):
 * - "isolated": on a qemu hub with no other port, a link with no peer and no way to the host;
 * - "user": qemu's user-mode network, whose DHCP server hands out 10.0.2.15, gateway 10.0.2.2
 *   and DNS 10.0.2.3 (VirtualBox NAT's own addresses). Only inside `netns`, a namespace with
 *   nothing but `lo`, so that nothing the guest sends leaves the machine (`restrict=on` would
 *   isolate too, but its DHCP offer then has no gateway and no DNS).
 */
export type Nic = "isolated" | "user";

export interface BootOptions {
  kernel: string;
  initrd: string;
  /**
   * The disk. Not `persistent`: changes go to a deleted temp file (snapshot=on), the image is
   * never written. `persistent`: written, for an overlay that a later boot starts from again.
   */
  disk: { path: string; format: "raw" | "qcow2"; persistent?: boolean };
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
  /** Default: one isolated NIC. */
  nics?: Nic[];
  /** Run qemu in this network namespace (required by a "user" NIC; see createIsolatedNetns). */
  netns?: string;
  /** Set while the VM runs, so that afterAll can kill it. */
  onStart?: (child: ChildProcess) => void;
}

export const consoleText = (dir: string): string => {
  const file = join(dir, "console.log");
  return existsSync(file) ? readFileSync(file, "utf8") : "";
};

/** qemu's arguments for the NICs, each a virtio NIC on its own netdev. */
function nicArgs(nics: readonly Nic[], netns: string | undefined): string[] {
  return nics.flatMap((nic, i) => {
    if (nic === "user" && netns === undefined)
      throw new Error("a user-mode NIC needs a network namespace without uplink (netns)");
    const netdev = nic === "user" ? `user,id=n${i}` : `hubport,id=n${i},hubid=${i}`;
    return ["-netdev", netdev, "-device", `virtio-net-pci,netdev=n${i}`];
  });
}

/** Boots one VM with its NICs (default: one on a hub with nothing else on it). */
export function bootVm(options: BootOptions): Promise<BootResult> {
  const { dir, kvm } = options;
  const args = [
    // qemu dies with this test's process, whatever ends it
    "--pdeathsig",
    "SIGKILL",
    "--",
    "qemu-system-x86_64",
    "-name",
    "k8s-ha-boot-test",
    "-machine",
    `pc,accel=${kvm ? "kvm" : "tcg"}`,
    "-cpu",
    kvm ? "host" : "max",
    "-smp",
    "2",
    "-m",
    "1024",
    "-nodefaults",
    "-no-user-config",
    "-display",
    "none",
    "-no-reboot",
    "-kernel",
    options.kernel,
    "-initrd",
    options.initrd,
    "-append",
    options.append,
    "-drive",
    `file=${options.disk.path},format=${options.disk.format},if=virtio${options.disk.persistent ? "" : ",snapshot=on"}`,
    // the seed, where VirtualBox users attach it too: an optical drive
    "-cdrom",
    options.cdrom,
    ...nicArgs(options.nics ?? ["isolated"], options.netns),
    "-serial",
    `file:${join(dir, "console.log")}`,
    "-serial",
    `file:${join(dir, "report.log")}`,
  ];
  // `ip netns exec` execs setpriv, which execs qemu: one process, this test's child
  const [program, argv] =
    options.netns === undefined ? ["setpriv", args] : ["ip", ["netns", "exec", options.netns, "setpriv", ...args]];
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(program, argv, { stdio: ["ignore", "ignore", "pipe"] });
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

/** What one boot left: how qemu ended, the report's sections (none if it never came), the console's end. */
export interface ReportedBoot {
  boot: BootResult;
  report?: Map<string, string>;
  consoleTail: string;
  timeoutMs: number;
}

/**
 * Boots (once more when the guest never reached systemd: any later failure is the test's), then
 * reads the report and the console's last lines. `label` names the boot in the progress line and
 * in the logs kept for CI (K8S_HA_TEST_KEEP_LOGS=DIR: DIR/<label>-console.log, …).
 */
export async function bootForReport(options: BootOptions, label: string): Promise<ReportedBoot> {
  const { dir } = options;
  await mkdir(dir, { recursive: true });
  let boot = await bootVm(options);
  if (boot.neverBooted) {
    process.stderr.write(`${label}: the VM never started systemd (ran ${boot.seconds}s); booting once more\n`);
    await rename(join(dir, "console.log"), join(dir, "console-first-try.log")).catch(() => undefined);
    boot = await bootVm(options);
  }
  const reportFile = join(dir, "report.log");
  const report = existsSync(reportFile) ? parseReport(readFileSync(reportFile, "utf8")) : undefined;
  const text = consoleText(dir);
  const consoleTail = text ? text.split("\n").slice(-60).join("\n") : "(no console output)";
  process.stderr.write(
    `${label}: ${options.kvm ? "KVM" : "TCG"}, VM ran ${boot.seconds}s, ${report ? "report read" : "NO report"}\n`,
  );
  const keep = process.env.K8S_HA_TEST_KEEP_LOGS;
  if (keep) {
    await mkdir(keep, { recursive: true });
    for (const name of ["console.log", "console-first-try.log", "report.log"])
      if (existsSync(join(dir, name))) await copyFile(join(dir, name), join(keep, `${label}-${name}`));
  }
  return { boot, report, consoleTail, timeoutMs: options.timeoutMs };
}

/** A section of the report; fails with the console's last lines when there is no report. */
export function reportSection(booted: ReportedBoot, name: string): string {
  const { boot, report } = booted;
  if (!report) {
    throw new Error(
      `no boot report (qemu ${boot.timedOut ? `killed after ${booted.timeoutMs / 1000}s` : `ended: code ${boot.code}`}); console tail:\n${booted.consoleTail}`,
    );
  }
  const text = report.get(name);
  if (text === undefined) throw new Error(`the boot report has no section ${name}`);
  return text;
}

/** A network namespace with only `lo`, up: no uplink, so qemu's user-mode network inside it reaches nothing. */
export function createIsolatedNetns(name: string): void {
  execFileSync("ip", ["netns", "add", name]);
  execFileSync("ip", ["-n", name, "link", "set", "lo", "up"]);
}

export function deleteNetns(name: string): void {
  if (existsSync(join("/run/netns", name))) execFileSync("ip", ["netns", "delete", name]);
}

/**
 * Runs a program to its end in its own process group (stopped as a whole by `stop()`, and sent
 * SIGTERM if this process dies: setpriv --pdeathsig), collecting its output.
 */
export function runDetached(
  program: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs: number; onStderr?: (chunk: string) => void },
): {
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
  stop: () => void;
} {
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
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>(
    (resolve, reject) => {
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
    },
  );
  return { done, stop };
}

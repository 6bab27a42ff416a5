// Checks before `up` creates anything: the programs, the image, room in memory for every VM, and
// that no cluster address is already in use on this host. Each failure is an ExternalError
// (exit 3) that names what is missing and how to get it.
import { closeSync, constants, openSync, readFileSync } from "node:fs";
import { access, readFile } from "node:fs/promises";
import { networkInterfaces } from "node:os";
import { ExternalError } from "../errors.js";
import type { ClusterPlan } from "../plan/plan.js";
import { run, which } from "../tools/run.js";
import { OVMF } from "./qemu.js";

export interface QemuTools {
  qemu: string;
  qemuImg: string;
  ip: string;
  curl: string;
}

export async function findQemuTools(): Promise<QemuTools> {
  const wanted = { qemu: "qemu-system-x86_64", qemuImg: "qemu-img", ip: "ip", curl: "curl" } as const;
  const found: Partial<QemuTools> = {};
  const missing: string[] = [];
  for (const [key, program] of Object.entries(wanted) as [keyof QemuTools, string][]) {
    const path = await which(program);
    if (path) found[key] = path;
    else missing.push(program);
  }
  if (missing.length > 0) {
    const packages: Record<string, string> = {
      "qemu-system-x86_64": "qemu-system-x86",
      "qemu-img": "qemu-utils",
      ip: "iproute2",
      curl: "curl",
    };
    throw new ExternalError(
      `up --provider qemu needs ${missing.join(", ")}, not found on PATH`,
      `apt-get install ${missing.map((m) => packages[m]).join(" ")}`,
    );
  }
  try {
    await access(OVMF, constants.R_OK);
  } catch {
    throw new ExternalError(`no UEFI firmware at ${OVMF}: the lab VMs boot UEFI images`, "apt-get install ovmf");
  }
  return found as QemuTools;
}

export async function checkImage(image: string): Promise<void> {
  try {
    await access(image, constants.R_OK);
  } catch {
    throw new ExternalError(
      `the image ${image} does not exist or cannot be read`,
      "run `k8s-ha build-image`, `k8s-ha images pull`, or give --image PATH",
    );
  }
}

/** MemAvailable from /proc/meminfo, in MiB. */
async function availableMiB(): Promise<number> {
  const text = await readFile("/proc/meminfo", "utf8");
  const kib = Number(/^MemAvailable:\s+(\d+) kB/m.exec(text)?.[1] ?? NaN);
  return Math.floor(kib / 1024);
}

export async function checkMemory(vms: number, memoryMiB: number): Promise<void> {
  const need = vms * memoryMiB;
  const free = await availableMiB();
  if (free < need) {
    throw new ExternalError(
      `${vms} VM(s) of ${memoryMiB} MiB need ${need} MiB, but only ${free} MiB are available`,
      "start fewer VMs, or give each less with --memory MIB",
    );
  }
}

/** The cluster's addresses must not be in use here: the host would answer for them, not the lab. */
export function checkAddressClash(plan: ClusterPlan): void {
  const ours = new Map([
    [plan.vip, "the VIP"],
    ...plan.nodes.map((n) => [n.address, `node ${n.name}`] as [string, string]),
  ]);
  for (const [name, addresses] of Object.entries(networkInterfaces())) {
    for (const a of addresses ?? []) {
      const user = ours.get(a.address);
      if (a.family === "IPv4" && user) {
        throw new ExternalError(
          `${user}'s address ${a.address} is already on this host's interface ${name}`,
          "give the lab a subnet of its own in the spec",
        );
      }
    }
  }
}

/**
 * KVM only where it works: /dev/kvm opens for read and write, the CPU has vmx or svm, and qemu
 * keeps running with it for a few seconds (on some nested hosts it aborts on MSR errors).
 */
export async function probeAccel(qemu: string, wanted: "auto" | "kvm" | "tcg"): Promise<"kvm" | "tcg"> {
  if (wanted !== "auto") return wanted;
  try {
    closeSync(openSync("/dev/kvm", constants.O_RDWR));
  } catch {
    return "tcg";
  }
  if (!/^flags\s*:.*\b(vmx|svm)\b/m.test(readFileSync("/proc/cpuinfo", "utf8"))) return "tcg";
  const probe = await run(
    qemu,
    ["-machine", "pc,accel=kvm", "-cpu", "host", "-m", "128", "-nodefaults", "-display", "none", "-bios", OVMF],
    { timeoutMs: 3000 },
  );
  return probe.timedOut ? "kvm" : "tcg";
}

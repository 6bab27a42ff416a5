// What the qemu builder needs on this machine, checked before Packer starts: qemu and qemu-img,
// the UEFI firmware, and an accelerator that works. Packer 1.6.6 picks kvm whenever /dev/kvm
// exists, and on some hosts (nested virtualisation) qemu aborts at once with it ("failed to set
// MSR …"): there the build must ask for tcg, which emulates the CPU (slower, same image).
import { access, constants } from "node:fs/promises";
import { ExternalError } from "../errors.js";
import { run, which } from "../tools/run.js";
import { OVMF_FIRMWARE } from "./qemu.js";

export type Accelerator = "kvm" | "tcg";

export interface QemuHost {
  qemu: string;
  /** "7.2.19", from `qemu-system-x86_64 --version`. */
  version: string;
  accelerator: Accelerator;
}

const QEMU = "qemu-system-x86_64";
const QEMU_HINT = "install qemu (Debian/Ubuntu: apt-get install qemu-system-x86 qemu-utils ovmf)";
/** A working KVM keeps the paused probe VM running this long; a broken one aborts well before. */
const PROBE_MS = 3_000;

/** "QEMU emulator version 7.2.19 (Debian 1:7.2+dfsg-7+deb12u18)" → "7.2.19". */
export function parseQemuVersion(output: string): string | undefined {
  return /version (\d+\.\d+(?:\.\d+)?)/.exec(output)?.[1];
}

/**
 * kvm when a paused VM with `accel=kvm` starts and stays up; tcg otherwise. K8S_HA_QEMU_ACCEL=kvm|tcg
 * skips the probe (a host where KVM starts but guests hang needs tcg forced).
 */
export async function chooseAccelerator(qemu: string, env: NodeJS.ProcessEnv): Promise<Accelerator> {
  const forced = env.K8S_HA_QEMU_ACCEL;
  if (forced === "kvm" || forced === "tcg") return forced;
  try {
    await access("/dev/kvm", constants.R_OK | constants.W_OK);
  } catch {
    return "tcg";
  }
  const probe = await run(
    qemu,
    [
      "-machine",
      "pc,accel=kvm",
      "-cpu",
      "host",
      "-m",
      "64",
      "-nodefaults",
      "-no-user-config",
      "-display",
      "none",
      "-S",
    ],
    { env, timeoutMs: PROBE_MS },
  );
  return probe.timedOut ? "kvm" : "tcg";
}

export async function qemuPreflight(env: NodeJS.ProcessEnv): Promise<QemuHost> {
  const qemu = await which(QEMU);
  if (!qemu) throw new ExternalError(`qemu not found: '${QEMU}' is not on PATH`, QEMU_HINT);
  if (!(await which("qemu-img")))
    throw new ExternalError("qemu-img not found: Packer needs it to resize and convert the disk", QEMU_HINT);
  try {
    await access(OVMF_FIRMWARE, constants.R_OK);
  } catch {
    throw new ExternalError(
      `no UEFI firmware at ${OVMF_FIRMWARE}: the cloud image boots with it`,
      "apt-get install ovmf, or run packer yourself with -var firmware=<path of OVMF.fd>",
    );
  }
  const result = await run(qemu, ["--version"], { env, timeoutMs: 30_000 });
  const version = parseQemuVersion(result.stdout);
  if (result.code !== 0 || !version) {
    throw new ExternalError(
      `'${QEMU} --version' failed: ${(result.stderr || result.stdout).trim() || `exit ${result.code}`}`,
      QEMU_HINT,
    );
  }
  return { qemu, version, accelerator: await chooseAccelerator(qemu, env) };
}

// The VBoxManage adapter of `up --provider virtualbox`: argument arrays for each call (pure), the
// storage slot for the seed read from `showvminfo --machinereadable` (never assumed), and running
// VBoxManage with its own error text surfaced.
import { ExternalError } from "../errors.js";
import { describeExit, run } from "../tools/run.js";

export async function vbox(vboxManage: string, args: readonly string[]): Promise<string> {
  const result = await run(vboxManage, args, { timeoutMs: 10 * 60_000 });
  if (result.code !== 0) {
    throw new ExternalError(
      `VBoxManage ${args.join(" ")}: ${describeExit("VBoxManage", result)}: ${result.stderr.trim().split("\n").slice(-3).join(" ")}`,
    );
  }
  return result.stdout;
}

/** `key="value"` and `"key"="value"` lines of `showvminfo --machinereadable`. */
export function parseMachineReadable(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const m = /^(?:"((?:[^"\\]|\\.)*)"|([^=]+))=(?:"((?:[^"\\]|\\.)*)"|(.*))$/.exec(line);
    if (m) values.set(m[1] ?? m[2]!, m[3] ?? m[4]!);
  }
  return values;
}

export interface StorageSlot {
  controller: string;
  port: number;
  device: number;
}

/**
 * The slot for the seed ISO: a DVD drive already holding the seed or empty ("emptydrive"), else a
 * free slot ("none") — on an IDE controller first (where VirtualBox users expect a CD-ROM), then
 * any. Undefined when every slot of every controller is taken.
 */
export function freeStorageSlot(info: Map<string, string>, seedPath: string): StorageSlot | undefined {
  const controllers: { name: string; type: string }[] = [];
  for (let i = 0; info.has(`storagecontrollername${i}`); i++) {
    controllers.push({
      name: info.get(`storagecontrollername${i}`)!,
      type: info.get(`storagecontrollertype${i}`) ?? "",
    });
  }
  const ide = (type: string) => /^PIIX|^ICH6/.test(type);
  const ordered = [...controllers.filter((c) => ide(c.type)), ...controllers.filter((c) => !ide(c.type))];
  const slots = (c: { name: string }) =>
    [...info.entries()].flatMap(([key, value]) => {
      const m = key.startsWith(`${c.name}-`) ? /^(\d+)-(\d+)$/.exec(key.slice(c.name.length + 1)) : null;
      return m ? [{ controller: c.name, port: Number(m[1]), device: Number(m[2]), medium: value }] : [];
    });
  for (const wanted of [
    (m: string) => m === seedPath,
    (m: string) => m === "emptydrive",
    (m: string) => m === "none",
  ]) {
    for (const c of ordered) {
      const slot = slots(c).find((s) => wanted(s.medium));
      if (slot) return { controller: slot.controller, port: slot.port, device: slot.device };
    }
  }
  return undefined;
}

/** VirtualBox adapter n is the guest's enp0s<slot>: 1 → enp0s3, 2 → enp0s8, 3 → enp0s9, 4 → enp0s10. */
const ADAPTER_OF_SLOT: Record<number, number> = { 3: 1, 8: 2, 9: 3, 10: 4 };

export function adapterOfSlot(slot: number, field: string, iface: string): number {
  const adapter = ADAPTER_OF_SLOT[slot];
  if (adapter === undefined) {
    throw new ExternalError(
      `${field} is ${iface}: VirtualBox names its adapters 1–4 enp0s3, enp0s8, enp0s9 and enp0s10 in the guest`,
      "use one of those names",
    );
  }
  return adapter;
}

export const importArgs = (ova: string, vm: string, baseFolder: string) => [
  "import",
  ova,
  "--vsys",
  "0",
  "--vmname",
  vm,
  "--basefolder",
  baseFolder,
];

export interface VboxNic {
  adapter: number;
  mac: string;
  kind: { hostOnly: string } | { nat: true };
}

export function modifyVmArgs(
  vm: string,
  nics: readonly VboxNic[],
  serialLog: string,
  cpus: number,
  memoryMiB: number,
): string[] {
  const args = ["modifyvm", vm, "--cpus", String(cpus), "--memory", String(memoryMiB)];
  for (const nic of nics) {
    const n = nic.adapter;
    if ("hostOnly" in nic.kind) args.push(`--nic${n}`, "hostonly", `--host-only-adapter${n}`, nic.kind.hostOnly);
    else args.push(`--nic${n}`, "nat");
    args.push(`--mac-address${n}`, nic.mac.replace(/:/g, "").toUpperCase(), `--cable-connected${n}`, "on");
  }
  // the serial console to a file: cloud-init's final message tells when the node is done
  args.push("--uart1", "0x3F8", "4", "--uart-mode1", "file", serialLog);
  return args;
}

export const storageAttachSeedArgs = (vm: string, slot: StorageSlot, medium: string) => [
  "storageattach",
  vm,
  "--storagectl",
  slot.controller,
  "--port",
  String(slot.port),
  "--device",
  String(slot.device),
  "--type",
  "dvddrive",
  "--medium",
  medium,
];

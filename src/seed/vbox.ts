// The VirtualBox commands that attach a node's seed to its VM, as printed by `seed`.
// The slot is the one the golden image leaves free: src/packer/render.ts puts the disk on SATA
// (hard_drive_interface = "sata") and the installer ISO on the IDE controller Packer always adds;
// Packer empties it when the build ends, and an exported OVA keeps the controller, so every VM
// imported from it has "IDE Controller" port 0, device 0 free for the seed.
import { PLAIN_SHELL_WORD, shellQuote } from "../render/quote.js";

export const VBOX_CONTROLLER = "IDE Controller";
export const VBOX_PORT = 0;
export const VBOX_DEVICE = 0;

/** `VBoxManage storageattach …` as an argument array; the VM is named after the node. */
export function storageAttachArgs(vm: string, isoPath: string): string[] {
  return [
    "VBoxManage",
    "storageattach",
    vm,
    "--storagectl",
    VBOX_CONTROLLER,
    "--port",
    String(VBOX_PORT),
    "--device",
    String(VBOX_DEVICE),
    "--type",
    "dvddrive",
    "--medium",
    isoPath,
  ];
}

/**
 * One argument quoted for copy and paste: bare when safe; in double quotes when it only needs
 * them for spaces (works in sh, cmd.exe and PowerShell alike, Windows paths included); else
 * POSIX single quotes.
 */
export function quoteArg(arg: string): string {
  if (PLAIN_SHELL_WORD.test(arg)) return arg;
  if (!/[$`"!\n]/.test(arg) && !arg.endsWith("\\")) return `"${arg}"`;
  return shellQuote(arg);
}

export function commandLine(args: readonly string[]): string {
  return args.map(quoteArg).join(" ");
}

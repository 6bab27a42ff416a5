// The VirtualBox commands that attach a node's seed to its VM, as printed by `seed`.
// The slot is the one the golden image leaves free: src/packer/virtualbox.ts puts the disk on
// SATA (hard_drive_interface = "sata") and the installer ISO on the IDE controller Packer always
// adds; Packer empties it when the build ends, and the OVA keeps the controller, so port 0,
// device 0 of that controller is free for the seed. Its name is not fixed: Packer's built-in
// builder and plugins before PR #178 say "IDE Controller", later plugins "IDE", and VirtualBox
// may rename controllers on import. build-image records the OVA's name (image record,
// `storageController`); `seed` uses it and prints the command that shows the VM's own.
import { PLAIN_SHELL_WORD, shellQuote } from "../render/quote.js";

/** The controller's name when no image record says otherwise (Packer 1.6.6's builder). */
export const VBOX_DEFAULT_CONTROLLER = "IDE Controller";
export const VBOX_PORT = 0;
export const VBOX_DEVICE = 0;

/** `VBoxManage storageattach …` as an argument array; the VM is named after the node. */
export function storageAttachArgs(vm: string, isoPath: string, controller: string): string[] {
  return [
    "VBoxManage",
    "storageattach",
    vm,
    "--storagectl",
    controller,
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

/** Shows the VM's controllers (`storagecontrollername<N>="…"` lines) to check the name with. */
export function showVmInfoArgs(vm: string): string[] {
  return ["VBoxManage", "showvminfo", vm, "--machinereadable"];
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

// The VirtualBox half of the golden-image template: the `virtualbox-iso` source that installs
// Ubuntu from its live-server ISO (subiquity autoinstall, answered by packer/http/), and the
// variables only that source reads. render.ts puts it into the template around the shared
// variables and the provisioners; other builders' sources sit beside this file.
import { INSTALLER_ISOS, OS_NAMES, type InstallerIso, type TargetOs } from "../spec/targets.js";
import { attr, blank, block, comment, expr, template, type HclBodyItem } from "./hcl.js";
import { sourceImageVariables, v, type Variable } from "./variables.js";

/** `required_plugins` version. 1.1.0 turns on --nat-localhostreachable1 on VirtualBox 7 itself
 * (the flag breaks VirtualBox 6); below 2: a major release may rename or drop what we rely on. */
export const VIRTUALBOX_PLUGIN_VERSION = ">= 1.1.0, < 2.0.0";

/** The VirtualBox build installs these releases; others (debian-12) have no installer ISO here. */
export function installerIso(os: TargetOs): InstallerIso {
  const iso = INSTALLER_ISOS[os];
  if (!iso) throw new Error(`no Ubuntu installer ISO for ${os}: the VirtualBox build cannot bake it`);
  return iso;
}

const NOCLOUD_URL = "ds=nocloud-net;s=http://{{ .HTTPIP }}:{{ .HTTPPort }}/";

/**
 * Keys typed at the ISO's BIOS boot menu, per boot loader.
 * - isolinux (20.04): dismiss the splash, take the default language, open and close the F6
 *   options menu to get an editable kernel command line, then add `autoinstall` and the NoCloud
 *   URL of Packer's HTTP server. These land after `---`, which curtin would carry into the
 *   installed GRUB_CMDLINE_LINUX_DEFAULT: http/user-data's `grub: replace_linux_default: false`
 *   stops that, and 90-generalize.sh checks it.
 * - GRUB (22.04, 24.04): `c` opens GRUB's command line; the kernel is booted by hand with the
 *   arguments before `---` (never copied into the installed system). GRUB splits commands at
 *   `;`, so the NoCloud argument is single-quoted.
 */
export function bootCommand(bootLoader: InstallerIso["bootLoader"]): string[] {
  if (bootLoader === "isolinux") {
    return ["<wait><enter><wait><enter><wait><f6><wait><esc><wait>", ` autoinstall ${NOCLOUD_URL}`, "<enter>"];
  }
  return [
    "c<wait>",
    `linux /casper/vmlinuz autoinstall '${NOCLOUD_URL}' ---<enter><wait>`,
    "initrd /casper/initrd<enter><wait>",
    "boot<enter>",
  ];
}

/**
 * Seconds from power-on to the first key. Both menus wait for a key (isolinux's splash has no
 * timeout on 20.04.6; GRUB counts down 30 s), but a key typed before the menu is drawn is lost:
 * 5 s to the first key, as chef/bento types, leaves room on either side (the isolinux sequence
 * starts with a 1 s <wait>). Watch one run with `-var headless=false` when changing this.
 */
export const BOOT_WAIT: Record<InstallerIso["bootLoader"], string> = { isolinux: "4s", grub: "5s" };

/** The source's name in the build block. */
export const VIRTUALBOX_SOURCE = "source.virtualbox-iso.ubuntu";

/** The build user made by packer/http/user-data and deleted by packer/scripts/99-shutdown.sh. */
export const BUILD_USER = "packer";
export const BUILD_PASSWORD = "packer";
export const SHUTDOWN_SCRIPT_REMOTE = "/tmp/k8s-ha-shutdown.sh";

/** Variables read only by the VirtualBox source. */
export function virtualBoxVariables(os: TargetOs): Variable[] {
  const iso = installerIso(os);
  return [
    ...sourceImageVariables(
      iso.url,
      iso.checksum,
      `${OS_NAMES[os]} live-server ISO: a URL, or a local path to skip the download.`,
    ),
    {
      name: "headless",
      type: "bool",
      default: true,
      description: "Run VirtualBox without a window; false shows the installer's console.",
    },
    {
      name: "boot_command",
      type: "list(string)",
      default: bootCommand(iso.bootLoader),
      description: `Keys typed at the ISO's BIOS boot menu (${iso.bootLoader}) to start an unattended autoinstall.`,
    },
    {
      name: "nat_localhost_reachable",
      type: "bool",
      default: false,
      description:
        "VirtualBox >= 7 only (k8s-ha build-image sets it there): let the installer reach Packer's HTTP " +
        "server at 10.0.2.2 during the build, and turn that off again before the export.",
    },
  ];
}

const ovfDescription = (os: TargetOs) =>
  `k8s-ha golden image: ${OS_NAMES[os]} with keepalived, haproxy, curl and ufw; ` +
  "keepalived and haproxy stay disabled until a node's NoCloud seed ISO configures them.";

const NAT_LOCALHOST_COUNT = "var.nat_localhost_reachable ? 1 : 0";
const natLocalhostReachable = (value: "on" | "off") =>
  expr(`slice([["modifyvm", "{{ .Name }}", "--nat-localhostreachable1", "${value}"]], 0, ${NAT_LOCALHOST_COUNT})`);

/**
 * VirtualBox 7's NAT no longer lets a guest reach the host's loopback, where Packer's HTTP
 * server listens (packer #12118); Packer 1.6.6's built-in builder never says otherwise
 * (plugins >= 1.1.0 do). The flag is unknown to VirtualBox 6, hence a variable that
 * build-image sets from `VBoxManage --version`. slice() of a one-element list: a conditional
 * between a list and [] is a type error in Packer 1.6.6's HCL.
 */
export function virtualBoxLocals(): HclBodyItem {
  return block(
    "locals",
    [],
    [
      comment(
        "Disk first: the empty disk falls through to the installer ISO on the first boot, and the\n" +
          "installed system boots from disk after the installer's reboot, ISO or not (and so do clones).",
      ),
      attr("vboxmanage_base", [
        ["modifyvm", "{{ .Name }}", "--boot1", "disk", "--boot2", "dvd", "--boot3", "none"],
        ["modifyvm", "{{ .Name }}", "--rtcuseutc", "on"],
        ["modifyvm", "{{ .Name }}", "--graphicscontroller", "vmsvga"],
        ["modifyvm", "{{ .Name }}", "--vram", "16"],
      ]),
      comment(
        "VirtualBox >= 7 only (nat_localhost_reachable): the installer must reach Packer's HTTP server;\n" +
          "the OVA must not carry that into every clone.",
      ),
      attr("nat_localhost_reachable_on", natLocalhostReachable("on")),
      attr("nat_localhost_reachable_off", natLocalhostReachable("off")),
    ],
  );
}

export function virtualBoxSource(os: TargetOs): HclBodyItem {
  const iso = installerIso(os);
  return block(
    "source",
    ["virtualbox-iso", "ubuntu"],
    [
      attr("guest_os_type", "Ubuntu_64"),
      attr("iso_url", v("iso_url")),
      attr("iso_checksum", v("iso_checksum")),
      attr("vm_name", v("vm_name")),
      attr("cpus", v("cpus")),
      attr("memory", v("memory")),
      attr("disk_size", v("disk_size")),
      comment(
        "The disk on SATA; the installer ISO on the IDE controller, which Packer always adds and\n" +
          "which stays empty in the OVA: that is where a node's seed ISO goes.",
      ),
      attr("hard_drive_interface", "sata"),
      attr("headless", v("headless")),
      comment("Guest additions need a compiler in the guest and a download; the nodes need neither."),
      attr("guest_additions_mode", "disable"),
      attr("vboxmanage", expr("concat(local.vboxmanage_base, local.nat_localhost_reachable_on)")),
      comment("Before the export: the OVA must not carry the build's NAT setting into every clone."),
      attr("vboxmanage_post", expr("local.nat_localhost_reachable_off")),
      blank,
      comment("Unattended install: the autoinstall seed in http/ answers subiquity."),
      attr("http_directory", template([expr("path.root"), "/http"])),
      attr("boot_wait", BOOT_WAIT[iso.bootLoader]),
      attr("boot_command", v("boot_command")),
      blank,
      comment(
        "The build user from http/user-data. The installer's own sshd is stopped by the seed, but\n" +
          "a slow install still costs failed handshakes: allow many, and a long wait.",
      ),
      attr("communicator", "ssh"),
      attr("ssh_username", BUILD_USER),
      attr("ssh_password", BUILD_PASSWORD),
      attr("ssh_timeout", "60m"),
      attr("ssh_handshake_attempts", 200),
      comment("Uploaded by the last provisioner: deletes the build user, then powers off."),
      attr("shutdown_command", `sudo -n /bin/sh ${SHUTDOWN_SCRIPT_REMOTE}`),
      attr("shutdown_timeout", "10m"),
      blank,
      comment(
        "One OVA. nomacs: every import gets fresh MAC addresses, so clones on one network never\n" +
          "share one; name and version go into the OVF's product section.",
      ),
      attr("output_directory", v("output_directory")),
      attr("format", "ova"),
      attr("export_opts", [
        "--manifest",
        "--options",
        "nomacs",
        "--vsys",
        "0",
        "--product",
        v("vm_name"),
        "--version",
        v("image_version"),
        "--description",
        ovfDescription(os),
      ]),
    ],
  );
}

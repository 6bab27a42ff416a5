// The VirtualBox half of the golden-image template: the `virtualbox-iso` source that installs
// Ubuntu from its live-server ISO (subiquity autoinstall, answered by packer/http/), and the
// variables only that source reads. render.ts puts it into the template around the shared
// variables and the provisioners; other builders' sources sit beside this file.
import { attr, blank, block, comment, expr, template, type HclBodyItem } from "./hcl.js";
import { v, type Variable } from "./variables.js";

export const UBUNTU_ISO_URL = "https://releases.ubuntu.com/20.04.6/ubuntu-20.04.6-live-server-amd64.iso";
/** Pinned: `packer validate` fetches `file:` checksums, and CI has no network. */
export const UBUNTU_ISO_CHECKSUM = "sha256:b8f31413336b9393ad5d8ef0282717b2ab19f007df2e9ed5196c13d8f9153c8b";
/** `required_plugins` version: 1.1.0 turns on --nat-localhostreachable1 on VirtualBox 7, without
 * which the installer cannot reach Packer's HTTP server (and the flag itself breaks VirtualBox 6). */
export const VIRTUALBOX_PLUGIN_VERSION = ">= 1.1.0";

// BIOS boot of the 20.04.6 live-server ISO (isolinux): dismiss the splash, take the default
// language, open and close the F6 options menu to get an editable kernel command line, then
// add `autoinstall` and the NoCloud URL of Packer's HTTP server. Arguments after `---` still
// reach /proc/cmdline, where subiquity and cloud-init look for them.
const BOOT_COMMAND = [
  "<wait><enter><wait><enter><wait><f6><wait><esc><wait>",
  " autoinstall ds=nocloud-net;s=http://{{ .HTTPIP }}:{{ .HTTPPort }}/",
  "<enter>",
];

/** The source's name in the build block. */
export const VIRTUALBOX_SOURCE = "source.virtualbox-iso.ubuntu";

/** The build user made by packer/http/user-data and deleted by packer/scripts/99-shutdown.sh. */
const BUILD_USER = "packer";
const BUILD_PASSWORD = "packer";
export const SHUTDOWN_SCRIPT_REMOTE = "/tmp/k8s-ha-shutdown.sh";

/** Variables read only by the VirtualBox source. */
export function virtualBoxVariables(): Variable[] {
  return [
    {
      name: "iso_url",
      type: "string",
      default: UBUNTU_ISO_URL,
      description: "Ubuntu 20.04 live-server ISO: a URL, or a local path to skip the download.",
    },
    {
      name: "iso_checksum",
      type: "string",
      default: UBUNTU_ISO_CHECKSUM,
      description: "Checksum of iso_url, pinned so that validate needs no network.",
      rule: [
        '(substr(var.iso_checksum, 0, 7) == "sha256:" && length(var.iso_checksum) == 71) || ' +
          '(substr(var.iso_checksum, 0, 7) == "sha512:" && length(var.iso_checksum) == 135)',
        "The iso_checksum must be pinned as sha256:<hex> or sha512:<hex>, not fetched from a file: URL.",
      ],
    },
    {
      name: "headless",
      type: "bool",
      default: true,
      description: "Run VirtualBox without a window; false shows the installer's console.",
    },
    {
      name: "boot_command",
      type: "list(string)",
      default: BOOT_COMMAND,
      description: "Keys typed at the ISO's BIOS boot menu (isolinux) to start an unattended autoinstall.",
    },
  ];
}

const OVF_DESCRIPTION =
  "k8s-ha golden image: Ubuntu 20.04 with keepalived, haproxy, curl and ufw; " +
  "keepalived and haproxy stay disabled until a node's NoCloud seed ISO configures them.";

export function virtualBoxSource(): HclBodyItem {
  return block("source", ["virtualbox-iso", "ubuntu"], [
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
    comment(
      "Disk first: the empty disk falls through to the installer ISO on the first boot, and the\n" +
        "installed system boots from disk after the installer's reboot, ISO or not (and so do clones).",
    ),
    attr("vboxmanage", [
      ["modifyvm", "{{ .Name }}", "--boot1", "disk", "--boot2", "dvd", "--boot3", "none"],
      ["modifyvm", "{{ .Name }}", "--rtcuseutc", "on"],
      ["modifyvm", "{{ .Name }}", "--graphicscontroller", "vmsvga"],
      ["modifyvm", "{{ .Name }}", "--vram", "16"],
    ]),
    blank,
    comment("Unattended install: the autoinstall seed in http/ answers subiquity."),
    attr("http_directory", template([expr("path.root"), "/http"])),
    attr("boot_wait", "8s"),
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
      OVF_DESCRIPTION,
    ]),
  ]);
}


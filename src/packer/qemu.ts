// The qemu source of the golden-image template: the distribution's cloud image booted as it is
// (`disk_image = true`, no installer), given the build user through NoCloud from Packer's own
// HTTP server, provisioned by the same scripts as the VirtualBox build, written out as a qcow2
// for KVM, libvirt and Proxmox. Verified with Debian's Packer 1.6.6 and qemu 7.2 (DESIGN.md).
import { attr, blank, comment, expr, template, type HclBodyItem } from "./hcl.js";

export const QEMU_SOURCE = { type: "qemu", name: "golden" } as const;

/** Debian/Ubuntu's OVMF (package ovmf): UEFI firmware, which every cloud image boots with. */
export const OVMF_FIRMWARE = "/usr/share/ovmf/OVMF.fd";

/** The files under the package's packer/ folder that only this source uses. */
export const QEMU_HTTP_FILES = ["qemu-http/meta-data", "qemu-http/user-data"] as const;

export interface QemuSourceInput {
  /** HCL expressions of the template's variables, by name. */
  v: (name: string) => ReturnType<typeof expr>;
  buildUser: string;
  buildPassword: string;
  shutdownCommand: string;
}

/** The body of `source "qemu" "golden"`. */
export function qemuSourceBody({ v, buildUser, buildPassword, shutdownCommand }: QemuSourceInput): HclBodyItem[] {
  return [
    comment("The cloud image itself is the disk: no installer, so the bake takes minutes."),
    attr("iso_url", v("iso_url")),
    attr("iso_checksum", v("iso_checksum")),
    attr("disk_image", true),
    attr("format", "qcow2"),
    attr("vm_name", template([v("vm_name"), ".qcow2"])),
    attr("cpus", v("cpus")),
    attr("memory", v("memory")),
    attr("disk_size", template([v("disk_size"), "M"])),
    attr("disk_interface", "virtio"),
    attr("net_device", "virtio-net"),
    attr("headless", v("headless")),
    comment(
      'kvm where it works; "tcg" (emulation, slower) where /dev/kvm is missing or unusable:\n' +
        "k8s-ha build-image probes it and passes -var accelerator=…; empty lets Packer choose.",
    ),
    attr("accelerator", v("accelerator")),
    blank,
    comment(
      "UEFI firmware, and the NoCloud address in the SMBIOS serial: cloud-init fetches the build\n" +
        "user from Packer's HTTP server (10.0.2.2 is the host, seen from qemu's user network).\n" +
        "Listeners on loopback only: the SSH port forward and the HTTP server are the build's own.",
    ),
    attr("qemuargs", [
      ["-bios", v("firmware")],
      ["-smbios", "type=1,serial=ds=nocloud-net;s=http://{{ .HTTPIP }}:{{ .HTTPPort }}/"],
      ["-netdev", "user,id=user.0,hostfwd=tcp:127.0.0.1:{{ .SSHHostPort }}-:22"],
    ]),
    attr("http_directory", template([expr("path.root"), "/qemu-http"])),
    attr("http_bind_address", "127.0.0.1"),
    attr("vnc_bind_address", "127.0.0.1"),
    blank,
    comment("The build user from qemu-http/user-data; packer/scripts/99-shutdown.sh deletes it."),
    attr("communicator", "ssh"),
    attr("ssh_username", buildUser),
    attr("ssh_password", buildPassword),
    attr("ssh_timeout", "30m"),
    attr("shutdown_command", shutdownCommand),
    attr("shutdown_timeout", "10m"),
    blank,
    attr("output_directory", v("output_directory")),
  ];
}

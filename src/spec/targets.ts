// What each target OS is and ships: its name, how a node is provisioned, and the keepalived and
// haproxy releases that will read the rendered configs. The one place per-OS facts live; the
// schema's enum, the semantic checks, the planner and the renderers all read it, so a new target
// (or a target's new release of a tool) is added here first.

/** Where the cluster runs. ubuntu-20.04 stays the default for existing specs. */
export const TARGET_OSES = ["ubuntu-20.04", "ubuntu-22.04", "ubuntu-24.04", "debian-12", "fcos", "flatcar"] as const;
export type TargetOs = (typeof TARGET_OSES)[number];

/** Who runs keepalived and haproxy: the OS (systemd) or the kubelet (static pods). */
export const SERVICE_MODES = ["systemd", "static-pods"] as const;
export type ServiceMode = (typeof SERVICE_MODES)[number];

export interface OsFacts {
  /** Human name, for messages and comments. */
  name: string;
  /** cloud-init NoCloud files, or one Ignition config per node. */
  provisioning: "cloud-init" | "ignition";
  /**
   * The haproxy and keepalived that read our configs there: the distribution's packages on the
   * cloud-init targets; on fcos/flatcar the pinned container images (render/images.ts).
   */
  haproxy: string;
  keepalived: string;
  /**
   * The distribution's own cloud image that the qemu builder starts from (`disk_image = true`):
   * a dated build, never a moving `current/` link, with its checksum pinned, because Packer 1.6.6
   * fetches `file:` checksum URLs at validate time and CI has no network. Absent on Ignition targets.
   */
  cloudImage?: CloudImage;
}

export interface CloudImage {
  url: string;
  /** `sha256:<hex>` or `sha512:<hex>`, as the distribution publishes it (SHA256SUMS / SHA512SUMS). */
  checksum: string;
}

// Found 2026-11-30 with the code search over public repositories (no network to the image hosts
// here): each digest is the one the release's SHA256SUMS/SHA512SUMS lists, as copied by projects
// that verify it. noble 20260826: two sources agree (one in nix base32). Ubuntu removes dated
// release folders after some months: `-var iso_url=… -var iso_checksum=…` overrides them.
const CLOUD_IMAGES = {
  focal: {
    url: "https://cloud-images.ubuntu.com/releases/focal/release-20250429/ubuntu-20.04-server-cloudimg-amd64.img",
    checksum: "sha256:d8099fc706ba63de95e1e3657a019ce46c4e8eface838319138d1a18f274ddb4",
  },
  jammy: {
    url: "https://cloud-images.ubuntu.com/releases/jammy/release-20260826/ubuntu-22.04-server-cloudimg-amd64.img",
    checksum: "sha256:c0a5af17e6c0f76351fe07e2fffef3011dab1facb8a8ed5701dcf648dabd4f0a",
  },
  noble: {
    url: "https://cloud-images.ubuntu.com/releases/noble/release-20260826/ubuntu-24.04-server-cloudimg-amd64.img",
    checksum: "sha256:d0fe84bb5f80853425fa6be28e2c106f30104c3cfe8611933f2e65c9b63f0e30",
  },
  bookworm: {
    url: "https://cloud.debian.org/images/cloud/bookworm/20260923-2610/debian-12-genericcloud-amd64-20260923-2610.qcow2",
    checksum:
      "sha512:3d94c9dd66d8a283fde060b8810373b7ae04038b956ee00d553d1ae564f6fbdeaa2fd6e7404e87e53348b5a9509170f3ea7c0731ba737590c5c4cb8d559a47f8",
  },
} satisfies Record<string, CloudImage>;

export const OS_FACTS: Record<TargetOs, OsFacts> = {
  "ubuntu-20.04": {
    name: "Ubuntu 20.04",
    provisioning: "cloud-init",
    haproxy: "2.0",
    keepalived: "2.0.19",
    cloudImage: CLOUD_IMAGES.focal,
  },
  "ubuntu-22.04": {
    name: "Ubuntu 22.04",
    provisioning: "cloud-init",
    haproxy: "2.4",
    keepalived: "2.2.4",
    cloudImage: CLOUD_IMAGES.jammy,
  },
  "ubuntu-24.04": {
    name: "Ubuntu 24.04",
    provisioning: "cloud-init",
    haproxy: "2.8",
    keepalived: "2.2.8",
    cloudImage: CLOUD_IMAGES.noble,
  },
  "debian-12": {
    name: "Debian 12",
    provisioning: "cloud-init",
    haproxy: "2.6",
    keepalived: "2.2.7",
    cloudImage: CLOUD_IMAGES.bookworm,
  },
  fcos: { name: "Fedora CoreOS", provisioning: "ignition", haproxy: "2.6", keepalived: "2.0.20" },
  flatcar: { name: "Flatcar Container Linux", provisioning: "ignition", haproxy: "2.6", keepalived: "2.0.20" },
};

/** Human names, for messages and comments. */
export const OS_NAMES: Record<TargetOs, string> = Object.fromEntries(
  TARGET_OSES.map((os) => [os, OS_FACTS[os].name]),
) as Record<TargetOs, string>;

/** Fedora CoreOS and Flatcar boot with Ignition; the others with cloud-init. */
export function isIgnitionOs(os: TargetOs): boolean {
  return OS_FACTS[os].provisioning === "ignition";
}

/** True when keepalived and haproxy run in containers (their images, not the OS packages). */
export function runsContainers(target: { os: TargetOs; services: ServiceMode }): boolean {
  return target.services === "static-pods" || isIgnitionOs(target.os);
}

/**
 * The live-server ISO that the VirtualBox build installs from (subiquity autoinstall), per
 * Ubuntu release. Checksums are pinned: Debian's Packer 1.6.6 downloads a `file:` checksum URL
 * during `packer validate`, which then needs the network. docs/golden-image.md says where each
 * value came from. releases.ubuntu.com keeps only a series' newest point release: when a newer
 * one ships, the old ISO moves to old-releases.ubuntu.com/releases/<version>/ (override iso_url).
 */
export interface InstallerIso {
  url: string;
  /** "sha256:<hex>" of the ISO, from the release's SHA256SUMS. */
  checksum: string;
  /** The boot menu BIOS shows: isolinux (20.04) or GRUB (22.04 and later): different keys start the install. */
  bootLoader: "isolinux" | "grub";
}

export const INSTALLER_ISOS: Partial<Record<TargetOs, InstallerIso>> = {
  "ubuntu-20.04": {
    url: "https://releases.ubuntu.com/20.04.6/ubuntu-20.04.6-live-server-amd64.iso",
    checksum: "sha256:b8f31413336b9393ad5d8ef0282717b2ab19f007df2e9ed5196c13d8f9153c8b",
    bootLoader: "isolinux",
  },
  "ubuntu-22.04": {
    url: "https://releases.ubuntu.com/22.04.5/ubuntu-22.04.5-live-server-amd64.iso",
    checksum: "sha256:9bc6028870aef3f74f4e16b900008179e78b130e6b0b9a140635434a46aa98b0",
    bootLoader: "grub",
  },
  "ubuntu-24.04": {
    url: "https://releases.ubuntu.com/24.04.5/ubuntu-24.04.5-live-server-amd64.iso",
    checksum: "sha256:97f3d7ffb032c3eb3b23d2c8be9cc76e60c2c1f2c0146ba5ba9fe01cafae0fd8",
    bootLoader: "grub",
  },
};

/** How build-image bakes the golden image: VirtualBox from the installer ISO (an OVA), or qemu
 * from the distribution's cloud image (a qcow2, for KVM, libvirt and Proxmox). */
export const IMAGE_BUILDERS = ["virtualbox", "qemu"] as const;
export type ImageBuilder = (typeof IMAGE_BUILDERS)[number];

// Renders the Packer template that bakes the golden image: Ubuntu 20.04 with keepalived,
// haproxy, curl and ufw installed and the two services disabled until a node's seed configures
// them. Pure: the static scripts and the autoinstall seed come in as `assets` (read by assets.ts).
//
// Two Packer generations read this folder:
// - Packer >= 1.7 builds the whole folder: `packer init` reads plugins.pkr.hcl (the only file
//   with `required_plugins`) and installs the VirtualBox plugin, then `packer build <folder>`.
// - Debian's Packer 1.6.6 (what CI has) rejects `required_plugins` and `templatefile`, so the
//   main template must stand on its own: `packer validate packer/k8s-ha.pkr.hcl`.
import type { ImageSpec } from "../spec/schema.js";
import { GENERATED_BANNER, type Artifact } from "../render/artifact.js";
import { attr, blank, block, comment, expr, renderHcl, template, type HclBodyItem, type HclValue } from "./hcl.js";

export const PACKER_DIR = "packer";
export const PACKER_MAIN_FILE = "packer/k8s-ha.pkr.hcl";
export const PACKER_PLUGINS_FILE = "packer/plugins.pkr.hcl";

/** The static files under the package's top-level packer/ folder that the template uses. */
export const PACKER_ASSET_FILES = [
  "http/meta-data",
  "http/user-data",
  "scripts/10-wait-cloud-init.sh",
  "scripts/20-install-packages.sh",
  "scripts/30-kubernetes.sh",
  "scripts/90-generalize.sh",
  "scripts/99-shutdown.sh",
] as const;
export type PackerAssetFile = (typeof PACKER_ASSET_FILES)[number];
/** Shipped and run only when the spec has spec.kubernetes: without it the template is unchanged. */
export const KUBERNETES_SCRIPT = "scripts/30-kubernetes.sh" satisfies PackerAssetFile;
/** Contents of each asset file, by its path under packer/. */
export type PackerAssets = Readonly<Record<PackerAssetFile, string>>;

export const UBUNTU_ISO_URL = "https://releases.ubuntu.com/20.04.6/ubuntu-20.04.6-live-server-amd64.iso";
/** Pinned: `packer validate` fetches `file:` checksums, and CI has no network. */
export const UBUNTU_ISO_CHECKSUM = "sha256:b8f31413336b9393ad5d8ef0282717b2ab19f007df2e9ed5196c13d8f9153c8b";
/** `required_plugins` version: 1.1.0 turns on --nat-localhostreachable1 on VirtualBox 7, without
 * which the installer cannot reach Packer's HTTP server (and the flag itself breaks VirtualBox 6). */
export const VIRTUALBOX_PLUGIN_VERSION = ">= 1.1.0";

/** The build user made by packer/http/user-data and deleted by packer/scripts/99-shutdown.sh. */
const BUILD_USER = "packer";
const BUILD_PASSWORD = "packer";
const SHUTDOWN_SCRIPT_REMOTE = "/tmp/k8s-ha-shutdown.sh";

export interface PackerInput {
  /** Accepted for the renderer contract but kept out of the bytes on purpose: the image is the
   * same for every cluster, and renaming a cluster must not change the fingerprint and force a
   * rebuild that takes the better part of an hour. */
  clusterName: string;
  image: ImageSpec;
  assets: PackerAssets;
  /** spec.kubernetes: 30-kubernetes.sh installs containerd, kubeadm, kubelet, kubectl of this release. */
  kubernetes?: { version: string };
}

const v = (name: string) => expr(`var.${name}`);

// BIOS boot of the 20.04.6 live-server ISO (isolinux): dismiss the splash, take the default
// language, open and close the F6 options menu to get an editable kernel command line, then
// add `autoinstall` and the NoCloud URL of Packer's HTTP server. Arguments after `---` still
// reach /proc/cmdline, where subiquity and cloud-init look for them.
const BOOT_COMMAND = [
  "<wait><enter><wait><enter><wait><f6><wait><esc><wait>",
  " autoinstall ds=nocloud-net;s=http://{{ .HTTPIP }}:{{ .HTTPPort }}/",
  "<enter>",
];

interface Variable {
  name: string;
  type: string;
  default: HclValue;
  description: string;
  /** A validation rule: [condition, error message]. Packer 1.6.6 has no regex(), and
   * can(regex(…)) is silently false there, so conditions use substr/length/comparisons. */
  rule?: [string, string];
}

function variables(image: ImageSpec): Variable[] {
  const atLeast = (name: string, min: number, unit = ""): [string, string] => [
    `var.${name} >= ${min}`,
    `The ${name} must be at least ${min}${unit}.`,
  ];
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
      name: "vm_name",
      type: "string",
      default: image.name,
      description: "Image name (spec.image.name): the VM, the OVA and the OVF product.",
    },
    {
      name: "image_version",
      type: "string",
      default: image.version,
      description: "Image version (spec.image.version), recorded in the OVF.",
    },
    {
      name: "cpus",
      type: "number",
      default: image.cpus,
      description: "Virtual CPUs (spec.image.cpus).",
      rule: atLeast("cpus", 1),
    },
    {
      name: "memory",
      type: "number",
      default: image.memoryMiB,
      description: "Memory in MiB (spec.image.memoryMiB).",
      rule: atLeast("memory", 1024, " MiB"),
    },
    {
      name: "disk_size",
      type: "number",
      default: image.diskMiB,
      description: "Disk size in MiB (spec.image.diskMiB).",
      rule: atLeast("disk_size", 8192, " MiB"),
    },
    {
      // No rule (no regex() in 1.6.6): the spec checks the names, and 20-install-packages.sh
      // refuses anything that is not one.
      name: "extra_packages",
      type: "list(string)",
      default: image.extraPackages,
      description: "Debian packages installed after the base set (spec.image.extraPackages).",
    },
    {
      name: "headless",
      type: "bool",
      default: true,
      description: "Run VirtualBox without a window; false shows the installer's console.",
    },
    {
      name: "output_directory",
      type: "string",
      default: `output-${image.name}-${image.version}`,
      description: "Where Packer writes the OVA; k8s-ha build-image points it at a staging folder.",
    },
    {
      name: "boot_command",
      type: "list(string)",
      default: BOOT_COMMAND,
      description: "Keys typed at the ISO's BIOS boot menu (isolinux) to start an unattended autoinstall.",
    },
  ];
}

function validation(condition: string, message: string): HclBodyItem {
  return block("validation", [], [attr("condition", expr(condition)), attr("error_message", message)]);
}

function variableBlocks(image: ImageSpec): HclBodyItem[] {
  return variables(image).flatMap((variable, i) => [
    ...(i > 0 ? [blank] : []),
    block("variable", [variable.name], [
      attr("type", expr(variable.type)),
      attr("default", variable.default),
      attr("description", variable.description),
      ...(variable.rule ? [validation(...variable.rule)] : []),
    ]),
  ]);
}

const OVF_DESCRIPTION =
  "k8s-ha golden image: Ubuntu 20.04 with keepalived, haproxy, curl and ufw; " +
  "keepalived and haproxy stay disabled until a node's NoCloud seed ISO configures them.";

function source(): HclBodyItem {
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

function build(kubernetes: PackerInput["kubernetes"]): HclBodyItem {
  const script = (name: string) => template([expr("path.root"), `/scripts/${name}`]);
  return block("build", [], [
    attr("sources", ["source.virtualbox-iso.ubuntu"]),
    blank,
    block("provisioner", ["shell"], [
      comment("Every script runs as root, with EXTRA_PACKAGES in its environment."),
      attr("execute_command", "chmod +x '{{ .Path }}' && sudo -n env {{ .Vars }} '{{ .Path }}'"),
      attr("environment_vars", [
        template(["EXTRA_PACKAGES=", expr('join(" ", var.extra_packages)')]),
        ...(kubernetes ? [`K8S_HA_KUBERNETES_VERSION=${kubernetes.version}`] : []),
      ]),
      attr("scripts", [
        script("10-wait-cloud-init.sh"),
        script("20-install-packages.sh"),
        ...(kubernetes ? [script("30-kubernetes.sh")] : []),
        script("90-generalize.sh"),
      ]),
    ]),
    blank,
    block("provisioner", ["file"], [
      attr("source", script("99-shutdown.sh")),
      attr("destination", SHUTDOWN_SCRIPT_REMOTE),
    ]),
  ]);
}

function header(lines: string): HclBodyItem[] {
  return [comment(`${GENERATED_BANNER}\n\n${lines}`), blank];
}

function mainTemplate(image: ImageSpec, kubernetes: PackerInput["kubernetes"]): string {
  return renderHcl([
    ...header(
      "The k8s-ha golden image: Ubuntu 20.04 with keepalived, haproxy, curl and ufw, the services\n" +
        "disabled until a node's NoCloud seed configures them. Built by `k8s-ha build-image`, or:\n" +
        "  packer init . && packer build .        (Packer >= 1.7, this folder)\n" +
        "  packer validate k8s-ha.pkr.hcl        (Packer 1.6.6 validates this file alone)",
    ),
    ...variableBlocks(image),
    blank,
    source(),
    blank,
    build(kubernetes),
  ]);
}

function pluginsFile(): string {
  return renderHcl([
    ...header(
      "Packer >= 1.7: `packer init` installs the VirtualBox plugin. Kept apart from the\n" +
        "template because Packer 1.6.6 rejects `required_plugins`.",
    ),
    block("packer", [], [
      block("required_plugins", [], [
        attr("virtualbox", { version: VIRTUALBOX_PLUGIN_VERSION, source: "github.com/hashicorp/virtualbox" }),
      ]),
    ]),
  ]);
}

/** Puts the banner after a first line that must stay first (`#!`, `#cloud-config`), else on top. */
function withBanner(contents: string): string {
  const banner = `# ${GENERATED_BANNER}\n`;
  if (contents.startsWith("#!") || contents.startsWith("#cloud-config")) {
    const end = contents.indexOf("\n") + 1;
    return contents.slice(0, end) + banner + contents.slice(end);
  }
  return banner + contents;
}

/** The files of out/packer/, in a fixed order. */
export function renderPacker(input: PackerInput): Artifact[] {
  const artifacts: Artifact[] = [
    { path: PACKER_PLUGINS_FILE, contents: pluginsFile(), mode: 0o644 },
    { path: PACKER_MAIN_FILE, contents: mainTemplate(input.image, input.kubernetes), mode: 0o644 },
  ];
  for (const file of PACKER_ASSET_FILES) {
    if (file === KUBERNETES_SCRIPT && !input.kubernetes) continue;
    const contents = input.assets[file];
    if (typeof contents !== "string") throw new Error(`packer asset missing: ${file}`);
    artifacts.push({
      path: `${PACKER_DIR}/${file}`,
      contents: withBanner(contents),
      mode: file.endsWith(".sh") ? 0o755 : 0o644,
    });
  }
  return artifacts;
}

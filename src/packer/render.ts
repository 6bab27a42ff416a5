// Renders the Packer template that bakes the golden image: Ubuntu with keepalived,
// haproxy, curl and ufw installed and the two services disabled until a node's seed configures
// them. Pure: the static scripts and the autoinstall seed come in as `assets` (read by assets.ts).
//
// Two Packer generations read this folder:
// - Packer >= 1.7 builds the whole folder: `packer init` reads plugins.pkr.hcl (the only file
//   with `required_plugins`) and installs the VirtualBox plugin, then `packer build <folder>`.
// - Debian's Packer 1.6.6 (what CI has) rejects `required_plugins` and `templatefile`, so the
//   main template must stand on its own: `packer validate packer/k8s-ha.pkr.hcl`.
import type { ImageSpec } from "../spec/schema.js";
import { OS_FACTS, OS_NAMES, type TargetOs } from "../spec/targets.js";
import { GENERATED_BANNER, type Artifact } from "../render/artifact.js";
import { attr, blank, block, comment, expr, renderHcl, template, type HclBodyItem } from "./hcl.js";
import { OVMF_FIRMWARE, QEMU_HTTP_FILES, QEMU_SOURCE, qemuSourceBody } from "./qemu.js";
import { sourceImageVariables, v, variableBlocks, type Variable } from "./variables.js";
import {
  BUILD_PASSWORD,
  BUILD_USER,
  SHUTDOWN_SCRIPT_REMOTE,
  VIRTUALBOX_PLUGIN_VERSION,
  VIRTUALBOX_SOURCE,
  virtualBoxLocals,
  virtualBoxSource,
  virtualBoxVariables,
} from "./virtualbox.js";

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
  "scripts/95-check-image.sh",
  "scripts/99-shutdown.sh",
  ...QEMU_HTTP_FILES,
] as const;
export type PackerAssetFile = (typeof PACKER_ASSET_FILES)[number];
/** Shipped and run only when the spec has spec.kubernetes: without it the template is unchanged. */
export const KUBERNETES_SCRIPT = "scripts/30-kubernetes.sh" satisfies PackerAssetFile;
/** Contents of each asset file, by its path under packer/. */
export type PackerAssets = Readonly<Record<PackerAssetFile, string>>;

export interface PackerInput {
  /** Accepted for the renderer contract but kept out of the bytes on purpose: the image is the
   * same for every cluster, and renaming a cluster must not change the fingerprint and force a
   * rebuild that takes the better part of an hour. */
  clusterName: string;
  image: ImageSpec;
  /** spec.target.os: the release the installer ISO installs (VirtualBox) or the cloud image the
   * qemu builder starts from; the versions the image check expects. */
  os: TargetOs;
  assets: PackerAssets;
  /** spec.kubernetes: 30-kubernetes.sh installs containerd, kubeadm, kubelet, kubectl of this release. */
  kubernetes?: { version: string };
}

/** The qemu plugin: 1.x keeps the 1.6.6 builder's options (disk_image, qemuargs, http_bind_address). */
export const QEMU_PLUGIN_VERSION = ">= 1.0.0, < 2.0.0";

/** The HTTP files each builder serves to its build VM: the autoinstall seed, or the cloud-init user. */
const HTTP_FILES: Record<ImageSpec["builder"], readonly PackerAssetFile[]> = {
  virtualbox: ["http/meta-data", "http/user-data"],
  qemu: QEMU_HTTP_FILES,
};

/** Variables read only by the qemu source: the cloud image it starts from, and how qemu runs. */
function qemuVariables(os: TargetOs): Variable[] {
  const cloudImage = OS_FACTS[os].cloudImage;
  if (!cloudImage) throw new Error(`no cloud image for ${os}`);
  return [
    ...sourceImageVariables(
      cloudImage.url,
      cloudImage.checksum,
      `${OS_NAMES[os]} cloud image (qcow2), the disk the build starts from: a URL, or a local path.`,
    ),
    {
      name: "headless",
      type: "bool",
      default: true,
      description: "Run qemu without a window; false shows the VM's console.",
    },
    {
      name: "accelerator",
      type: "string",
      default: "",
      description:
        'qemu accelerator: "kvm", "tcg" (emulation), or empty for Packer\'s choice (kvm when /dev/kvm exists).',
    },
    {
      name: "firmware",
      type: "string",
      default: OVMF_FIRMWARE,
      description:
        "UEFI firmware for qemu's -bios (Debian/Ubuntu package ovmf; Fedora: /usr/share/edk2/ovmf/OVMF_CODE.fd).",
    },
  ];
}

function qemuSource(): HclBodyItem {
  return block(
    "source",
    [QEMU_SOURCE.type, QEMU_SOURCE.name],
    qemuSourceBody({
      v,
      buildUser: BUILD_USER,
      buildPassword: BUILD_PASSWORD,
      shutdownCommand: `sudo -n /bin/sh ${SHUTDOWN_SCRIPT_REMOTE}`,
    }),
  );
}

/** Variables every builder reads: the image's name, size and packages, and where it goes. */
function sharedVariables(image: ImageSpec): Variable[] {
  const atLeast = (name: string, min: number, unit = ""): [string, string] => [
    `var.${name} >= ${min}`,
    `The ${name} must be at least ${min}${unit}.`,
  ];
  return [
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
      name: "output_directory",
      type: "string",
      default: `output-${image.name}-${image.version}`,
      description: "Where Packer writes the OVA; k8s-ha build-image points it at a staging folder.",
    },
  ];
}

function build(image: ImageSpec, os: TargetOs, kubernetes: PackerInput["kubernetes"]): HclBodyItem {
  const script = (name: string) => template([expr("path.root"), `/scripts/${name}`]);
  const source = image.builder === "qemu" ? `source.${QEMU_SOURCE.type}.${QEMU_SOURCE.name}` : VIRTUALBOX_SOURCE;
  return block(
    "build",
    [],
    [
      attr("sources", [source]),
      blank,
      block(
        "provisioner",
        ["shell"],
        [
          comment(
            "Every script runs as root, with EXTRA_PACKAGES in its environment; 95-check-image.sh fails\n" +
              `the build unless keepalived and haproxy are the releases k8s-ha renders for (${OS_FACTS[os].name}).`,
          ),
          attr("execute_command", "chmod +x '{{ .Path }}' && sudo -n env {{ .Vars }} '{{ .Path }}'"),
          attr("environment_vars", [
            template(["EXTRA_PACKAGES=", expr('join(" ", var.extra_packages)')]),
            `EXPECT_KEEPALIVED=${OS_FACTS[os].keepalived}`,
            `EXPECT_HAPROXY=${OS_FACTS[os].haproxy}`,
            ...(kubernetes ? [`K8S_HA_KUBERNETES_VERSION=${kubernetes.version}`] : []),
          ]),
          attr("scripts", [
            script("10-wait-cloud-init.sh"),
            script("20-install-packages.sh"),
            ...(kubernetes ? [script("30-kubernetes.sh")] : []),
            script("90-generalize.sh"),
            script("95-check-image.sh"),
          ]),
        ],
      ),
      blank,
      block(
        "provisioner",
        ["file"],
        [attr("source", script("99-shutdown.sh")), attr("destination", SHUTDOWN_SCRIPT_REMOTE)],
      ),
    ],
  );
}

function header(lines: string): HclBodyItem[] {
  return [comment(`${GENERATED_BANNER}\n\n${lines}`), blank];
}

function mainTemplate(image: ImageSpec, os: TargetOs, kubernetes: PackerInput["kubernetes"]): string {
  const qemu = image.builder === "qemu";
  const what = qemu
    ? `The k8s-ha golden image, a qcow2 baked by qemu from the ${OS_NAMES[os]} cloud image,\n`
    : `The k8s-ha golden image: ${OS_NAMES[os]} `;
  return renderHcl([
    ...header(
      `${what}with keepalived, haproxy, curl and ufw, the services\n` +
        "disabled until a node's NoCloud seed configures them. Built by `k8s-ha build-image`, or:\n" +
        "  packer init . && packer build .        (Packer >= 1.7, this folder)\n" +
        "  packer validate k8s-ha.pkr.hcl        (Packer 1.6.6 validates this file alone)",
    ),
    ...variableBlocks([...sharedVariables(image), ...(qemu ? qemuVariables(os) : virtualBoxVariables(os))]),
    blank,
    ...(qemu ? [qemuSource()] : [virtualBoxLocals(), blank, virtualBoxSource(os)]),
    blank,
    build(image, os, kubernetes),
  ]);
}

/** Packer >= 1.7 installs builders as plugins; these are the versions the template was checked with. */
const PLUGINS: Record<ImageSpec["builder"], { name: string; version: string; source: string }> = {
  virtualbox: { name: "virtualbox", version: VIRTUALBOX_PLUGIN_VERSION, source: "github.com/hashicorp/virtualbox" },
  qemu: { name: "qemu", version: QEMU_PLUGIN_VERSION, source: "github.com/hashicorp/qemu" },
};

function pluginsFile(image: ImageSpec): string {
  const plugin = PLUGINS[image.builder];
  return renderHcl([
    ...header(
      `Packer >= 1.7: \`packer init\` installs the ${image.builder === "qemu" ? "qemu" : "VirtualBox"} plugin. Kept apart from the\n` +
        "template because Packer 1.6.6 rejects `required_plugins`.",
    ),
    block(
      "packer",
      [],
      [block("required_plugins", [], [attr(plugin.name, { version: plugin.version, source: plugin.source })])],
    ),
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
    { path: PACKER_PLUGINS_FILE, contents: pluginsFile(input.image), mode: 0o644 },
    { path: PACKER_MAIN_FILE, contents: mainTemplate(input.image, input.os, input.kubernetes), mode: 0o644 },
  ];
  // each builder gets only the HTTP files it serves; the Kubernetes script only with spec.kubernetes
  const served = new Set<PackerAssetFile>(Object.values(HTTP_FILES).flat());
  const used = PACKER_ASSET_FILES.filter((file) => !served.has(file) || HTTP_FILES[input.image.builder].includes(file));
  for (const file of used) {
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

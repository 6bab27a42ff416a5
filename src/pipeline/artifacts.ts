// Everything `render` writes for a compiled spec (nodes, Packer template, manifest). Pure given its inputs.
// The Packer template bakes the Ubuntu golden image, so only cloud-init (Ubuntu) targets get it:
// Fedora CoreOS and Flatcar nodes boot their distribution's own image with a config.ign.
import { renderPacker } from "../packer/render.js";
import { INSTALLER_ISOS, OS_FACTS } from "../spec/targets.js";
import type { Artifact } from "../render/artifact.js";
import { renderNodes } from "../render/index.js";
import { GENERATOR } from "../version.js";
import { buildManifest, manifestArtifact } from "../write/manifest.js";
import type { Compiled } from "./compile.js";

type CompiledParts = Pick<Compiled, "plan" | "assets" | "sha256">;

/** The rendered files without the manifest. `nodes`: renderNodes(plan), when the caller has rendered them already (seed). */
export function clusterFiles(
  compiled: CompiledParts,
  extra: readonly Artifact[] = [],
  nodes: readonly Artifact[] = renderNodes(compiled.plan),
): Artifact[] {
  const { plan, assets } = compiled;
  // The VirtualBox template installs Ubuntu from its ISO, the qemu one starts from a cloud image:
  // only targets that have the one their builder needs get a template.
  const bakeable =
    plan.image.builder === "qemu"
      ? OS_FACTS[plan.target.os].cloudImage !== undefined
      : INSTALLER_ISOS[plan.target.os] !== undefined;
  const packer = bakeable
    ? renderPacker({
        clusterName: plan.name,
        image: plan.image,
        os: plan.target.os,
        assets: assets.packer,
        ...(plan.kubernetes ? { kubernetes: { version: plan.kubernetes.version } } : {}),
      })
    : [];
  return [...nodes, ...packer, ...extra];
}

/** manifest.json listing exactly `files`. */
export function manifestOf(compiled: Pick<Compiled, "plan" | "sha256">, files: readonly Artifact[]): Artifact {
  return manifestArtifact(buildManifest(GENERATOR, compiled.plan.name, compiled.sha256, files));
}

/** The rendered files and their manifest. */
export function clusterArtifacts(
  compiled: CompiledParts,
  extra: readonly Artifact[] = [],
  nodes?: readonly Artifact[],
): Artifact[] {
  const artifacts = clusterFiles(compiled, extra, nodes);
  return [...artifacts, manifestOf(compiled, artifacts)];
}

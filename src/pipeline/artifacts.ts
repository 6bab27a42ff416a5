// Everything `render` writes for a compiled spec (nodes, Packer template, manifest). Pure given its inputs.
// The Packer template bakes the Ubuntu golden image, so only cloud-init (Ubuntu) targets get it:
// Fedora CoreOS and Flatcar nodes boot their distribution's own image with a config.ign.
import { renderPacker } from "../packer/render.js";
import type { Artifact } from "../render/artifact.js";
import { renderNodes } from "../render/index.js";
import { GENERATOR } from "../version.js";
import { buildManifest, manifestArtifact } from "../write/manifest.js";
import type { Compiled } from "./compile.js";

/** `nodes`: renderNodes(plan), when the caller has rendered them already (seed). */
export function clusterArtifacts(compiled: Pick<Compiled, "plan" | "assets" | "sha256">, extra: readonly Artifact[] = [], nodes: readonly Artifact[] = renderNodes(compiled.plan)): Artifact[] {
  const { plan, assets } = compiled;
  const packer = plan.target.provisioning === "cloud-init" ? renderPacker({ clusterName: plan.name, image: plan.image, assets: assets.packer, ...(plan.kubernetes ? { kubernetes: { version: plan.kubernetes.version } } : {}) }) : [];
  const artifacts = [...nodes, ...packer, ...extra];
  return [...artifacts, manifestArtifact(buildManifest(GENERATOR, compiled.plan.name, compiled.sha256, artifacts))];
}

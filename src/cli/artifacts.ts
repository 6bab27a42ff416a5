// Everything `render` writes for a compiled spec, manifest included. Pure given its inputs.
import type { Artifact } from "../render/artifact.js";
import { renderNodes } from "../render/index.js";
import { GENERATOR } from "../version.js";
import { buildManifest, manifestArtifact } from "../write/manifest.js";
import type { Compiled } from "./pipeline.js";

export function clusterArtifacts(compiled: Compiled, extra: readonly Artifact[] = []): Artifact[] {
  const artifacts = [...renderNodes(compiled.plan), ...extra];
  return [...artifacts, manifestArtifact(buildManifest(GENERATOR, compiled.plan.name, compiled.sha256, artifacts))];
}

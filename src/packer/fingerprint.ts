// The template fingerprint: what decides whether an image must be baked again. It covers every
// byte Packer reads from the rendered folder (template, scripts, autoinstall seed) and their
// modes, and nothing else: a spec change that leaves the image alone (a VIP, a node) keeps it.
import { createHash } from "node:crypto";
import { artifactBytes, byPath, type Artifact } from "../render/artifact.js";

/** Hex sha256 over the artifacts' paths, modes and contents, independent of their order. */
export function templateFingerprint(artifacts: readonly Artifact[]): string {
  const hash = createHash("sha256");
  hash.update("k8s-ha packer template v1\n");
  const sorted = [...artifacts].sort(byPath);
  for (const artifact of sorted) {
    const bytes = artifactBytes(artifact.contents);
    // Length-prefixed, so that no two different sets of files hash the same bytes.
    hash.update(`${artifact.path}\u0000${artifact.mode.toString(8)}\u0000${bytes.byteLength}\u0000`);
    hash.update(bytes);
  }
  return hash.digest("hex");
}

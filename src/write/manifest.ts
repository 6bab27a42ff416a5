// manifest.json: every artifact with its sha256 and size, the spec's sha256 and the tool version.
// No timestamps, sorted paths: the same spec gives the same manifest on every machine.
import { sha256 } from "./hash.js";
import { byPath, type Artifact } from "../render/artifact.js";

export interface ManifestEntry {
  path: string;
  sha256: string;
  size: number;
  mode: string;
}

export interface Manifest {
  generator: string;
  cluster: string;
  specSha256: string;
  artifacts: ManifestEntry[];
}

export function byteLength(contents: string | Uint8Array): number {
  return typeof contents === "string" ? Buffer.byteLength(contents) : contents.byteLength;
}

export function buildManifest(
  generator: string,
  cluster: string,
  specSha256: string,
  artifacts: readonly Artifact[],
): Manifest {
  const entries = artifacts
    .map((a) => ({
      path: a.path,
      sha256: sha256(a.contents),
      size: byteLength(a.contents),
      mode: `0${a.mode.toString(8)}`,
    }))
    .sort(byPath);
  return { generator, cluster, specSha256, artifacts: entries };
}

export function manifestArtifact(manifest: Manifest): Artifact {
  return { path: "manifest.json", contents: `${JSON.stringify(manifest, null, 2)}\n`, mode: 0o644 };
}

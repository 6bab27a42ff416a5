// Which files a run rewrites and what its manifest may list. A run rewrites only some of the
// files the spec describes (`render` no seeds, `--node` one node's files); the other files
// already in the output directory are never touched. The manifest lists what was written, and
// each other file of this spec only when the file on disk already holds exactly its bytes: a
// seed made from an earlier spec is left in place but is not vouched for (it is "stale").
import { artifactBytes, type Artifact } from "../render/artifact.js";
import { readOutputFile } from "./output.js";

export interface PartialOutput {
  /** The files to write now. */
  written: Artifact[];
  /** Files of this spec that were not rewritten but are on disk, byte for byte. */
  kept: Artifact[];
  /** Paths of files of this spec that are on disk with other bytes: left alone, not in the manifest. */
  stale: string[];
}

/** `expected`: every file this spec describes; `rewrite`: which of them this run writes. */
export async function partialOutput(
  dir: string,
  expected: readonly Artifact[],
  rewrite: (path: string) => boolean,
): Promise<PartialOutput> {
  const result: PartialOutput = { written: [], kept: [], stale: [] };
  for (const artifact of expected) {
    if (rewrite(artifact.path)) {
      result.written.push(artifact);
      continue;
    }
    const onDisk = await readOutputFile(dir, artifact.path);
    if (onDisk === undefined) continue;
    if (Buffer.from(onDisk).equals(artifactBytes(artifact.contents))) result.kept.push(artifact);
    else result.stale.push(artifact.path);
  }
  return result;
}

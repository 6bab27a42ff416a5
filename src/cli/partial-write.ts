// The write of `render` and `seed`: only the files this run rewrites (all of them, or one node's
// with --node), then a manifest that lists them and every other file of this spec found on disk
// byte for byte (src/write/partial.ts). Files found with other bytes are named on stderr.
import type { Compiled } from "../pipeline/compile.js";
import { manifestOf } from "../pipeline/artifacts.js";
import type { Artifact } from "../render/artifact.js";
import { nodeDir } from "../render/paths.js";
import { writeArtifacts } from "../write/output.js";
import { partialOutput, type PartialOutput } from "../write/partial.js";
import { stderr } from "../terminal.js";

/** With --node NAME, only paths under nodes/NAME/; else every path `all` accepts. */
export function rewriteFilter(
  node: string | undefined,
  all: (path: string) => boolean = () => true,
): (path: string) => boolean {
  if (node === undefined) return all;
  const prefix = `${nodeDir(node)}/`;
  return (path) => path.startsWith(prefix) && all(path);
}

/** Writes the files `rewrite` selects from `expected`, plus manifest.json and what `unlisted` makes of it (not in the manifest), in one write. */
export async function writePartial(
  dir: string,
  compiled: Pick<Compiled, "plan" | "sha256">,
  expected: readonly Artifact[],
  rewrite: (path: string) => boolean,
  unlisted: (manifest: Artifact) => Artifact[] | Promise<Artifact[]> = () => [],
): Promise<PartialOutput & { manifest: Artifact }> {
  const output = await partialOutput(dir, expected, rewrite);
  const manifest = manifestOf(compiled, [...output.written, ...output.kept]);
  await writeArtifacts(dir, [...output.written, manifest, ...(await unlisted(manifest))]);
  for (const path of output.stale) {
    stderr.write(
      `  left ${path} as it is: it was made from another spec, so manifest.json does not list it (k8s-ha seed without --node renews every file)\n`,
    );
  }
  return { ...output, manifest };
}

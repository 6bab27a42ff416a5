// `k8s-ha render`: writes the rendered files (all, or one node's with --node) and the manifest.
// Seeds are `seed`'s: a seed ISO already in the output stays, listed in the manifest only when
// it is exactly the seed this spec makes (render builds them in memory to compare, never writes).
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { clusterFiles } from "../../pipeline/artifacts.js";
import { renderNodes } from "../../render/index.js";
import { parseSourceDateEpoch } from "../../seed/date.js";
import { buildSeeds, seedArtifacts, seedPath, selectNodes } from "../../seed/seed-artifacts.js";
import { compileSpec } from "../compile.js";
import { rewriteFilter, writePartial } from "../partial-write.js";
import { stderr, stdout } from "../../terminal.js";

export async function runRender(
  specPath: string | undefined,
  options: { output: string; node?: string; json?: boolean },
): Promise<void> {
  const sourceDate = parseSourceDateEpoch(process.env.SOURCE_DATE_EPOCH);
  const compiled = await compileSpec(specPath);
  const { plan } = compiled;
  if (options.node !== undefined) selectNodes(plan, [options.node]);
  const nodes = renderNodes(plan);
  // only the seeds already in the output can be listed, so only those are built (issue 13: building
  // three ISOs was 15 ms of a render)
  const onDisk = plan.nodes.filter((node) => existsSync(join(options.output, seedPath(node.name))));
  const seeds =
    plan.target.provisioning === "cloud-init" && onDisk.length > 0
      ? seedArtifacts(
          buildSeeds(plan, nodes, { nodes: onDisk.map((n) => n.name), ...(sourceDate ? { date: sourceDate } : {}) }),
        )
      : [];
  const seedPaths = new Set(seeds.map((s) => s.path));
  const expected = [...clusterFiles(compiled, [], nodes), ...seeds];
  const { written, manifest } = await writePartial(
    options.output,
    compiled,
    expected,
    rewriteFilter(options.node, (path) => !seedPaths.has(path)),
  );
  stderr.write(
    `rendered ${options.node ?? `${plan.nodes.length} node(s)`} of cluster ${plan.name} into ${options.output} (${written.length + 1} files)\n`,
  );
  if (options.json) {
    // the manifest is the result: every file of this spec in the output, with its sha256, size and mode
    const document = JSON.parse(String(manifest.contents)) as Record<string, unknown>;
    stdout.write(`${JSON.stringify({ output: resolve(options.output), ...document }, null, 2)}\n`);
  }
}

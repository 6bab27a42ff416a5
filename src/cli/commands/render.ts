import { resolve } from "node:path";
import { writeArtifacts } from "../../write/output.js";
import { clusterArtifacts } from "../../pipeline/artifacts.js";
import { compileSpec } from "../compile.js";

export async function runRender(specPath: string | undefined, options: { output: string; json?: boolean }): Promise<void> {
  const compiled = await compileSpec(specPath);
  const artifacts = clusterArtifacts(compiled);
  await writeArtifacts(options.output, artifacts);
  process.stderr.write(
    `rendered ${compiled.plan.nodes.length} node(s) of cluster ${compiled.plan.name} into ${options.output} (${artifacts.length} files)\n`,
  );
  if (options.json) {
    // the manifest is the result: every file written, with its sha256, size and mode
    const manifest = JSON.parse(String(artifacts.find((a) => a.path === "manifest.json")!.contents)) as Record<string, unknown>;
    process.stdout.write(`${JSON.stringify({ output: resolve(options.output), ...manifest }, null, 2)}\n`);
  }
}

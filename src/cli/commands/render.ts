import { writeArtifacts } from "../../write/output.js";
import { clusterArtifacts } from "../../pipeline/artifacts.js";
import { compileSpec } from "../compile.js";

export async function runRender(specPath: string | undefined, options: { output: string }): Promise<void> {
  const compiled = await compileSpec(specPath);
  const artifacts = clusterArtifacts(compiled);
  await writeArtifacts(options.output, artifacts);
  process.stderr.write(
    `rendered ${compiled.plan.nodes.length} node(s) of cluster ${compiled.plan.name} into ${options.output} (${artifacts.length} files)\n`,
  );
}

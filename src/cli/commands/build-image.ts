// build-image: bake the golden image with Packer from the spec's rendered template.
import { buildImage } from "../../packer/build-image.js";
import { compileSpec } from "../pipeline.js";

export interface BuildImageCommandOptions {
  output: string;
  dryRun?: boolean;
  force?: boolean;
}

export async function runBuildImage(specPath: string | undefined, options: BuildImageCommandOptions): Promise<void> {
  const compiled = await compileSpec(specPath);
  const record = await buildImage({
    outDir: options.output,
    specSha256: compiled.sha256,
    clusterName: compiled.plan.name,
    image: compiled.plan.image,
    dryRun: options.dryRun ?? false,
    force: options.force ?? false,
    stderr: process.stderr,
    stdout: process.stdout,
  });
  if (record) process.stderr.write(`image ${record.name} ${record.version}: ${record.file} (${record.size} bytes, sha256 ${record.sha256})\n`);
}

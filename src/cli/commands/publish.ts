// `k8s-ha publish [spec] -o DIR`: the image build-image baked (and the seeds bundle of
// `seed --bundle`, when present) to spec.publish.s3, then the catalogue. src/publish/publish.ts
// has the order of steps that keeps the bucket consistent.
import { publishImage } from "../../publish/publish.js";
import { compileSpec, publishTarget } from "../compile.js";
import { stdout } from "../../terminal.js";

export interface PublishCommandOptions {
  output: string;
  force?: boolean;
  json?: boolean;
}

export async function runPublish(spec: string | undefined, options: PublishCommandOptions): Promise<void> {
  const compiled = await compileSpec(spec, { requires: ["publish"], nothingDone: "nothing was published" });
  const s3 = publishTarget(compiled);
  const result = await publishImage({
    outDir: options.output,
    s3,
    cluster: compiled.spec.metadata.name,
    image: compiled.spec.spec.image,
    ...(options.force ? { force: true } : {}),
  });
  if (options.json) stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

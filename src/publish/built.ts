// What `build-image --publish` calls once the image record is written. The Packer command should
// also call requirePublishTarget (./target.js, which loads no AWS SDK) before it bakes, so that a
// spec without spec.publish.s3 fails in a second rather than after an hour of Packer.
import type { Spec } from "../spec/schema.js";
import { publishImage, type PublishResult } from "./publish.js";
import { requirePublishTarget } from "./target.js";

export interface PublishBuiltOptions {
  /** The spec file as the user named it: findings point into it. */
  specFile: string;
  spec: Spec;
  /** DIR of `-o DIR`, where build-image wrote images/<name>-<version>.{ova,json}. */
  outDir: string;
  /** Replace a version already published. Not build-image's own --force (which re-bakes). */
  force?: boolean;
  stderr?: NodeJS.WritableStream;
  tty?: boolean;
  /** Acts as Ctrl-C; without one, SIGINT and SIGTERM are watched while publishing. */
  signal?: AbortSignal;
}

export async function publishBuiltImage(options: PublishBuiltOptions): Promise<PublishResult> {
  const s3 = await requirePublishTarget(options.specFile, options.spec);
  return publishImage({
    outDir: options.outDir,
    s3,
    cluster: options.spec.metadata.name,
    image: options.spec.spec.image,
    ...(options.force !== undefined ? { force: options.force } : {}),
    ...(options.stderr ? { stderr: options.stderr } : {}),
    ...(options.tty !== undefined ? { tty: options.tty } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
}

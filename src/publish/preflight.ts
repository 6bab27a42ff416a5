// `build-image --publish` asks the store before it bakes: a bake takes half an hour, and it is
// the wrong moment to learn after it that the bucket is missing, the credentials are wrong, or
// the version was published already. One read of the catalogue answers all three. publishImage
// decides again, exactly, once the image exists; this is only the early refusal.
import type { S3Client } from "@aws-sdk/client-s3";
import { UsageError } from "../errors.js";
import { imageRecordPath, readImageRecord } from "../packer/record.js";
import type { ImageSpec, S3Spec } from "../spec/schema.js";
import { findVersion, readCatalogue } from "./catalogue.js";
import { createS3Client } from "./client.js";
import { attempt } from "./errors.js";
import { catalogueKey, ROLES, s3Url, storeName } from "./layout.js";

export interface PreflightOptions {
  s3: S3Spec;
  image: Pick<ImageSpec, "name" | "version">;
  /** The output folder of build-image: an image already recorded there may be the one listed. */
  outDir: string;
  /** --force: the version may be replaced. */
  force: boolean;
  client?: S3Client;
}

/**
 * Throws ExternalError (exit 3) when the catalogue cannot be read (missing bucket, refused
 * credentials, store down), UsageError (exit 2) when the version is published with another image
 * than the one recorded in outDir and --force is not given. Returns the catalogue's URL.
 */
export async function preflightPublish(options: PreflightOptions): Promise<string> {
  const { s3, image } = options;
  const url = s3Url(s3, catalogueKey(s3, image.name));
  const client = options.client ?? createS3Client(s3);
  try {
    const { catalogue } = await attempt(
      () => readCatalogue(client, s3, image.name),
      `reading ${url} before baking`,
      s3,
    );
    const listed = findVersion(catalogue, image.version);
    if (!listed || options.force) return url;
    // The image recorded here is the one listed: build-image will skip the bake (or make the same
    // image), and publishing it again is a no-op. Anything else would be refused after the bake.
    const record = readImageRecord(imageRecordPath(options.outDir, image));
    const listedImage = listed.files.find((f) => f.role === ROLES.image);
    if (record && listedImage?.sha256 === record.sha256) return url;
    throw new UsageError(
      `${image.name} ${image.version} is already published in ${url} (${storeName(s3)}, published ${listed.publishedAt}); nothing was baked`,
      "bump spec.image.version for a new image, or pass --force to bake it again and replace the published one",
    );
  } finally {
    if (!options.client) client.destroy();
  }
}

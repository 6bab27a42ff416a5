// The checks around an upload. Before: is this version published already? (decided before any
// byte is sent; keys are never taken, each run uploads under a revision of its own). After: did
// the store keep what we sent?
import { HeadObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { ExternalError, UsageError } from "../errors.js";
import type { CatalogueVersion } from "./catalogue.js";
import { isNotFound } from "./errors.js";
import type { LocalFile } from "./local.js";

export interface Target extends LocalFile {
  key: string;
  url: string;
}

type Decision = "upload" | "unchanged";

/**
 * "upload" to go on, "unchanged" when exactly these files are published already (a re-run
 * succeeds without sending anything); throws UsageError (exit 2) to refuse.
 * `missing` are the URLs of the listed version's files that are not in the bucket.
 */
export function decide(options: {
  label: string;
  catalogueUrl: string;
  listed: CatalogueVersion | undefined;
  files: readonly LocalFile[];
  missing: readonly string[];
  force: boolean;
}): Decision {
  const { label, catalogueUrl, listed, missing } = options;
  if (options.force || !listed) return "upload";
  if (sameFiles(listed, options.files)) {
    if (missing.length === 0) return "unchanged";
    throw new UsageError(
      `${label} is listed in ${catalogueUrl} but ${missing.join(", ")} ${missing.length === 1 ? "is" : "are"} missing from the bucket; nothing was sent`,
      "pass --force to upload its files again",
    );
  }
  throw new UsageError(
    `${label} is already published in ${catalogueUrl} (published ${listed.publishedAt}) with other files; nothing was sent`,
    "its files differ from these: bump spec.image.version for a new image, or pass --force to replace this one",
  );
}

/** The listed version has exactly these files, byte for byte (by sha256 and size). */
function sameFiles(listed: CatalogueVersion, files: readonly LocalFile[]): boolean {
  const key = (f: { role: string; file: string; size: number; sha256: string }) =>
    `${f.role} ${f.file} ${f.size} ${f.sha256}`;
  const a = listed.files.map(key).sort();
  const b = files.map(key).sort();
  return a.length === b.length && a.every((k, i) => k === b[i]);
}

export async function exists(client: S3Client, bucket: string, key: string, signal?: AbortSignal): Promise<boolean> {
  try {
    await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }), signal ? { abortSignal: signal } : {});
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

/** HEAD after the upload: the store kept the size and the sha256 metadata we sent. */
export async function verifyObject(
  client: S3Client,
  bucket: string,
  target: Target,
  signal?: AbortSignal,
): Promise<void> {
  const head = await client.send(
    new HeadObjectCommand({ Bucket: bucket, Key: target.key }),
    signal ? { abortSignal: signal } : {},
  );
  if (head.ContentLength !== target.size) {
    throw new ExternalError(`${target.url}: the store kept ${head.ContentLength} bytes of the ${target.size} sent`);
  }
  const stored = head.Metadata?.sha256;
  if (stored !== target.sha256) {
    throw new ExternalError(
      `${target.url}: the store kept x-amz-meta-sha256 ${stored ?? "(none)"}, not ${target.sha256}`,
      "the store drops user metadata: it cannot be used to share images with k8s-ha",
    );
  }
}

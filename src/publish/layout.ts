// Where things live in the bucket, under spec.publish.s3.prefix (DESIGN.md, issues 5 and 18):
//   <prefix><name>/index.json                      the catalogue of published versions
//   <prefix><name>/<version>/<revision>/<file>     the OVA, its image record, optionally the seeds
//                                                  bundle, as uploaded by one publish run
// A revision is made by one run (the image's sha256 prefix and random bytes): no other build,
// not even an identical one published at the same moment, ever writes under it, so objects are
// never overwritten and a loser's clean-up cannot touch what the winner uploaded (issue 18).
// Catalogues written before revisions existed list files at <prefix><name>/<version>/<file>.
// Keys are built here only, so that publish, list, pull and gc can never disagree about them.
import type { S3Spec } from "../spec/schema.js";
import { IMAGE_NAME, IMAGE_VERSION } from "../spec/schema.js";

const CATALOGUE_FILE = "index.json";

/** What a published file is; the catalogue names it so that `pull` knows where to put it. */
export const ROLES = { image: "image", record: "record", seeds: "seeds" } as const;
export type Role = (typeof ROLES)[keyof typeof ROLES];

export type Bucket = Pick<S3Spec, "bucket" | "prefix">;

export function catalogueKey(s3: Bucket, name: string): string {
  return `${s3.prefix}${name}/${CATALOGUE_FILE}`;
}

export function versionPrefix(s3: Bucket, name: string, version: string): string {
  return `${s3.prefix}${name}/${version}/`;
}

/** A revision: a folder of its own under the version. */
export const REVISION = /^[0-9a-f]{12}-[0-9a-f]{16}$/;

/** The key of `file` of `version` as uploaded by `revision` (none: the layout before issue 18). */
export function objectKey(s3: Bucket, name: string, version: string, file: string, revision?: string): string {
  return `${versionPrefix(s3, name, version)}${revision === undefined ? "" : `${revision}/`}${file}`;
}

/** Everything of one image lives under this (what gc lists). */
export function imagePrefix(s3: Bucket, name: string): string {
  return `${s3.prefix}${name}/`;
}

/** A key no other run uses, for the probe of conditional writes. */
export function probeKey(s3: Bucket, name: string, revision: string): string {
  return `${imagePrefix(s3, name)}.k8s-ha-probe-${revision}`;
}

export function s3Url(s3: Pick<S3Spec, "bucket">, key: string): string {
  return `s3://${s3.bucket}/${key}`;
}

/** "http://127.0.0.1:9000" or "AWS us-east-1": where the bucket is, for messages. */
export function storeName(s3: Pick<S3Spec, "endpoint" | "region">): string {
  return s3.endpoint ?? `AWS ${s3.region}`;
}

export function contentType(role: string): string {
  if (role === ROLES.record) return "application/json";
  if (role === ROLES.seeds) return "application/gzip";
  return "application/octet-stream";
}

/** A reference to a published image: NAME@VERSION, or NAME@latest. */
export interface ImageRef {
  name: string;
  /** A version, or "latest". */
  version: string;
}

export const LATEST = "latest";

/** Parses NAME@VERSION; returns a message instead when the reference is malformed. */
export function parseImageRef(text: string): ImageRef | { error: string } {
  const at = text.lastIndexOf("@");
  if (at <= 0 || at === text.length - 1) return { error: `"${text}" is not NAME@VERSION` };
  const name = text.slice(0, at);
  const version = text.slice(at + 1);
  if (!IMAGE_NAME.test(name))
    return { error: `"${name}" is not an image name (lowercase letters, digits, '.' and '-')` };
  if (version !== LATEST && !IMAGE_VERSION.test(version)) {
    return { error: `"${version}" is not a version like 0.1.0, nor "latest"` };
  }
  return { name, version };
}

// <prefix><name>/index.json: the versions of one image, like a Vagrant box catalogue. `images
// list` reads it with one GET (no bucket listing: paginated lists are slow on big buckets and
// broken on some stores). It is the truth about what is published: a version is published once
// it is in here, and only objects that were uploaded and checked by HEAD are ever added. Each
// version names the revision (a folder of its own, layout.ts) its files were uploaded under.
// Writing it is commit.ts's job: the one commit point of a publish.
import { GetObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { z } from "../zod.js";
import { ExternalError } from "../errors.js";
import compareSemver from "semver/functions/compare.js";
import { API_VERSION, IMAGE_VERSION } from "../spec/schema.js";
import { isNotFound } from "./errors.js";
import { catalogueKey, objectKey, REVISION, s3Url, type Bucket } from "./layout.js";

const CATALOGUE_KIND = "ImageCatalogue";
/** An index.json bigger than this is not ours. */
const MAX_CATALOGUE_BYTES = 16 * 1024 * 1024;
/**
 * Reads of a catalogue that is not JSON, or not whole, are tried this often: a store that writes
 * objects in place (s3rver does) can hand out a catalogue half-written by a publisher.
 */
const READ_ATTEMPTS = 3;
const TORN_READ_DELAY_MS = 200;

const hex64 = z.string().regex(/^[0-9a-f]{64}$/);

// Loose objects: a newer k8s-ha may add fields; an older one keeps them when it rewrites the file.
const catalogueFileSchema = z.looseObject({
  /** The file name, also the last segment of its key. */
  file: z.string().regex(/^[^/\\]+$/),
  /** "image", "record", "seeds"; unknown roles from newer versions are listed, not pulled. */
  role: z.string().min(1),
  size: z.int().nonnegative(),
  sha256: hex64,
});

const catalogueVersionSchema = z.looseObject({
  version: z.string().regex(IMAGE_VERSION),
  /** From the image record: when the build finished. */
  builtAt: z.string(),
  publishedAt: z.string(),
  /** sha256 of the spec file the image was built from. */
  specSha256: z.string(),
  /** Where its files are: <version>/<revision>/<file>. Absent in catalogues from before issue 18. */
  revision: z.string().regex(REVISION).optional(),
  files: z.array(catalogueFileSchema).min(1),
});

const catalogueSchema = z.looseObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal(CATALOGUE_KIND),
  name: z.string(),
  /** Newest first. */
  versions: z.array(catalogueVersionSchema),
});

export type Catalogue = z.infer<typeof catalogueSchema>;
export type CatalogueVersion = z.infer<typeof catalogueVersionSchema>;
export type CatalogueFile = z.infer<typeof catalogueFileSchema>;

export function emptyCatalogue(name: string): Catalogue {
  return { apiVersion: API_VERSION, kind: CATALOGUE_KIND, name, versions: [] };
}

/** Semantic-version order (semver.org): numbers compared as numbers; a pre-release sorts before its release. */
export function compareVersions(a: string, b: string): number {
  return compareSemver(a, b);
}

function sortVersions(versions: readonly CatalogueVersion[]): CatalogueVersion[] {
  return [...versions].sort((a, b) => compareVersions(b.version, a.version));
}

/** "latest": the highest release; the highest pre-release only when there is no release. */
export function latestVersion(catalogue: Pick<Catalogue, "versions">): CatalogueVersion | undefined {
  const sorted = sortVersions(catalogue.versions);
  return sorted.find((v) => !v.version.includes("-")) ?? sorted[0];
}

export function findVersion(catalogue: Pick<Catalogue, "versions">, version: string): CatalogueVersion | undefined {
  return catalogue.versions.find((v) => v.version === version);
}

/** The catalogue with `entry` added, replacing an entry of the same version. */
export function withVersion(catalogue: Catalogue, entry: CatalogueVersion): Catalogue {
  return {
    ...catalogue,
    versions: sortVersions([...catalogue.versions.filter((v) => v.version !== entry.version), entry]),
  };
}

/** The key of one file of a listed version. */
export function fileKey(
  s3: Bucket,
  name: string,
  entry: Pick<CatalogueVersion, "version" | "revision">,
  file: string,
): string {
  return objectKey(s3, name, entry.version, file, entry.revision);
}

/** Every key the catalogue names (what gc keeps). */
export function listedKeys(s3: Bucket, catalogue: Catalogue): Set<string> {
  return new Set(catalogue.versions.flatMap((v) => v.files.map((f) => fileKey(s3, catalogue.name, v, f.file))));
}

export function serializeCatalogue(catalogue: Catalogue): string {
  return `${JSON.stringify(catalogue, null, 2)}\n`;
}

/** The text of index.json as a catalogue of `name`, or a message saying why it is not one. */
export function parseCatalogue(text: string, name: string): Catalogue | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { error: `not JSON (${(error as Error).message})` };
  }
  const parsed = catalogueSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      error: `not a k8s-ha image catalogue (${issue ? `${issue.path.join(".") || "(document)"}: ${issue.message}` : "invalid"})`,
    };
  }
  if (parsed.data.name !== name) return { error: `it catalogues "${parsed.data.name}", not "${name}"` };
  return { ...parsed.data, versions: sortVersions(parsed.data.versions) };
}

export interface ReadCatalogue {
  catalogue: Catalogue;
  /** The ETag of what was read; undefined when there is no catalogue yet. */
  etag?: string;
}

/** One GET. No catalogue yet → an empty one. S3 errors are thrown as they come (callers map them). */
export async function readCatalogue(
  client: S3Client,
  s3: Bucket,
  name: string,
  signal?: AbortSignal,
): Promise<ReadCatalogue> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await readOnce(client, s3, name, signal);
    } catch (error) {
      if (!(error instanceof TornRead) || attempt >= READ_ATTEMPTS)
        throw error instanceof TornRead ? error.reported : error;
      await new Promise((resolve) => setTimeout(resolve, TORN_READ_DELAY_MS));
    }
  }
}

/** A catalogue that did not parse: maybe caught mid-write, so read again before reporting. */
class TornRead extends Error {
  constructor(readonly reported: ExternalError) {
    super(reported.message);
  }
}

async function readOnce(client: S3Client, s3: Bucket, name: string, signal?: AbortSignal): Promise<ReadCatalogue> {
  const key = catalogueKey(s3, name);
  let response;
  try {
    response = await client.send(
      new GetObjectCommand({ Bucket: s3.bucket, Key: key }),
      signal ? { abortSignal: signal } : {},
    );
  } catch (error) {
    if (isNotFound(error)) return { catalogue: emptyCatalogue(name) };
    throw error;
  }
  if ((response.ContentLength ?? 0) > MAX_CATALOGUE_BYTES) {
    response.Body?.transformToWebStream()
      .cancel()
      .catch(() => {});
    throw new ExternalError(
      `${s3Url(s3, key)} is ${response.ContentLength} bytes: not a k8s-ha image catalogue`,
      badCatalogueHint(s3, key),
    );
  }
  const text = (await response.Body?.transformToString("utf8")) ?? "";
  const parsed = parseCatalogue(text, name);
  if ("error" in parsed) {
    throw new TornRead(
      new ExternalError(`${s3Url(s3, key)} is ${parsed.error}; nothing was changed`, badCatalogueHint(s3, key)),
    );
  }
  return { catalogue: parsed, ...(response.ETag ? { etag: response.ETag } : {}) };
}

function badCatalogueHint(s3: Bucket, key: string): string {
  return `inspect it with \`aws s3 cp ${s3Url(s3, key)} -\`; move it aside if another tool wrote it, or use another spec.publish.s3.prefix`;
}

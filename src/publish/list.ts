// `images list` shows only versions whose every file is in the bucket with the size the
// catalogue lists (one HEAD per file, a few at a time): a version whose objects were removed
// behind the catalogue's back is reported as damaged, not offered to pull.
import { HeadObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { fileKey, type Catalogue, type CatalogueVersion } from "./catalogue.js";
import { isNotFound } from "./errors.js";
import { s3Url, type Bucket } from "./layout.js";

const HEADS_AT_ONCE = 8;

export interface CheckedVersions {
  complete: CatalogueVersion[];
  /** Listed, but some file is missing or of another size: what is wrong, per version. */
  damaged: { version: string; problems: string[] }[];
}

export async function checkVersions(
  client: S3Client,
  s3: Bucket,
  catalogue: Catalogue,
  signal?: AbortSignal,
): Promise<CheckedVersions> {
  const checks = catalogue.versions.flatMap((v) =>
    v.files.map((f) => ({ v, f, key: fileKey(s3, catalogue.name, v, f.file) })),
  );
  const problems = new Map<string, string[]>();
  let next = 0;
  const worker = async () => {
    while (next < checks.length) {
      const { v, f, key } = checks[next++]!;
      const problem = await sizeProblem(client, s3.bucket, key, f.size, signal);
      if (problem) problems.set(v.version, [...(problems.get(v.version) ?? []), `${s3Url(s3, key)} ${problem}`]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(HEADS_AT_ONCE, checks.length) }, worker));
  return {
    complete: catalogue.versions.filter((v) => !problems.has(v.version)),
    damaged: catalogue.versions.flatMap((v) =>
      problems.has(v.version) ? [{ version: v.version, problems: problems.get(v.version)! }] : [],
    ),
  };
}

async function sizeProblem(
  client: S3Client,
  bucket: string,
  key: string,
  size: number,
  signal?: AbortSignal,
): Promise<string | undefined> {
  try {
    const head = await client.send(
      new HeadObjectCommand({ Bucket: bucket, Key: key }),
      signal ? { abortSignal: signal } : {},
    );
    return head.ContentLength === size ? undefined : `is ${head.ContentLength} bytes, the catalogue says ${size}`;
  } catch (error) {
    if (isNotFound(error)) return "is missing";
    throw error;
  }
}

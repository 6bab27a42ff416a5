// One object to a temp file beside its destination, hashed while it streams (bounded memory
// whatever the size). The caller renames the temp files into place only once every file of
// the pull has passed, so a pull leaves all of its files or none.
import { GetObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { IntegrityError } from "./errors.js";
import { FileSink } from "./file-sink.js";
import { VerifyingHash } from "./hashing.js";

export interface DownloadOptions {
  client: S3Client;
  bucket: string;
  key: string;
  /** Where the file will be; the temp file sits in the same folder (a rename is atomic). */
  dest: string;
  sha256: string;
  size: number;
  signal?: AbortSignal;
  onProgress?: (bytes: number) => void;
}

const DAMAGED_HINT =
  "the object in the bucket is damaged, or was changed behind the catalogue: ask its publisher to publish it again (k8s-ha publish --force)";
const REPLACED_HINT = "ask its publisher to publish it again with k8s-ha publish --force, which lists it anew";

function tempPathFor(dest: string): string {
  return join(dirname(dest), `.${basename(dest)}.partial-${process.pid}`);
}

/** Downloads and verifies into tempPathFor(dest); removes the temp file on any failure. */
export async function downloadVerified(options: DownloadOptions): Promise<string> {
  const temp = tempPathFor(options.dest);
  try {
    const response = await options.client.send(
      new GetObjectCommand({ Bucket: options.bucket, Key: options.key }),
      options.signal ? { abortSignal: options.signal } : {},
    );
    const body = response.Body as Readable | undefined;
    const fail = (message: string) => {
      body?.destroy();
      return new IntegrityError(message, REPLACED_HINT);
    };
    if (!body) throw fail("the store sent no body");
    if (response.ContentLength !== undefined && response.ContentLength !== options.size) {
      throw fail(
        `the object is ${response.ContentLength} bytes, the catalogue says ${options.size}: it was replaced after it was published`,
      );
    }
    const stored = response.Metadata?.sha256;
    if (stored !== undefined && stored !== options.sha256) {
      throw fail(
        `the object carries sha256 ${stored}, the catalogue says ${options.sha256}: it was replaced after it was published`,
      );
    }
    const verify = new VerifyingHash(
      { sha256: options.sha256, size: options.size, hint: DAMAGED_HINT },
      options.onProgress,
    );
    // the file is on disk when the pipeline ends (FileSink syncs it): a crash must not leave a
    // short file that looks verified
    await pipeline(body, verify, new FileSink(temp, 0o644), options.signal ? { signal: options.signal } : {});
    return temp;
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

export async function commitDownload(temp: string, dest: string): Promise<void> {
  await rename(temp, dest);
}

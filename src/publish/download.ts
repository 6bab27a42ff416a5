// One object to a temp file beside its destination, verified against the catalogue's size and
// sha256. The caller renames the temp files into place only once every file of the pull has
// passed, so a pull leaves all of its files or none.
//
// Speed (issue 13): an object larger than one part is fetched as ranged GETs, `queueSize` at once
// (the AWS CLI fetches 10 ranges at once; one streamed GET left pull at 0.9× its throughput).
// Each range lands in a buffer that its worker reuses for the whole download, is written at its
// offset into the temp file (sized up front), and is hashed in file order: a worker whose range
// finished early waits for its turn before it hashes and takes the next range. Memory stays at
// queueSize × partSize (32 MiB by default) whatever the size of the object.
import { GetObjectCommand, type GetObjectCommandOutput, type S3Client } from "@aws-sdk/client-s3";
import { createHash } from "node:crypto";
import { open, rename, rm, type FileHandle } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { Readable } from "node:stream";
import { InterruptedError } from "../errors.js";
import { IntegrityError, isAbort } from "./errors.js";
import { mismatch } from "./hashing.js";
import type { TransferSettings } from "./upload.js";

export interface DownloadOptions {
  client: S3Client;
  bucket: string;
  key: string;
  /** Where the file will be; the temp file sits in the same folder (a rename is atomic). */
  dest: string;
  sha256: string;
  size: number;
  /** Range size and ranges in flight (transferSettings(), as for the upload). */
  settings: TransferSettings;
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
    const file = await open(temp, "w", 0o644);
    try {
      await file.truncate(options.size);
      const hash = createHash("sha256");
      await fetchRanges(file, options, (bytes) => hash.update(bytes));
      const problem = mismatch(options.sha256, hash.digest("hex"));
      if (problem) throw new IntegrityError(problem, DAMAGED_HINT);
      // on disk before it gets its name: a crash must not leave a short file that looks verified
      await file.sync();
    } finally {
      await file.close();
    }
    return temp;
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

export async function commitDownload(temp: string, dest: string): Promise<void> {
  await rename(temp, dest);
}

/** Every range of the object into `file` at its offset, each passed to `hashInOrder` in file order. */
async function fetchRanges(file: FileHandle, options: DownloadOptions, hashInOrder: (bytes: Buffer) => void): Promise<void> {
  const { size } = options;
  const { partSize, queueSize } = options.settings;
  const count = Math.max(1, Math.ceil(size / partSize));
  const controller = new AbortController();
  const turns = new Turns();
  let firstError: unknown;
  const fail = (error: unknown) => {
    if (firstError === undefined) firstError = isAbort(error) ? (options.signal?.reason ?? new InterruptedError()) : error;
    controller.abort();
    turns.cancel();
  };
  const onInterrupt = () => fail(options.signal?.reason ?? new InterruptedError());
  if (options.signal?.aborted) throw options.signal.reason ?? new InterruptedError();
  options.signal?.addEventListener("abort", onInterrupt, { once: true });
  const received = new Array<number>(count).fill(0);
  const progress = (index: number, bytes: number) => {
    received[index] = bytes;
    options.onProgress?.(received.reduce((a, b) => a + b, 0));
  };
  let next = 0;
  const worker = async () => {
    const buffer = Buffer.allocUnsafe(Math.min(partSize, size));
    while (next < count && !controller.signal.aborted) {
      const index = next++;
      const offset = index * partSize;
      const length = Math.min(partSize, size - offset);
      const part = buffer.subarray(0, length);
      await fetchRange(options, controller.signal, part, offset, count > 1, (bytes) => progress(index, bytes));
      await writeAt(file, part, offset);
      await turns.wait(index);
      hashInOrder(part);
      turns.done();
    }
  };
  try {
    const workers = Array.from({ length: Math.min(queueSize, count) }, () => worker().catch(fail));
    await Promise.all(workers);
  } finally {
    options.signal?.removeEventListener("abort", onInterrupt);
  }
  if (firstError !== undefined) throw firstError;
}

/** One GET (ranged when the object has several parts), its body copied into `part`. */
async function fetchRange(
  options: DownloadOptions,
  signal: AbortSignal,
  part: Buffer,
  offset: number,
  ranged: boolean,
  onBytes: (bytes: number) => void,
): Promise<void> {
  const response = await options.client.send(
    new GetObjectCommand({ Bucket: options.bucket, Key: options.key, ...(ranged ? { Range: `bytes=${offset}-${offset + part.length - 1}` } : {}) }),
    { abortSignal: signal },
  );
  const body = response.Body as Readable | undefined;
  const fail = (message: string) => {
    body?.destroy();
    return new IntegrityError(message, REPLACED_HINT);
  };
  if (!body) throw fail("the store sent no body");
  const total = objectSize(response, ranged);
  if (total === "ignored-range") throw fail("the store answered a ranged GET without a Content-Range: it sent something else than the range asked for");
  if (total !== undefined && total !== options.size) {
    throw fail(`the object is ${total} bytes, the catalogue says ${options.size}: it was replaced after it was published`);
  }
  const stored = response.Metadata?.sha256;
  if (stored !== undefined && stored !== options.sha256) {
    throw fail(`the object carries sha256 ${stored}, the catalogue says ${options.sha256}: it was replaced after it was published`);
  }
  let filled = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    if (filled + chunk.length > part.length) {
      body.destroy();
      throw new IntegrityError(`more than the ${options.size} bytes expected`, DAMAGED_HINT);
    }
    chunk.copy(part, filled);
    filled += chunk.length;
    onBytes(filled);
  }
  if (filled !== part.length) throw new IntegrityError(`${offset + filled} bytes, expected ${options.size}`, DAMAGED_HINT);
}

/** The whole object's size, from Content-Range (ranged) or Content-Length. */
function objectSize(response: GetObjectCommandOutput, ranged: boolean): number | undefined | "ignored-range" {
  if (!ranged) return response.ContentLength;
  const match = /\/(\d+)$/.exec(response.ContentRange ?? "");
  return match ? Number(match[1]) : "ignored-range";
}

async function writeAt(file: FileHandle, bytes: Buffer, offset: number): Promise<void> {
  for (let done = 0; done < bytes.length; ) {
    const { bytesWritten } = await file.write(bytes, done, bytes.length - done, offset + done);
    done += bytesWritten;
  }
}

/** Hands out turns 0, 1, 2 … in order; cancel() ends every wait with a rejection. */
class Turns {
  private current = 0;
  private readonly waiting = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
  private cancelled = false;

  wait(index: number): Promise<void> {
    if (this.cancelled) return Promise.reject(new InterruptedError());
    if (index === this.current) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiting.set(index, { resolve, reject }));
  }

  done(): void {
    this.current++;
    const waiter = this.waiting.get(this.current);
    this.waiting.delete(this.current);
    waiter?.resolve();
  }

  cancel(): void {
    this.cancelled = true;
    for (const waiter of this.waiting.values()) waiter.reject(new InterruptedError());
    this.waiting.clear();
  }
}

// One file to one key with our own multipart loop (CreateMultipartUpload, UploadPart,
// CompleteMultipartUpload, AbortMultipartUpload), issue 13.
//
// Memory: parts are read from the file straight into queueSize + 1 buffers that are reused for
// the whole upload (one is read while queueSize are sent): 40 MiB at 8 MiB × 4, whatever the file
// size, and no garbage per part (lib-storage's Upload copied every part with Buffer.concat).
// The sha256 is not a ChecksumSHA256 of the upload (a whole-file checksum breaks multipart): it
// is stored as x-amz-meta-sha256, and the file is hashed as it is read, so a file that is not
// what its record says fails before the upload is completed. Against AWS (`checksums`) every
// part also carries a CRC32 that S3 checks on arrival and again at completion; s3rver and other
// custom endpoints get none (see client.ts).
//
// Failure and Ctrl-C: every part upload carries one AbortSignal, so the first failure (or the
// signal) stops the parts in flight at once; then, once nothing is in flight, the multipart
// upload is aborted with AbortMultipartUpload. A store that cannot abort (s3rver answers 405)
// leaves parts until a lifecycle rule removes them: we say so, with the command to abort by hand.
// The small requests that decide the upload's fate (create, complete, a single PUT) run to their
// end: cut short, the store may have acted on them without our knowing.
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCommand,
  type CompletedPart,
  type S3Client,
} from "@aws-sdk/client-s3";
import { createHash, type Hash } from "node:crypto";
import { open, type FileHandle } from "node:fs/promises";
import { Readable } from "node:stream";
import { InterruptedError, UsageError } from "../errors.js";
import { errorCode, IntegrityError, isAbort, scrubSecrets } from "./errors.js";
import { mismatch } from "./hashing.js";

export const MIB = 1024 * 1024;
/** S3's smallest part (all but the last) and its most parts per upload. */
const MIN_PART_SIZE = 5 * MIB;
const MAX_PARTS = 10_000;
// 8 MiB parts, 4 at once: the AWS CLI's part size; fewer requests in flight than its 10, to
// keep memory bounded: (4 + 1) buffers of 8 MiB, one being read while four are sent.
const DEFAULT_PART_SIZE = 8 * MIB;
const DEFAULT_QUEUE_SIZE = 4;
/** Parts in flight are kept under this, so memory stays bounded when parts must grow. */
const IN_FLIGHT_BUDGET = 32 * MIB;
/** A part's body is handed to the socket in slices of this size: progress moves per slice. */
const SEND_SLICE = 256 * 1024;

export interface TransferSettings {
  partSize: number;
  queueSize: number;
}

/**
 * Part size and concurrency for a file of `size` bytes: 8 MiB × 4 by default; parts grow for
 * files over 78 GiB (10,000 parts) and concurrency shrinks to keep ~32 MiB in flight.
 */
export function transferSettings(size: number, wanted: Partial<TransferSettings> = {}): TransferSettings {
  const needed = Math.ceil(size / MAX_PARTS / MIB) * MIB;
  const partSize = Math.max(wanted.partSize ?? DEFAULT_PART_SIZE, needed, MIN_PART_SIZE);
  const queueSize =
    wanted.queueSize ?? Math.max(1, Math.min(DEFAULT_QUEUE_SIZE, Math.floor(IN_FLIGHT_BUDGET / partSize)));
  return { partSize, queueSize };
}

/**
 * K8S_HA_S3_PART_SIZE_MIB and K8S_HA_S3_CONCURRENCY, the tuning knobs (like the AWS CLI's
 * multipart_chunksize and max_concurrent_requests). Bad values are a usage error.
 */
export function transferOverrides(env: NodeJS.ProcessEnv = process.env): Partial<TransferSettings> {
  const read = (name: string, min: number, max: number): number | undefined => {
    const text = env[name];
    if (text === undefined || text === "") return undefined;
    const value = Number(text);
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new UsageError(`${name}=${text} is not a whole number from ${min} to ${max}`);
    }
    return value;
  };
  const partMiB = read("K8S_HA_S3_PART_SIZE_MIB", 5, 5 * 1024);
  const queueSize = read("K8S_HA_S3_CONCURRENCY", 1, 64);
  return {
    ...(partMiB !== undefined ? { partSize: partMiB * MIB } : {}),
    ...(queueSize !== undefined ? { queueSize } : {}),
  };
}

export interface UploadFileOptions {
  client: S3Client;
  bucket: string;
  key: string;
  path: string;
  /** Known up front (from the image record or a stat): the parts are planned from it. */
  size: number;
  sha256: string;
  contentType: string;
  /** Refuse to replace an existing object (If-None-Match: *), on stores that support it. */
  ifNoneMatch: boolean;
  settings: TransferSettings;
  /** A CRC32 per part (and per single PUT), checked by the store: AWS S3, not s3rver. */
  checksums?: boolean;
  /** Ctrl-C: aborts the upload; the error thrown is then the signal's reason. */
  signal?: AbortSignal;
  /** Bytes handed to the network so far (it may step back when a part is sent again). */
  onProgress?: (bytes: number) => void;
  warn: (text: string) => void;
}

export interface UploadResult {
  etag?: string;
  /** Present when the file went up in parts. */
  uploadId?: string;
}

const WRONG_FILE_HINT =
  "the file is not the one its image record describes: rebuild it (k8s-ha build-image --force), then publish";

/**
 * Uploads the file or throws; on a throw, nothing was stored under the key by this call
 * (the multipart upload is aborted, or we warn how to abort it).
 */
export async function uploadFile(options: UploadFileOptions): Promise<UploadResult> {
  throwIfInterrupted(options.signal);
  const file = await open(options.path, "r");
  try {
    return options.size < options.settings.partSize
      ? await uploadSingle(file, options)
      : await uploadParts(file, options);
  } finally {
    await file.close();
  }
}

function throwIfInterrupted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason ?? new InterruptedError();
}

/** A small file: read, checked, then one PUT. */
async function uploadSingle(file: FileHandle, options: UploadFileOptions): Promise<UploadResult> {
  const body = Buffer.allocUnsafe(options.size);
  const hash = createHash("sha256");
  await readPart(file, body, 0, options.size, options.size, hash);
  await checkWhole(file, options, hash);
  throwIfInterrupted(options.signal);
  const result = await options.client.send(
    new PutObjectCommand({
      Bucket: options.bucket,
      Key: options.key,
      Body: body,
      ContentLength: options.size,
      ContentType: options.contentType,
      Metadata: { sha256: options.sha256 },
      ...(options.checksums ? { ChecksumAlgorithm: "CRC32" as const } : {}),
      ...(options.ifNoneMatch ? { IfNoneMatch: "*" } : {}),
    }),
  );
  options.onProgress?.(options.size);
  return result.ETag ? { etag: result.ETag } : {};
}

async function uploadParts(file: FileHandle, options: UploadFileOptions): Promise<UploadResult> {
  const { client, bucket, key, size } = options;
  const { partSize, queueSize } = options.settings;
  const controller = new AbortController();
  let firstError: unknown;
  const fail = (error: unknown) => {
    if (firstError === undefined) firstError = isAbort(error) ? new InterruptedError() : error;
    if (!controller.signal.aborted) controller.abort();
  };
  const onInterrupt = () => fail(options.signal?.reason ?? new InterruptedError());
  options.signal?.addEventListener("abort", onInterrupt, { once: true });

  const created = await client.send(
    new CreateMultipartUploadCommand({
      Bucket: bucket,
      Key: key,
      ContentType: options.contentType,
      Metadata: { sha256: options.sha256 },
      ...(options.checksums ? { ChecksumAlgorithm: "CRC32" as const } : {}),
    }),
  );
  const uploadId = created.UploadId!;
  const sent = new Map<number, number>(); // part number → bytes handed to the network
  let total = 0; // their sum, kept as it changes: a 4 GiB upload reports 16,384 slices of 512 parts
  const progress = (part: number, bytes: number) => {
    total += bytes - (sent.get(part) ?? 0);
    sent.set(part, bytes);
    options.onProgress?.(total);
  };
  const buffers = new BufferPool(queueSize + 1, partSize);
  const hash = createHash("sha256");
  const parts: CompletedPart[] = [];
  const inFlight = new Set<Promise<void>>();
  try {
    const count = Math.ceil(size / partSize);
    for (let number = 1; number <= count && !controller.signal.aborted; number++) {
      const buffer = await buffers.take();
      if (controller.signal.aborted) break;
      const offset = (number - 1) * partSize;
      const length = Math.min(partSize, size - offset);
      try {
        await readPart(file, buffer, offset, length, size, hash);
      } catch (error) {
        fail(error);
        break;
      }
      // the next part is read while queueSize parts are sent, and sent once one of them is done
      while (inFlight.size >= queueSize) await Promise.race(inFlight);
      if (controller.signal.aborted) {
        buffers.give(buffer);
        break;
      }
      const body = buffer.subarray(0, length);
      const request = sendPart(
        client,
        { bucket, key, uploadId, number, body, checksums: options.checksums ?? false },
        controller.signal,
        (bytes) => progress(number, bytes),
      ).then(
        (part) => void parts.push(part),
        (error: unknown) => fail(error),
      );
      const tracked = request.finally(() => {
        inFlight.delete(tracked);
        buffers.give(buffer);
      });
      inFlight.add(tracked);
    }
    if (!controller.signal.aborted) await checkWhole(file, options, hash).catch(fail);
    while (inFlight.size > 0) await Promise.all([...inFlight]);
    if (firstError !== undefined) throw firstError;
    parts.sort((a, b) => a.PartNumber! - b.PartNumber!);
    // Not cancellable: once the store has it, the object exists; the caller sees the signal
    const done = await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: { Parts: parts },
        ...(options.ifNoneMatch ? { IfNoneMatch: "*" } : {}),
      }),
    );
    options.onProgress?.(size);
    return { ...(done.ETag ? { etag: done.ETag } : {}), uploadId };
  } catch (error) {
    fail(error);
    while (inFlight.size > 0) await Promise.all([...inFlight]);
    await abortMultipart(client, bucket, key, uploadId, options.warn);
    throw firstError;
  } finally {
    options.signal?.removeEventListener("abort", onInterrupt);
  }
}

/** Reads `length` bytes at `offset` into `buffer` and hashes them; a file shorter than `size` is an IntegrityError. */
async function readPart(
  file: FileHandle,
  buffer: Buffer,
  offset: number,
  length: number,
  size: number,
  hash: Hash,
): Promise<void> {
  let done = 0;
  while (done < length) {
    const { bytesRead } = await file.read(buffer, done, length - done, offset + done);
    if (bytesRead === 0) throw new IntegrityError(`${offset + done} bytes, expected ${size}`, WRONG_FILE_HINT);
    done += bytesRead;
  }
  hash.update(buffer.subarray(0, length));
}

/** After the last part: nothing beyond the size, and the sha256 of the record. */
async function checkWhole(file: FileHandle, options: UploadFileOptions, hash: Hash): Promise<void> {
  const { bytesRead } = await file.read(Buffer.alloc(1), 0, 1, options.size);
  const problem =
    bytesRead > 0 ? `more than the ${options.size} bytes expected` : mismatch(options.sha256, hash.digest("hex"));
  if (problem) throw new IntegrityError(problem, WRONG_FILE_HINT);
}

async function sendPart(
  client: S3Client,
  part: { bucket: string; key: string; uploadId: string; number: number; body: Buffer; checksums: boolean },
  signal: AbortSignal,
  onSent: (bytes: number) => void,
): Promise<CompletedPart> {
  const command = new UploadPartCommand({
    Bucket: part.bucket,
    Key: part.key,
    UploadId: part.uploadId,
    PartNumber: part.number,
    Body: part.body,
    ContentLength: part.body.length,
    ...(part.checksums ? { ChecksumAlgorithm: "CRC32" as const } : {}),
  });
  // Each attempt (the SDK retries a failed part) sends the buffer afresh as a stream of slices,
  // so that progress follows the bytes handed to the socket, not whole parts.
  command.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as { body?: unknown };
      request.body = slices(part.body, onSent);
      return next(args);
    },
    { step: "deserialize", name: "k8sHaPartProgress" },
  );
  const result = await client.send(command, { abortSignal: signal });
  return {
    PartNumber: part.number,
    ETag: result.ETag!,
    ...(result.ChecksumCRC32 ? { ChecksumCRC32: result.ChecksumCRC32 } : {}),
  };
}

function slices(buffer: Buffer, onSent: (bytes: number) => void): Readable {
  let offset = 0;
  onSent(0);
  return new Readable({
    read() {
      if (offset > 0) onSent(offset); // the slice before has been taken
      if (offset >= buffer.length) {
        this.push(null);
        return;
      }
      const end = Math.min(offset + SEND_SLICE, buffer.length);
      this.push(buffer.subarray(offset, end));
      offset = end;
    },
  });
}

/** Part buffers, allocated once and handed back when their part is sent (or failed). */
class BufferPool {
  private readonly free: Buffer[] = [];
  private readonly waiting: ((buffer: Buffer) => void)[] = [];
  private made = 0;

  constructor(
    private readonly max: number,
    private readonly size: number,
  ) {}

  take(): Promise<Buffer> {
    const buffer =
      this.free.pop() ?? (this.made < this.max ? (this.made++, Buffer.allocUnsafeSlow(this.size)) : undefined);
    return buffer ? Promise.resolve(buffer) : new Promise((resolve) => this.waiting.push(resolve));
  }

  give(buffer: Buffer): void {
    const next = this.waiting.shift();
    if (next) next(buffer);
    else this.free.push(buffer);
  }
}

async function abortMultipart(
  client: S3Client,
  bucket: string,
  key: string,
  uploadId: string,
  warn: (text: string) => void,
): Promise<void> {
  try {
    await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }), {
      abortSignal: AbortSignal.timeout(30_000),
    });
  } catch (error) {
    const code = errorCode(error);
    if (code === "NoSuchUpload") return; // already gone
    const why =
      code === "MethodNotAllowed" || code === "NotImplemented"
        ? `the store does not support aborting multipart uploads (${code})`
        : `could not abort it (${code ?? scrubSecrets((error as Error).message)})`;
    warn(
      `multipart upload ${uploadId} of s3://${bucket}/${key}: ${why}; its parts stay in the bucket (never as the object) ` +
        `until a lifecycle rule (AbortIncompleteMultipartUpload) removes them, or: ` +
        `aws s3api abort-multipart-upload --bucket ${bucket} --key ${key} --upload-id ${uploadId}`,
    );
  }
}

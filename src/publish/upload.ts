// One file to one key with lib-storage's multipart Upload, streamed from disk.
//
// Memory: Upload cuts the stream into parts by copying (Buffer.concat), so it holds about
// (queueSize + 2) × partSize, plus what the garbage collector has not reclaimed yet (V8 lets
// ~64 MB of freed buffers wait): ~80 MiB of code and SDK, ~55 MiB of parts, ~60–80 MiB of
// garbage at 8 MiB × 4, whatever the file size (bench/publish.mjs).
// The sha256 is not a ChecksumSHA256 of the Upload (a whole-file checksum there breaks
// multipart): it is stored as x-amz-meta-sha256, and the file is hashed as it is read, so a
// file that is not what its record says fails before the upload is completed.
//
// Failure and Ctrl-C: every part upload carries one AbortSignal, so the first failure (or the
// signal) stops the parts in flight at once; then, once nothing is in flight,
// the multipart upload is aborted with AbortMultipartUpload (lib-storage's own abort is turned
// off: it would hide the first error behind the abort's, and it runs without waiting for the
// parts in flight). A store that cannot abort (s3rver answers 405) leaves parts until a
// lifecycle rule removes them: we say so, with the command to abort by hand.
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCommand,
  type CreateMultipartUploadCommandOutput,
  type S3Client,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { createReadStream } from "node:fs";
import { pipeline } from "node:stream";
import { InterruptedError, UsageError } from "../errors.js";
import { errorCode, isAbort, scrubSecrets } from "./errors.js";
import { VerifyingHash } from "./hashing.js";

export const MIB = 1024 * 1024;
/** S3's smallest part (all but the last) and its most parts per upload. */
const MIN_PART_SIZE = 5 * MIB;
const MAX_PARTS = 10_000;
// 8 MiB parts, 4 at once: the AWS CLI's part size; fewer requests in flight than its 10, to
// keep memory bounded (bench/publish.mjs measured 5 MiB × 8 and 16 MiB × 3 too: within the
// noise of each other in time, 5 MiB × 8 costing the most CPU, 16 MiB × 3 the most memory).
const DEFAULT_PART_SIZE = 8 * MIB;
const DEFAULT_QUEUE_SIZE = 4;
/** Parts in flight are kept under this, so memory stays bounded when parts must grow. */
const IN_FLIGHT_BUDGET = 32 * MIB;
/** Reads of 512 KiB: few chunks per part for Upload to concatenate, and a concatenation only
 * a little larger than the part (it takes chunks until it has more than a part). */
const READ_CHUNK = 512 * 1024;

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
  const queueSize = wanted.queueSize ?? Math.max(1, Math.min(DEFAULT_QUEUE_SIZE, Math.floor(IN_FLIGHT_BUDGET / partSize)));
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
  return { ...(partMiB !== undefined ? { partSize: partMiB * MIB } : {}), ...(queueSize !== undefined ? { queueSize } : {}) };
}

export interface UploadFileOptions {
  client: S3Client;
  bucket: string;
  key: string;
  path: string;
  /** Known up front (from the image record or a stat): Upload plans its parts from it. */
  size: number;
  sha256: string;
  contentType: string;
  /** Refuse to replace an existing object (If-None-Match: *), on stores that support it. */
  ifNoneMatch: boolean;
  settings: TransferSettings;
  /** Ctrl-C: aborts the upload; the error thrown is then the signal's reason. */
  signal?: AbortSignal;
  onProgress?: (bytes: number) => void;
  warn: (text: string) => void;
}

export interface UploadResult {
  etag?: string;
  /** Present when the file went up in parts. */
  uploadId?: string;
}

/**
 * Uploads the file or throws; on a throw, nothing was stored under the key by this call
 * (the multipart upload is aborted, or we warn how to abort it).
 */
export async function uploadFile(options: UploadFileOptions): Promise<UploadResult> {
  const { client, bucket, key } = options;
  const controller = new AbortController();
  let firstError: unknown;
  const fail = (error: unknown) => {
    if (firstError === undefined) firstError = error;
    if (!controller.signal.aborted) controller.abort();
  };
  const onInterrupt = () => fail(options.signal?.reason ?? new InterruptedError());
  if (options.signal?.aborted) onInterrupt();
  options.signal?.addEventListener("abort", onInterrupt, { once: true });

  const requests = trackRequests(client, controller.signal, fail);
  const source = createReadStream(options.path, { highWaterMark: READ_CHUNK });
  const verify = new VerifyingHash({
    sha256: options.sha256,
    size: options.size,
    hint: "the file is not the one its image record describes: rebuild it (k8s-ha build-image --force), then publish",
  });
  pipeline(source, verify, (error) => {
    if (error) fail(error);
  });

  const upload = new Upload({
    client: requests.client,
    params: {
      Bucket: bucket,
      Key: key,
      Body: verify,
      ContentLength: options.size,
      ContentType: options.contentType,
      Metadata: { sha256: options.sha256 },
      ...(options.ifNoneMatch ? { IfNoneMatch: "*" } : {}),
    },
    partSize: options.settings.partSize,
    queueSize: options.settings.queueSize,
    leavePartsOnError: true, // we abort ourselves, after the parts in flight have stopped
    abortController: controller,
  });
  upload.on("httpUploadProgress", (progress) => {
    if (progress.loaded !== undefined) options.onProgress?.(progress.loaded);
  });

  try {
    // Once done() resolves the object is complete, even if Ctrl-C came a moment later: the
    // caller sees the signal and decides (publish removes what its run created).
    const result = await upload.done();
    return { ...(result.ETag ? { etag: result.ETag } : {}), ...(upload.uploadId ? { uploadId: upload.uploadId } : {}) };
  } catch (error) {
    fail(isAbort(error) && firstError === undefined ? new InterruptedError() : error);
    source.destroy();
    verify.destroy();
    await requests.settled();
    // Ctrl-C while the store completed the object: it exists, and the caller decides about it
    if (requests.completed()) return { ...(upload.uploadId ? { uploadId: upload.uploadId } : {}) };
    const uploadId = upload.uploadId ?? requests.uploadId();
    if (uploadId) await abortMultipart(client, bucket, key, uploadId, options.warn);
    throw firstError;
  } finally {
    options.signal?.removeEventListener("abort", onInterrupt);
  }
}

async function abortMultipart(client: S3Client, bucket: string, key: string, uploadId: string, warn: (text: string) => void): Promise<void> {
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

/**
 * The client as Upload sees it. Part uploads carry `signal`, so that the first failure (or
 * Ctrl-C) stops the parts in flight at once; every request is tracked, so that the caller can
 * wait until none is in flight. A request that fails for its own reason (not the signal)
 * reports the failure: the other parts stop too.
 * The small requests that decide the upload's fate run to their end: cut short, the store may
 * have acted on them without our knowing — an upload created whose id we never learn, an object
 * completed that we believe failed.
 */
function trackRequests(client: S3Client, signal: AbortSignal, onFailure: (error: unknown) => void) {
  const inFlight = new Set<Promise<void>>();
  let uploadId: string | undefined;
  let completed = false;
  const send = (command: Parameters<S3Client["send"]>[0], options?: object) => {
    const cancellable = command instanceof UploadPartCommand;
    const request = client.send(command, cancellable ? { ...options, abortSignal: signal } : options);
    const tracked = request.then(
      (response) => {
        if (command instanceof CreateMultipartUploadCommand) uploadId = (response as CreateMultipartUploadCommandOutput).UploadId;
        if (command instanceof CompleteMultipartUploadCommand || command instanceof PutObjectCommand) completed = true;
      },
      (error: unknown) => {
        if (!signal.aborted) onFailure(error);
      },
    );
    inFlight.add(tracked);
    void tracked.finally(() => inFlight.delete(tracked));
    return request;
  };
  const proxy = new Proxy(client, {
    get: (target, property) => (property === "send" ? send : Reflect.get(target, property, target)),
  });
  return {
    client: proxy,
    uploadId: () => uploadId,
    /** The object exists: CompleteMultipartUpload (or the single PutObject) succeeded. */
    completed: () => completed,
    async settled(): Promise<void> {
      while (inFlight.size > 0) await Promise.all([...inFlight]);
    },
  };
}

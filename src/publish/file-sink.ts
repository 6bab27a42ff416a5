// Where a download's bytes go: a new file, written in batches and flushed to disk as it grows
// (issue 13, the pull against `aws s3 cp`).
//
// A socket hands over 64 KiB at a time; written one by one, that is 16,384 writes per GiB, each a
// round trip through libuv's thread pool, and on two cores the CPU they take is the store's too.
// The chunks are kept (not copied) until 1 MiB has arrived, then written with one writev. The
// file must be on disk before it gets its name (a crash must not leave a short file that looks
// verified): rather than one fdatasync of the whole file at the end, one runs after every 64 MiB
// while the rest still downloads, so the last one has little left to flush.
import { open, type FileHandle } from "node:fs/promises";
import { Writable } from "node:stream";

const BATCH = 1024 * 1024;
const FLUSH_EVERY = 64 * 1024 * 1024;

export class FileSink extends Writable {
  private handle: FileHandle | undefined;
  private batch: Buffer[] = [];
  private batchBytes = 0;
  private sinceFlush = 0;
  /** The fdatasync in flight, if any (it never rejects: its failure is kept in flushError). */
  private flushing: Promise<void> | undefined;
  private flushError: Error | undefined;

  constructor(
    private readonly path: string,
    private readonly mode: number,
  ) {
    super({ highWaterMark: BATCH });
  }

  override _construct(callback: (error?: Error | null) => void): void {
    open(this.path, "w", this.mode).then(
      (handle) => {
        this.handle = handle;
        callback();
      },
      (error: Error) => callback(error),
    );
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.batch.push(chunk);
    this.batchBytes += chunk.length;
    if (this.batchBytes < BATCH) {
      callback();
      return;
    }
    this.writeBatch().then(() => callback(), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.writeBatch()
      .then(() => this.flushing)
      .then(() => {
        if (this.flushError) throw this.flushError;
        return this.handle!.datasync();
      })
      .then(() => callback(), callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const handle = this.handle;
    this.handle = undefined;
    // a flush still running must not outlive the handle
    Promise.resolve(this.flushing)
      .then(() => handle?.close())
      .then(
        () => callback(error),
        (closing: Error) => callback(error ?? closing),
      );
  }

  private async writeBatch(): Promise<void> {
    if (this.flushError) throw this.flushError;
    const buffers = this.batch;
    const bytes = this.batchBytes;
    this.batch = [];
    this.batchBytes = 0;
    let written = 0;
    while (written < bytes) {
      // writev may write less than asked (a signal, a full disk): go on from where it stopped
      const rest = remaining(buffers, written);
      written += (await this.handle!.writev(rest)).bytesWritten;
    }
    this.sinceFlush += bytes;
    if (this.sinceFlush >= FLUSH_EVERY && this.flushing === undefined) {
      this.sinceFlush = 0;
      this.flushing = this.handle!.datasync().then(
        () => (this.flushing = undefined),
        (error: Error) => {
          this.flushError = error;
          this.flushing = undefined;
        },
      );
    }
  }
}

/** The buffers from byte `offset` of their concatenation on. */
function remaining(buffers: Buffer[], offset: number): Buffer[] {
  if (offset === 0) return buffers;
  const rest: Buffer[] = [];
  let skip = offset;
  for (const buffer of buffers) {
    if (skip >= buffer.length) {
      skip -= buffer.length;
      continue;
    }
    rest.push(skip > 0 ? buffer.subarray(skip) : buffer);
    skip = 0;
  }
  return rest;
}

// A pass-through stream that hashes what flows through it and fails at the end when the bytes
// are not the ones expected (pull: the temp file is renamed into place only after this passes).
// The upload hashes its part buffers itself (upload.ts) and shares the verdict's wording.
import { createHash } from "node:crypto";
import { Transform, type TransformCallback } from "node:stream";
import { IntegrityError } from "./errors.js";

export interface Expected {
  sha256: string;
  size: number;
  /** What to do when the bytes are wrong (it differs between upload and download). */
  hint: string;
}

export class VerifyingHash extends Transform {
  private readonly hash = createHash("sha256");
  bytes = 0;

  constructor(
    private readonly expected: Expected,
    private readonly onBytes?: (bytes: number) => void,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.byteLength;
    if (this.bytes > this.expected.size) {
      callback(new IntegrityError(`more than the ${this.expected.size} bytes expected`, this.expected.hint));
      return;
    }
    this.hash.update(chunk);
    this.onBytes?.(this.bytes);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    if (this.bytes !== this.expected.size) {
      callback(new IntegrityError(`${this.bytes} bytes, expected ${this.expected.size}`, this.expected.hint));
      return;
    }
    const problem = mismatch(this.expected.sha256, this.hash.digest("hex"));
    callback(problem ? new IntegrityError(problem, this.expected.hint) : null);
  }
}

/** What to say when a sha256 is not the expected one; undefined when it is. */
export function mismatch(expected: string, actual: string): string | undefined {
  return actual === expected ? undefined : `sha256 mismatch: expected ${expected}, got ${actual}`;
}

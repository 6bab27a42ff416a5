// sha256, the checksum of every manifest, image record, catalogue and seed: of bytes in memory,
// and of a file streamed from disk (bounded memory whatever its size).
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";

export function sha256(contents: string | Uint8Array): string {
  return createHash("sha256").update(contents).digest("hex");
}

export interface HashFileOptions {
  /** Aborting it rejects the read (the caller's Ctrl-C). */
  signal?: AbortSignal;
  /** Checked at each chunk: true ends the read early with a partial hash the caller discards. */
  stop?: () => boolean;
}

export async function hashFile(path: string, options: HashFileOptions = {}): Promise<{ sha256: string; size: number }> {
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of createReadStream(path, {
    highWaterMark: 1 << 20,
    ...(options.signal ? { signal: options.signal } : {}),
  })) {
    if (options.stop?.()) break;
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).byteLength;
  }
  return { sha256: hash.digest("hex"), size };
}

// The only part that touches the disk. Writes metadata, then each file's data padded to a block,
// into a temporary file beside the target, and renames it into place only when complete:
// a failure never leaves a half-written seed where a VM would boot from it.
import { randomBytes } from "node:crypto";
import { open, rename, rm, type FileHandle } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { SECTOR } from "./bytes.js";
import { planIso } from "./image.js";
import { IsoError, type FileNode, type IsoFile, type IsoOptions } from "./types.js";

/** Large sources are copied through a buffer of this size, never read whole. */
const CHUNK = 1 << 20;

async function writeAll(fh: FileHandle, data: Uint8Array): Promise<void> {
  for (let done = 0; done < data.byteLength;) {
    const { bytesWritten } = await fh.write(data, done, data.byteLength - done);
    done += bytesWritten;
  }
}

/** Copies a file source in chunks, checking that it still has the size the layout assumed. */
async function copyFromDisk(out: FileHandle, file: FileNode, path: string): Promise<void> {
  const src = await open(path, "r");
  try {
    const { size } = await src.stat();
    if (size !== file.size) {
      throw new IsoError([`${JSON.stringify(file.path)}: ${path} has ${size} bytes, but ${file.size} were declared`]);
    }
    const buf = Buffer.alloc(Math.min(CHUNK, Math.max(1, file.size)));
    for (let done = 0; done < file.size;) {
      const { bytesRead } = await src.read(buf, 0, Math.min(buf.length, file.size - done), done);
      if (bytesRead === 0) throw new IsoError([`${JSON.stringify(file.path)}: ${path} shrank while it was being read`]);
      await writeAll(out, buf.subarray(0, bytesRead));
      done += bytesRead;
    }
  } finally {
    await src.close();
  }
}

const padding = (size: number): Buffer => Buffer.alloc((SECTOR - (size % SECTOR)) % SECTOR);

/**
 * Writes an ISO 9660 image with Joliet and Rock Ridge to `outPath`. Throws IsoError for invalid
 * input before creating anything. Same files and options give the same bytes.
 */
export async function writeIso(
  outPath: string,
  files: readonly IsoFile[],
  options: IsoOptions,
): Promise<{ size: number }> {
  const plan = planIso(files, options);
  const temp = join(dirname(outPath), `.${basename(outPath)}.${randomBytes(6).toString("hex")}.tmp`);
  const out = await open(temp, "wx", 0o644);
  let closed = false;
  try {
    await writeAll(out, plan.metadata);
    for (const { file } of plan.files) {
      if (file.source instanceof Uint8Array) await writeAll(out, file.source);
      else await copyFromDisk(out, file, file.source.path);
      await writeAll(out, padding(file.size));
    }
    await out.sync();
    closed = true;
    await out.close();
    await rename(temp, outPath);
  } catch (error) {
    if (!closed) await out.close().catch(() => undefined);
    await rm(temp, { force: true });
    throw error;
  }
  return { size: plan.totalBlocks * SECTOR };
}

// The image in memory, for seeds (a few KB each) and tests. Apart from writer.ts so that a command
// that only builds seeds in memory (render, seed) does not load node:fs/promises (issue 13).
import { SECTOR } from "./bytes.js";
import { planIso } from "./image.js";
import { IsoError, type IsoFile, type IsoOptions } from "./types.js";

/** The whole image in memory, for small seeds and tests. Sources must be in memory too. */
export function isoToBuffer(files: readonly IsoFile[], options: IsoOptions): Uint8Array {
  const plan = planIso(files, options);
  const onDisk = files.filter((f) => !(f.source instanceof Uint8Array)).map((f) => JSON.stringify(f.name));
  if (onDisk.length > 0)
    throw new IsoError([`isoToBuffer needs in-memory sources; use writeIso for ${onDisk.join(", ")}`]);
  const image = Buffer.alloc(plan.totalBlocks * SECTOR);
  plan.metadata.copy(image, 0);
  for (const { file, block } of plan.files) image.set(file.source as Uint8Array, block * SECTOR);
  return image;
}

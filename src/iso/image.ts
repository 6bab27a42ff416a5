// Assembles everything before the file data (system area, descriptors, path tables,
// continuation areas, directories) into one buffer, and says where each file's data goes.
// Pure: no I/O, no clock. writer.ts streams the result.
import { SECTOR } from "./bytes.js";
import { terminator, volumeDescriptor } from "./descriptors.js";
import { directoryRecord, encodeDirectory, type Hierarchy, type Placement } from "./directory.js";
import { assignJolietNames } from "./joliet.js";
import { computeLayout, pathTableId, type Layout } from "./layout.js";
import { assignIsoNames } from "./names.js";
import { pathTable } from "./pathtable.js";
import type { FileNode, IsoFile, IsoOptions } from "./types.js";
import { buildTree } from "./validate.js";

export interface IsoPlan {
  /** Blocks 0 .. first data block, complete. */
  metadata: Buffer;
  /** Files in the order their data follows the metadata; each starts on a block boundary. */
  files: { file: FileNode; block: number }[];
  totalBlocks: number;
}

function must<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`internal: no position for ${what}`);
  return value;
}

function placementOf(layout: Layout): Placement {
  const fileBlocks = new Map(layout.files.map(({ file, block }) => [file, block]));
  return {
    dirExtent: (dir, h) => must(layout.hierarchies[h].extents.get(dir), `directory ${dir.path}`),
    fileBlock: (file) => must(fileBlocks.get(file), `file ${file.path}`),
    continuation: (key) => must(layout.continuations.get(key), `continuation ${key}`),
  };
}

/** Validates the input (throws IsoError) and builds the metadata of the image. */
export function planIso(files: readonly IsoFile[], options: IsoOptions): IsoPlan {
  const root = buildTree(files, options);
  assignIsoNames(root);
  assignJolietNames(root);
  const { date } = options;
  const layout = computeLayout(root, date);
  const place = placementOf(layout);
  const metadata = Buffer.alloc(layout.dataBlock * SECTOR); // blocks 0-15: system area, zeros

  const descriptor = (h: Hierarchy): Buffer => {
    const hl = layout.hierarchies[h];
    const rootExtent = place.dirExtent(root, h);
    return volumeDescriptor({
      kind: h,
      volumeId: options.volumeId,
      volumeBlocks: layout.totalBlocks,
      pathTableSize: hl.pathTableSize,
      lPathTableBlock: hl.lPathTableBlock,
      mPathTableBlock: hl.mPathTableBlock,
      rootRecord: directoryRecord({
        id: Buffer.from([0]),
        ...rootExtent,
        isDir: true,
        date,
        systemUse: Buffer.alloc(0),
      }),
      date,
    });
  };
  descriptor("primary").copy(metadata, 16 * SECTOR);
  descriptor("joliet").copy(metadata, 17 * SECTOR);
  terminator().copy(metadata, 18 * SECTOR);

  for (const h of ["primary", "joliet"] as const) {
    const hl = layout.hierarchies[h];
    const entries = hl.order.map(({ dir, parent }, i) => ({
      id: pathTableId(dir, h, i === 0),
      block: place.dirExtent(dir, h).block,
      parent,
    }));
    pathTable(entries, false).copy(metadata, hl.lPathTableBlock * SECTOR);
    pathTable(entries, true).copy(metadata, hl.mPathTableBlock * SECTOR);
    hl.order.forEach(({ dir, parent }) => {
      const parentDir = must(hl.order[parent - 1], "parent directory").dir;
      const { bytes, continuations } = encodeDirectory(dir, parentDir, h, place, date);
      bytes.copy(metadata, place.dirExtent(dir, h).block * SECTOR);
      for (const c of continuations) c.bytes.copy(metadata, c.block * SECTOR + c.offset);
    });
  }
  return { metadata, files: layout.files, totalBlocks: layout.totalBlocks };
}

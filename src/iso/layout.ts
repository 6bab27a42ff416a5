// Where everything goes. Block numbers (ECMA-119 §6.2: logical block = 2048 bytes):
//
//   0-15  system area (zeros)      16 primary VD   17 Joliet SVD   18 terminator
//   19-   path tables: primary L, primary M, Joliet L, Joliet M (each from its own block)
//         primary directories, in path table order
//         Joliet directories, in path table order
//         Rock Ridge continuation areas (the root's ER, names too long for their record)
//         file data, files in path order, each from a block boundary; both hierarchies point here
//
// Continuation areas follow the directories that point at them: libarchive reads as a stream
// and rejects a CE entry pointing behind the directory it is reading ("Invalid parameter in
// SUSP CE extension"). Sizes come from a first encoding pass with a dummy placement (lengths never depend on
// positions); positions are then handed out in the order above.
import { SECTOR, sectorsFor } from "./bytes.js";
import { directoryOrder, encodeDirectory, identifier, idBytes, type Hierarchy, type Placement } from "./directory.js";
import { pathTableSize } from "./pathtable.js";
import { IsoError, type DirNode, type FileNode } from "./types.js";

export const FIRST_FREE_BLOCK = 19;
const HIERARCHIES: readonly Hierarchy[] = ["primary", "joliet"];

export interface HierarchyLayout {
  order: { dir: DirNode; parent: number }[];
  pathTableSize: number;
  lPathTableBlock: number;
  mPathTableBlock: number;
  extents: Map<DirNode, { block: number; size: number }>;
}

export interface Layout {
  hierarchies: Record<Hierarchy, HierarchyLayout>;
  /** Continuation areas by record key. */
  continuations: Map<string, { block: number; offset: number }>;
  /** Files in data order, with their first block (0 for empty files: they have no extent). */
  files: { file: FileNode; block: number }[];
  /** First block after all metadata, where file data starts. */
  dataBlock: number;
  totalBlocks: number;
}

/** The id a directory has in a path table: 0x00 for the root (§9.4.5), else its identifier. */
export function pathTableId(dir: DirNode, h: Hierarchy, isRoot: boolean): Buffer {
  return isRoot ? Buffer.from([0]) : idBytes(identifier(dir, h), h);
}

/** Files in path order: what lands on disk first does not depend on the input order. */
function filesInOrder(dir: DirNode, out: FileNode[] = []): FileNode[] {
  for (const child of dir.children) {
    if (child.kind === "file") out.push(child);
    else filesInOrder(child, out);
  }
  return out;
}

/** Packs continuation areas into blocks; an area never crosses a block boundary. */
function packContinuations(requests: readonly { key: string; length: number }[], firstBlock: number) {
  const slots = new Map<string, { block: number; offset: number }>();
  let at = 0;
  for (const { key, length } of requests) {
    if (length > SECTOR) throw new Error(`internal: continuation area of ${length} bytes`);
    if ((at % SECTOR) + length > SECTOR) at = sectorsFor(at) * SECTOR;
    slots.set(key, { block: firstBlock + Math.floor(at / SECTOR), offset: at % SECTOR });
    at += length;
  }
  return { slots, blocks: sectorsFor(at) };
}

export function computeLayout(root: DirNode, date: Date): Layout {
  const parentOf = (order: { dir: DirNode; parent: number }[], i: number): DirNode =>
    (order[(order[i]?.parent ?? 1) - 1] as { dir: DirNode }).dir;

  // Pass 1: sizes. Dummy positions; record every continuation request in encounter order.
  const requests: { key: string; length: number }[] = [];
  const sizing: Placement = {
    dirExtent: () => ({ block: 0, size: 0 }),
    fileBlock: () => 0,
    continuation: (key, length) => (requests.push({ key, length }), { block: 0, offset: 0 }),
  };
  const sizes = new Map<Hierarchy, number[]>();
  const orders = new Map<Hierarchy, { dir: DirNode; parent: number }[]>();
  for (const h of HIERARCHIES) {
    const order = directoryOrder(root, h);
    if (order.length > 0xffff)
      throw new IsoError([`${order.length} directories: a path table numbers at most 65535 (ECMA-119 §9.4.4)`]);
    orders.set(h, order);
    sizes.set(
      h,
      order.map(({ dir }, i) => encodeDirectory(dir, parentOf(order, i), h, sizing, date).bytes.length),
    );
  }

  // Pass 2: positions, in the order of the diagram above.
  let block = FIRST_FREE_BLOCK;
  const partial = new Map<Hierarchy, Omit<HierarchyLayout, "extents">>();
  for (const h of HIERARCHIES) {
    const order = orders.get(h) ?? [];
    const size = pathTableSize(order.map(({ dir }, i) => pathTableId(dir, h, i === 0)));
    const lPathTableBlock = block;
    block += sectorsFor(size);
    const mPathTableBlock = block;
    block += sectorsFor(size);
    partial.set(h, { order, pathTableSize: size, lPathTableBlock, mPathTableBlock });
  }
  const hierarchies = {} as Record<Hierarchy, HierarchyLayout>;
  for (const h of HIERARCHIES) {
    const base = partial.get(h) as Omit<HierarchyLayout, "extents">;
    const extents = new Map<DirNode, { block: number; size: number }>();
    base.order.forEach(({ dir }, i) => {
      const size = sizes.get(h)?.[i] ?? SECTOR;
      extents.set(dir, { block, size });
      block += size / SECTOR;
    });
    hierarchies[h] = { ...base, extents };
  }
  const packed = packContinuations(requests, block);
  block += packed.blocks;
  const dataBlock = block;
  const files = filesInOrder(root).map((file) => {
    // ECMA-119 leaves an empty file's location open; 0 is what libarchive expects of one.
    const at = file.size === 0 ? 0 : block;
    block += sectorsFor(file.size);
    return { file, block: at };
  });
  // §8.4.8: the volume space size is a 32-bit block count (8 TiB); checked for completeness.
  if (block > 0xffff_ffff) throw new IsoError([`image of ${block} blocks exceeds ECMA-119's 32-bit volume size`]);
  return { hierarchies, continuations: packed.slots, files, dataBlock, totalBlocks: block };
}

// Directory records (ECMA-119 §9.1) and directory extents (§6.8) for both hierarchies. The
// primary hierarchy carries Rock Ridge in each record's system use field; Joliet carries none.
// Encoding runs twice: first with a dummy placement to learn every size, then with the real
// one; lengths never depend on positions, so both runs agree.
import { SECTOR, putU16Both, putU32Both, recordDate, sectorsFor } from "./bytes.js";
import { jolietBytes } from "./joliet.js";
import { compareIdentifiers } from "./names.js";
import { S_IFDIR, S_IFREG, packSystemUse, rockRidgeFor } from "./rockridge.js";
import { DIR_MODE, type DirNode, type FileNode, type TreeNode } from "./types.js";

export type Hierarchy = "primary" | "joliet";

/** Where things are; the sizing pass answers zeros, the writing pass the real positions. */
export interface Placement {
  dirExtent(dir: DirNode, h: Hierarchy): { block: number; size: number };
  fileBlock(file: FileNode): number;
  /** Position of a continuation area of `length` bytes, identified by `key`. */
  continuation(key: string, length: number): { block: number; offset: number };
}

/** A continuation area's bytes and where they go. */
export interface ContinuationBytes {
  block: number;
  offset: number;
  bytes: Buffer;
}

/** The identifier a node has in a hierarchy, as a string (for ordering) and as bytes. */
export function identifier(node: TreeNode, h: Hierarchy): string {
  return h === "primary" ? node.isoId : node.jolietId;
}

export function idBytes(id: string, h: Hierarchy): Buffer {
  return h === "primary" ? Buffer.from(id, "ascii") : jolietBytes(id);
}

/** Children in §9.3 order of this hierarchy's identifiers. */
export function sortedChildren(dir: DirNode, h: Hierarchy): TreeNode[] {
  return [...dir.children].sort((a, b) => compareIdentifiers(identifier(a, h), identifier(b, h)));
}

/**
 * Directories in path table order (ECMA-119 §6.9.1: by level, then parent number, then
 * identifier), which is a breadth-first walk over sorted children. `parent` is 1-based.
 */
export function directoryOrder(root: DirNode, h: Hierarchy): { dir: DirNode; parent: number }[] {
  const order = [{ dir: root, parent: 1 }];
  for (let i = 0; i < order.length; i++) {
    const { dir } = order[i] as { dir: DirNode };
    for (const child of sortedChildren(dir, h)) if (child.kind === "dir") order.push({ dir: child, parent: i + 1 });
  }
  return order;
}

interface RecordFields {
  id: Buffer;
  block: number;
  size: number;
  isDir: boolean;
  date: Date;
  systemUse: Buffer;
}

/** Bytes before the system use field: §9.1 fixed part, identifier, and §9.1.12 padding. */
function fixedLength(idLength: number): number {
  return 33 + idLength + (idLength % 2 === 0 ? 1 : 0);
}

/** ECMA-119 §9.1: one directory record, padded to an even length. */
export function directoryRecord(f: RecordFields): Buffer {
  const start = fixedLength(f.id.length);
  const length = start + f.systemUse.length + (f.systemUse.length % 2);
  if (length > 255) throw new Error(`internal: directory record of ${length} bytes`);
  const buf = Buffer.alloc(length);
  buf[0] = length;
  putU32Both(buf, 2, f.block);
  putU32Both(buf, 10, f.size);
  recordDate(f.date).copy(buf, 18);
  buf[25] = f.isDir ? 0x02 : 0x00; // §9.1.6 file flags: bit 1 = directory
  putU16Both(buf, 28, 1); // §9.1.9 volume sequence number
  buf[32] = f.id.length;
  f.id.copy(buf, 33);
  f.systemUse.copy(buf, start);
  return buf;
}

const subdirCount = (dir: DirNode): number => dir.children.filter((c) => c.kind === "dir").length;

/** POSIX link count of a directory: ".", its entry in the parent, and each subdirectory's "..". */
const dirLinks = (dir: DirNode): number => 2 + subdirCount(dir);

interface RecordPlan {
  id: Buffer;
  /** What the record points at: the directory itself for ".", its parent for "..", else the child. */
  node: TreeNode;
  /** Rock Ridge fields, primary hierarchy only. */
  rr?: { mode: number; links: number; name?: string; isRootDot?: boolean };
  key: string;
}

function recordPlans(dir: DirNode, parent: DirNode, h: Hierarchy): RecordPlan[] {
  const primary = h === "primary";
  const dot = (target: DirNode, id: number, isRootDot: boolean): RecordPlan => ({
    id: Buffer.from([id]), // §6.8.2.2: "." is 0x00 and ".." is 0x01 in every hierarchy
    node: target,
    rr: primary ? { mode: S_IFDIR | DIR_MODE, links: dirLinks(target), isRootDot } : undefined,
    key: `${dir.path}\0${id}`,
  });
  const plans = [dot(dir, 0, primary && dir === parent), dot(parent, 1, false)];
  for (const child of sortedChildren(dir, h)) {
    const mode = child.kind === "dir" ? S_IFDIR | DIR_MODE : S_IFREG | child.mode;
    const links = child.kind === "dir" ? dirLinks(child) : 1;
    plans.push({
      id: idBytes(identifier(child, h), h),
      node: child,
      rr: primary ? { mode, links, name: child.name } : undefined,
      key: `${dir.path}\0/${child.name}`,
    });
  }
  return plans;
}

/**
 * One directory's extent: its records, none crossing a sector boundary (§6.8.1.1), zero-filled
 * to whole sectors. Returns the continuation areas its records point at.
 */
export function encodeDirectory(
  dir: DirNode,
  parent: DirNode,
  h: Hierarchy,
  place: Placement,
  date: Date,
): { bytes: Buffer; continuations: ContinuationBytes[] } {
  const records: Buffer[] = [];
  const continuations: ContinuationBytes[] = [];
  let offset = 0;
  for (const plan of recordPlans(dir, parent, h)) {
    const { node } = plan;
    const target = node.kind === "dir" ? place.dirExtent(node, h) : { block: place.fileBlock(node), size: node.size };
    let systemUse: Buffer = Buffer.alloc(0);
    if (plan.rr) {
      // 254, not 255: the record length must stay even (§9.1.1 with §9.1.13 padding).
      const packed = packSystemUse(rockRidgeFor({ ...plan.rr, date }), 254 - fixedLength(plan.id.length));
      let at = { block: 0, offset: 0 };
      if (packed.continuationLength > 0) at = place.continuation(plan.key, packed.continuationLength);
      const done = packed.finish(at.block, at.offset);
      systemUse = done.inline;
      if (done.continuation.length > 0) continuations.push({ ...at, bytes: done.continuation });
    }
    const record = directoryRecord({
      id: plan.id,
      block: target.block,
      size: target.size,
      isDir: node.kind === "dir",
      date,
      systemUse,
    });
    const room = SECTOR - (offset % SECTOR);
    if (record.length > room) {
      records.push(Buffer.alloc(room));
      offset += room;
    }
    records.push(record);
    offset += record.length;
  }
  const bytes = Buffer.alloc(Math.max(1, sectorsFor(offset)) * SECTOR);
  Buffer.concat(records).copy(bytes);
  return { bytes, continuations };
}

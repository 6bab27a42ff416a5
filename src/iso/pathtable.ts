// Path tables (ECMA-119 §9.4): every directory once, in §6.9.1 order, so a reader can find a
// directory without walking the tree. Each hierarchy needs a type L (little-endian) and a type M
// (big-endian) table; Windows reads L, some Unix readers read M.

export interface PathTableEntry {
  id: Buffer;
  block: number;
  /** 1-based number of the parent in this table; the root is its own parent (1). */
  parent: number;
}

/** ECMA-119 §9.4: one table, unpadded. The caller puts it at the start of its own sectors. */
export function pathTable(entries: readonly PathTableEntry[], bigEndian: boolean): Buffer {
  const parts = entries.map(({ id, block, parent }) => {
    const buf = Buffer.alloc(8 + id.length + (id.length % 2)); // §9.4.6: pad odd identifiers
    buf[0] = id.length;
    if (bigEndian) {
      buf.writeUInt32BE(block, 2);
      buf.writeUInt16BE(parent, 6);
    } else {
      buf.writeUInt32LE(block, 2);
      buf.writeUInt16LE(parent, 6);
    }
    id.copy(buf, 8);
    return buf;
  });
  return Buffer.concat(parts);
}

/** Byte length of a table (the same for L and M), needed before any location is known. */
export function pathTableSize(ids: readonly Buffer[]): number {
  return ids.reduce((n, id) => n + 8 + id.length + (id.length % 2), 0);
}

// A minimal POSIX ustar writer (POSIX.1-1988, as in `pax -x ustar`), deterministic by design:
// entries in the order given, owner root:root (0/0), one fixed mtime, no host data. Regular
// files and directories only: all a seed bundle needs. GNU tar, bsdtar, 7-Zip and Python's
// tarfile read it.

const BLOCK = 512;
/** GNU tar writes (and some readers expect) archives padded to 20 blocks. */
const RECORD = 20 * BLOCK;
/** The ustar size field: 11 octal digits. */
export const MAX_TAR_FILE_SIZE = 8 ** 11 - 1;

export interface TarEntry {
  /** POSIX path without a leading slash; directories may end with "/". */
  path: string;
  type: "file" | "dir";
  mode: number;
  /** File contents (ignored for directories). */
  contents?: Uint8Array;
}

/** An octal number field: zero-padded digits and a NUL, `length` bytes in all. */
function octal(buf: Buffer, offset: number, length: number, value: number): void {
  buf.write(`${value.toString(8).padStart(length - 1, "0")}\0`, offset, length, "ascii");
}

/** ustar splits a long path into prefix (155 bytes) "/" name (100 bytes). */
function splitPath(path: string): { prefix: string; name: string } {
  if (Buffer.byteLength(path) <= 100) return { prefix: "", name: path };
  for (let i = path.indexOf("/"); i !== -1; i = path.indexOf("/", i + 1)) {
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100 && name !== "") return { prefix, name };
  }
  throw new Error(`tar: path too long for ustar: ${path}`);
}

function header(entry: TarEntry, size: number, mtime: number): Buffer {
  const buf = Buffer.alloc(BLOCK);
  const path = entry.type === "dir" && !entry.path.endsWith("/") ? `${entry.path}/` : entry.path;
  const { prefix, name } = splitPath(path);
  buf.write(name, 0, 100, "utf8");
  octal(buf, 100, 8, entry.mode & 0o7777);
  octal(buf, 108, 8, 0); // uid
  octal(buf, 116, 8, 0); // gid
  octal(buf, 124, 12, size);
  octal(buf, 136, 12, mtime);
  buf.fill(0x20, 148, 156); // the checksum is computed with its own field as spaces
  buf.write(entry.type === "dir" ? "5" : "0", 156, 1, "ascii");
  buf.write("ustar\0", 257, 6, "ascii");
  buf.write("00", 263, 2, "ascii");
  buf.write("root", 265, 32, "ascii");
  buf.write("root", 297, 32, "ascii");
  octal(buf, 329, 8, 0); // devmajor
  octal(buf, 337, 8, 0); // devminor
  buf.write(prefix, 345, 155, "utf8");
  let sum = 0;
  for (const byte of buf) sum += byte;
  buf.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, 8, "ascii");
  return buf;
}

/** The archive as one buffer. `mtime` is in whole seconds since 1970. */
export function ustar(entries: readonly TarEntry[], mtime: number): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    if (entry.path === "" || entry.path.startsWith("/") || entry.path.split("/").includes("..")) {
      throw new Error(`tar: not a plain relative path: ${JSON.stringify(entry.path)}`);
    }
    const data = entry.type === "file" ? (entry.contents ?? new Uint8Array(0)) : new Uint8Array(0);
    if (data.byteLength > MAX_TAR_FILE_SIZE) throw new Error(`tar: ${entry.path} is larger than ustar allows`);
    parts.push(header(entry, data.byteLength, mtime), Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    parts.push(Buffer.alloc((BLOCK - (data.byteLength % BLOCK)) % BLOCK));
  }
  parts.push(Buffer.alloc(2 * BLOCK)); // end of archive: two zero blocks
  const length = parts.reduce((n, p) => n + p.length, 0);
  parts.push(Buffer.alloc((RECORD - (length % RECORD)) % RECORD));
  return Buffer.concat(parts);
}

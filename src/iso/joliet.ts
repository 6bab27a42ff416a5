// Joliet (Microsoft "Joliet Specification", 1995): a second directory hierarchy with names in
// UCS-2 big-endian, found through a supplementary volume descriptor with escape sequence %/E
// (UCS-2 Level 3). Windows and macOS read names from here; it carries no Rock Ridge.
import { ucs2be } from "./bytes.js";
import type { DirNode } from "./types.js";

/** Joliet §3.3 escape sequence for UCS-2 Level 3, in the SVD's escape sequences field. */
export const JOLIET_ESCAPE = Buffer.from("%/E", "ascii");

/**
 * Sets the Joliet identifier of every node: the real name, with no ";1" version. That is what
 * genisoimage (and so cloud-localds) writes and every reader accepts, while with ";1"
 * `isoinfo -J -x /user-data` finds nothing. Names were validated (validate.ts): no forbidden
 * characters, at most 64 UCS-2 characters, unique ignoring case.
 */
export function assignJolietNames(dir: DirNode): void {
  for (const child of dir.children) {
    child.jolietId = child.name;
    if (child.kind === "dir") assignJolietNames(child);
  }
}

/** The bytes of a Joliet identifier as recorded in directory records and path tables. */
export function jolietBytes(id: string): Buffer {
  return ucs2be(id);
}

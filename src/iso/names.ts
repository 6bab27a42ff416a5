// Plain ISO 9660 identifiers (ECMA-119 §7.5, §7.6, Level 1 of §10.1) and the record order of
// §9.3. Readers without Rock Ridge or Joliet see these names; everybody else sees the real ones
// from NM (rockridge.ts) or Joliet (joliet.ts).
import type { DirNode } from "./types.js";

/** ECMA-119 §7.4.1 d-characters: A-Z 0-9 _. Lowercase is folded up, anything else becomes '_'. */
function dChars(text: string): string {
  let out = "";
  for (const ch of text) {
    if (ch >= "a" && ch <= "z") out += ch.toUpperCase();
    else if ((ch >= "A" && ch <= "Z") || (ch >= "0" && ch <= "9") || ch === "_") out += ch;
    else out += "_";
  }
  return out;
}

/** Level 1 (ECMA-119 §10.1): file names 8.3, directory names 8 characters. */
const BASE_LEN = 8;
const EXT_LEN = 3;

interface Candidate {
  base: string;
  ext: string;
}

function candidate(name: string, isDir: boolean): Candidate {
  // Directories have no extension (§7.6.1). For files, the last dot separates the extension;
  // a leading dot (".profile") belongs to the name, not an empty name with a long extension.
  const dot = isDir ? -1 : name.lastIndexOf(".");
  if (dot <= 0) return { base: dChars(name).slice(0, BASE_LEN), ext: "" };
  return { base: dChars(name.slice(0, dot)).slice(0, BASE_LEN), ext: dChars(name.slice(dot + 1)).slice(0, EXT_LEN) };
}

/**
 * Gives every child of `dir` (recursively) a unique Level 1 identifier. Children are visited in
 * their sorted order, so the first name keeps its natural mapping and later collisions get a
 * decimal suffix replacing the end of the base ("USER_DAT", "USER_DA1", ... "USER_D10").
 * Uniqueness is checked on name+extension without the version, as readers that drop ";1" and
 * a trailing '.' (Linux without Rock Ridge) would otherwise show two equal names.
 */
export function assignIsoNames(dir: DirNode): void {
  const taken = new Set<string>();
  for (const child of dir.children) {
    const isDir = child.kind === "dir";
    const { base, ext } = candidate(child.name, isDir);
    const key = (b: string): string => (ext === "" ? b : `${b}.${ext}`);
    let chosen = base;
    for (let n = 1; taken.has(key(chosen)); n++) {
      const suffix = String(n);
      chosen = base.slice(0, BASE_LEN - suffix.length) + suffix;
    }
    taken.add(key(chosen));
    // §7.5.1: a file identifier always has the '.' separator and, here, version 1 (§7.5.2).
    child.isoId = isDir ? chosen : `${chosen}.${ext};1`;
    if (child.kind === "dir") assignIsoNames(child);
  }
}

function splitId(id: string): [name: string, ext: string, version: number] {
  const semi = id.lastIndexOf(";");
  const version = semi >= 0 ? Number(id.slice(semi + 1)) || 0 : 0;
  const stem = semi >= 0 ? id.slice(0, semi) : id;
  const dot = stem.lastIndexOf(".");
  return dot >= 0 ? [stem.slice(0, dot), stem.slice(dot + 1), version] : [stem, "", version];
}

function comparePadded(a: string, b: string): number {
  const len = Math.max(a.length, b.length);
  const pa = a.padEnd(len, " ");
  const pb = b.padEnd(len, " ");
  return pa < pb ? -1 : pa > pb ? 1 : 0;
}

/**
 * ECMA-119 §9.3 order of directory records (also used for §6.9.1 path table order): names
 * compared after padding with spaces, then extensions likewise, then higher versions first.
 * Applied to Joliet identifiers too, comparing UCS-2 code units, as the Joliet spec asks.
 */
export function compareIdentifiers(a: string, b: string): number {
  const [an, ae, av] = splitId(a);
  const [bn, be, bv] = splitId(b);
  return comparePadded(an, bn) || comparePadded(ae, be) || bv - av;
}

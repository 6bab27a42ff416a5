// Checks the caller's input and turns the flat file list into a sorted directory tree.
// Every problem is collected, then thrown once as an IsoError, so a caller sees them all.
import { DEFAULT_FILE_MODE, IsoError, type DirNode, type FileNode, type IsoFile, type IsoOptions } from "./types.js";

/** ECMA-119 §9.1.4: data length is 32 bits. We write single-extent files only (see README). */
export const MAX_FILE_SIZE = 0xffff_ffff;
/** Joliet spec §3.2: a file identifier holds at most 64 UCS-2 characters. */
export const MAX_NAME_CHARS = 64;
/** ECMA-119 §6.8.2.1: a path holds at most 255 characters... */
export const MAX_PATH_BYTES = 255;
/** ...and a hierarchy at most 8 levels, the root being level 1. */
export const MAX_DIR_DEPTH = 7;
/** Joliet §3.1 stores 16 UCS-2 characters of volume identifier; the primary field holds 32. */
const VOLUME_ID = /^[A-Za-z0-9_.-]{1,16}$/;
/** Joliet spec §3.2 forbids these in identifiers; Windows could not open such a file. */
const JOLIET_FORBIDDEN = /[\u0000-\u001f*/:;?\\]/;

/** Validates options; returns the problems (empty when fine). */
function checkOptions(options: IsoOptions): string[] {
  const problems: string[] = [];
  if (!VOLUME_ID.test(options.volumeId)) {
    problems.push(
      `volume id ${JSON.stringify(options.volumeId)}: use 1 to 16 characters from A-Z a-z 0-9 _ . - ` +
        '(Joliet stores at most 16 characters; NoCloud wants "cidata")',
    );
  }
  const time = options.date instanceof Date ? options.date.getTime() : NaN;
  const year = new Date(time).getUTCFullYear();
  if (Number.isNaN(time)) problems.push("date: not a valid Date (derive it from the spec or SOURCE_DATE_EPOCH)");
  // ECMA-119 §9.1.5 stores the year as one byte counted from 1900.
  else if (year < 1900 || year > 2155) problems.push(`date: year ${year} is outside 1900..2155 (ECMA-119 §9.1.5)`);
  return problems;
}

/** Problems with one path component, or none. */
function checkComponent(path: string, part: string): string[] {
  if (part === "") return [`${JSON.stringify(path)}: empty path component (leading, trailing or doubled '/')`];
  if (part === "." || part === "..") return [`${JSON.stringify(path)}: '.' and '..' are not allowed as names`];
  const problems: string[] = [];
  if (JOLIET_FORBIDDEN.test(part)) {
    problems.push(`${JSON.stringify(path)}: control characters and * : ; ? \\ cannot be stored in Joliet names`);
  }
  if (/[\ud800-\udfff]/.test(part)) {
    problems.push(`${JSON.stringify(path)}: characters outside the Basic Multilingual Plane do not fit Joliet's UCS-2`);
  }
  if (part.length > MAX_NAME_CHARS) {
    problems.push(
      `${JSON.stringify(path)}: name ${JSON.stringify(part)} is longer than ${MAX_NAME_CHARS} characters (Joliet limit)`,
    );
  }
  return problems;
}

function checkFile(file: IsoFile): string[] {
  const { name } = file;
  if (typeof name !== "string" || name === "") return ["file with an empty name"];
  if (name.includes("\0")) return [`${JSON.stringify(name)}: NUL in name`];
  const parts = name.split("/");
  const problems = parts.flatMap((part) => checkComponent(name, part));
  if (Buffer.byteLength(name) > MAX_PATH_BYTES)
    problems.push(`${JSON.stringify(name)}: path is longer than ${MAX_PATH_BYTES} bytes (ECMA-119 §6.8.2.1)`);
  if (parts.length - 1 > MAX_DIR_DEPTH)
    problems.push(`${JSON.stringify(name)}: deeper than ${MAX_DIR_DEPTH} directories (ECMA-119 §6.8.2.1)`);
  const size = file.source instanceof Uint8Array ? file.source.byteLength : file.source?.size;
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) {
    problems.push(`${JSON.stringify(name)}: source size must be a non-negative integer`);
  } else if (size > MAX_FILE_SIZE) {
    problems.push(
      `${JSON.stringify(name)}: ${size} bytes is larger than ${MAX_FILE_SIZE} bytes (4 GiB - 1), ` +
        "the most one ISO 9660 extent holds; multi-extent files are not supported",
    );
  }
  const mode = file.mode ?? DEFAULT_FILE_MODE;
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) {
    problems.push(`${JSON.stringify(name)}: mode must be permission bits between 0 and 0o7777`);
  }
  return problems;
}

function newDir(name: string, path: string): DirNode {
  return { kind: "dir", name, path, children: [], isoId: "", jolietId: "" };
}

const byName = (a: { name: string }, b: { name: string }): number =>
  Buffer.compare(Buffer.from(a.name), Buffer.from(b.name));

/** Sorts every directory's children by the UTF-8 bytes of their names (input order never matters). */
function sortTree(dir: DirNode): void {
  dir.children.sort(byName);
  for (const child of dir.children) if (child.kind === "dir") sortTree(child);
}

/**
 * Validates `files` and `options` and returns the root of the tree. Throws IsoError listing every
 * problem. Names that differ only in case are rejected: Windows and macOS read Joliet names
 * case-insensitively and would show only one of them.
 */
export function buildTree(files: readonly IsoFile[], options: IsoOptions): DirNode {
  const problems = checkOptions(options);
  const root = newDir("", "");
  const dirs = new Map<string, DirNode>([["", root]]);
  const taken = new Map<string, string>(); // lowercased path -> path that took it
  for (const file of files) {
    const fileProblems = checkFile(file);
    problems.push(...fileProblems);
    if (fileProblems.length > 0) continue;
    const parts = file.name.split("/");
    let parent = root;
    for (let i = 0; i < parts.length; i++) {
      const path = parts.slice(0, i + 1).join("/");
      const isLast = i === parts.length - 1;
      const clash = taken.get(path.toLowerCase());
      const existingDir = dirs.get(path);
      if (!isLast && existingDir) {
        parent = existingDir;
        continue;
      }
      if (clash !== undefined) {
        problems.push(
          clash === path
            ? `${JSON.stringify(path)}: given twice, or both a file and a directory`
            : `${JSON.stringify(path)} and ${JSON.stringify(clash)} differ only in case (Windows and macOS would show one)`,
        );
        break;
      }
      taken.set(path.toLowerCase(), path);
      const part = parts[i] as string;
      if (isLast) {
        const size = file.source instanceof Uint8Array ? file.source.byteLength : file.source.size;
        const node: FileNode = {
          kind: "file",
          name: part,
          path,
          size,
          mode: file.mode ?? DEFAULT_FILE_MODE,
          source: file.source,
          isoId: "",
          jolietId: "",
        };
        parent.children.push(node);
      } else {
        const dir = newDir(part, path);
        dirs.set(path, dir);
        parent.children.push(dir);
        parent = dir;
      }
    }
  }
  if (problems.length > 0) throw new IsoError(problems);
  sortTree(root);
  return root;
}

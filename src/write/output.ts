// The one writer of rendered output. A file that already holds its bytes and mode is left alone;
// everything else is written into a staging folder inside the output directory first, and only
// when all of it is on disk is each file moved over its old version by rename (`manifest.json`
// last). A failure while moving puts the old versions back. The writer replaces exactly the files
// it is given and deletes nothing else: other nodes' seeds, a bundle, `images/` from build-image
// stay as they are (DESIGN.md: a command replaces only what it rewrote).
//
// Synchronous calls (issue 13): a render writes ~30 small files one after the other, and each
// awaited fs call is a round trip through libuv's thread pool; ~300 of them were a fifth of
// `render`'s time. Nothing else runs in the process meanwhile that the few milliseconds would delay.
import {
  closeSync,
  fchmodSync,
  fstatSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { UsageError } from "../errors.js";
import { artifactBytes, type Artifact } from "../render/artifact.js";

const STAGING = ".k8s-ha-staging-";
const RETIRED = ".k8s-ha-old-";

export function assertRelativePath(path: string): void {
  if (
    path === "" ||
    path.startsWith("/") ||
    path.split("/").some((part) => part === "" || part === "." || part === "..")
  ) {
    throw new Error(`internal error: artifact path ${JSON.stringify(path)} is not a plain relative path`);
  }
}

function ensureDirectory(dir: string): void {
  try {
    const info = statSync(dir);
    if (!info.isDirectory())
      throw new UsageError(`output ${dir} exists and is not a directory`, "name a directory with -o");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    mkdirSync(dir, { recursive: true });
  }
}

/** Removes staging folders left behind by a crashed run. */
function removeLeftovers(dir: string): void {
  for (const entry of readdirSync(dir)) {
    if (entry.startsWith(STAGING) || entry.startsWith(RETIRED))
      rmSync(join(dir, entry), { recursive: true, force: true });
  }
}

function exists(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false }) !== undefined;
}

/** Each file's path, manifest.json last: it describes the others, so it lands when they have. */
function installOrder(artifacts: readonly Artifact[]): string[] {
  const paths = artifacts.map((a) => a.path);
  return [...paths.filter((p) => p !== "manifest.json"), ...paths.filter((p) => p === "manifest.json")];
}

export async function writeArtifacts(dir: string, artifacts: readonly Artifact[]): Promise<void> {
  try {
    writeAll(dir, artifacts);
  } catch (error) {
    // name the path the user knows, not its copy in our staging folder
    const e = error as NodeJS.ErrnoException;
    if (typeof e?.path === "string") e.path = e.path.replace(/\/\.k8s-ha-(staging|old)-[^/]+/, "");
    throw error;
  }
}

/** Whether `path` is a regular file with exactly the artifact's bytes and mode: nothing to replace. */
function alreadyWritten(path: string, artifact: Artifact): boolean {
  const info = lstatSync(path, { throwIfNoEntry: false });
  const bytes = artifactBytes(artifact.contents);
  if (!info?.isFile() || info.size !== bytes.length || (info.mode & 0o7777) !== artifact.mode) return false;
  try {
    return holds(path, bytes);
  } catch {
    // unreadable to us (render's and seed's modes let everyone read, so only an ACL can deny it):
    // replaced by rename, as every changed file is, rather than an error
    return false;
  }
}

/**
 * One buffer, grown as needed, that every comparison reads into (issue 13): a fresh buffer per
 * file, as readFileSync makes, is fresh memory to fault in, and a seed run compares three ISOs.
 */
let scratch = Buffer.alloc(0);

/** Whether the file at `path` holds exactly `bytes` (one byte more is read, to see a longer file). */
function holds(path: string, bytes: Uint8Array): boolean {
  if (scratch.length < bytes.length + 1) scratch = Buffer.allocUnsafe(Math.max(bytes.length + 1, 64 * 1024));
  const fd = openSync(path, "r");
  try {
    let length = 0;
    while (length <= bytes.length) {
      const n = readSync(fd, scratch, length, bytes.length + 1 - length, null);
      if (n === 0) break;
      length += n;
    }
    return length === bytes.length && scratch.subarray(0, length).equals(bytes);
  } finally {
    closeSync(fd);
  }
}

/** mkdir -p, once per folder of a run: each call is a system call even when the folder exists. */
function folderMaker(): (dir: string) => void {
  const made = new Set<string>();
  return (dir) => {
    if (made.has(dir)) return;
    mkdirSync(dir, { recursive: true });
    made.add(dir);
  };
}

function writeAll(dir: string, all: readonly Artifact[]): void {
  for (const a of all) assertRelativePath(a.path);
  ensureDirectory(dir);
  removeLeftovers(dir);
  // A file already holding the bytes and mode it would get is left as it is (and keeps its mtime):
  // re-rendering an unchanged spec rewrites nothing, and a changed one replaces only what changed.
  const artifacts = all.filter((artifact) => !alreadyWritten(join(dir, artifact.path), artifact));
  if (artifacts.length === 0) return;
  const staging = mkdtempSync(join(dir, STAGING));
  let retired: string | undefined; // made when a file is first replaced: a new output replaces none
  const makeFolder = folderMaker();
  const moved: string[] = [];
  let current: string | undefined;
  try {
    for (const artifact of artifacts) {
      current = join(dir, artifact.path);
      const target = join(staging, artifact.path);
      makeFolder(dirname(target));
      writeWithMode(target, artifact);
    }
    current = undefined;
    for (const path of installOrder(artifacts)) {
      const target = join(dir, path);
      makeFolder(dirname(target));
      if (exists(target)) {
        retired ??= mkdtempSync(join(dir, RETIRED));
        makeFolder(dirname(join(retired, path)));
        renameSync(target, join(retired, path));
      }
      moved.push(path);
      renameSync(join(staging, path), target);
    }
  } catch (error) {
    // a failed write(2), e.g. ENOSPC, names no path: name the output file being written
    const e = error as NodeJS.ErrnoException;
    if (typeof e?.code === "string" && e.path === undefined && current !== undefined) e.path = current;
    // Put back what was already replaced, so the old output stays whole.
    for (const path of moved.reverse()) {
      rmSync(join(dir, path), { force: true });
      if (retired !== undefined && exists(join(retired, path))) renameSync(join(retired, path), join(dir, path));
    }
    throw error;
  } finally {
    rmSync(staging, { recursive: true, force: true });
    if (retired !== undefined) rmSync(retired, { recursive: true, force: true });
  }
}

/**
 * Writes a new file with the artifact's mode. open(2) applies the umask; only when that took bits
 * is the mode set again: fstat reads the inode, a chmod per file is a journaled metadata write
 * (~80 µs each on ext4 here, a tenth of a new output's write time).
 */
function writeWithMode(path: string, artifact: Artifact): void {
  const fd = openSync(path, "w", artifact.mode);
  try {
    writeFileSync(fd, artifact.contents);
    if ((fstatSync(fd).mode & 0o7777) !== artifact.mode) fchmodSync(fd, artifact.mode);
  } finally {
    closeSync(fd);
  }
}

/** The bytes of `path` in the output directory, or undefined when there is no such file. */
export async function readOutputFile(dir: string, path: string): Promise<Uint8Array | undefined> {
  assertRelativePath(path);
  try {
    return readFileSync(join(dir, path));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR" || code === "EISDIR") return undefined;
    throw error;
  }
}

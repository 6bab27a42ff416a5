// The one writer of rendered output. Everything is written into a staging folder inside the
// output directory first; only when all of it is on disk is each file moved over its old version
// by rename (`manifest.json` last). A failure while moving puts the old versions back. The writer
// replaces exactly the files it is given and deletes nothing else: other nodes' seeds, a bundle,
// `images/` from build-image stay as they are (DESIGN.md: a command replaces only what it rewrote).
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile, chmod } from "node:fs/promises";
import { dirname, join } from "node:path";
import { UsageError } from "../errors.js";
import type { Artifact } from "../render/artifact.js";

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

async function ensureDirectory(dir: string): Promise<void> {
  try {
    const info = await stat(dir);
    if (!info.isDirectory())
      throw new UsageError(`output ${dir} exists and is not a directory`, "name a directory with -o");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    await mkdir(dir, { recursive: true });
  }
}

/** Removes staging folders left behind by a crashed run. */
async function removeLeftovers(dir: string): Promise<void> {
  for (const entry of await readdir(dir)) {
    if (entry.startsWith(STAGING) || entry.startsWith(RETIRED))
      await rm(join(dir, entry), { recursive: true, force: true });
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Each file's path, manifest.json last: it describes the others, so it lands when they have. */
function installOrder(artifacts: readonly Artifact[]): string[] {
  const paths = artifacts.map((a) => a.path);
  return [...paths.filter((p) => p !== "manifest.json"), ...paths.filter((p) => p === "manifest.json")];
}

export async function writeArtifacts(dir: string, artifacts: readonly Artifact[]): Promise<void> {
  try {
    await writeAll(dir, artifacts);
  } catch (error) {
    // name the path the user knows, not its copy in our staging folder
    const e = error as NodeJS.ErrnoException;
    if (typeof e?.path === "string") e.path = e.path.replace(/\/\.k8s-ha-(staging|old)-[^/]+/, "");
    throw error;
  }
}

async function writeAll(dir: string, artifacts: readonly Artifact[]): Promise<void> {
  for (const a of artifacts) assertRelativePath(a.path);
  await ensureDirectory(dir);
  await removeLeftovers(dir);
  const staging = await mkdtemp(join(dir, STAGING));
  const retired = await mkdtemp(join(dir, RETIRED));
  const moved: string[] = [];
  let current: string | undefined;
  try {
    for (const artifact of artifacts) {
      current = join(dir, artifact.path);
      const target = join(staging, artifact.path);
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, artifact.contents, { mode: artifact.mode });
      await chmod(target, artifact.mode); // the umask must not change the modes we promise
    }
    current = undefined;
    for (const path of installOrder(artifacts)) {
      const target = join(dir, path);
      await mkdir(dirname(target), { recursive: true });
      if (await exists(target)) {
        await mkdir(dirname(join(retired, path)), { recursive: true });
        await rename(target, join(retired, path));
      }
      moved.push(path);
      await rename(join(staging, path), target);
    }
  } catch (error) {
    // a failed write(2), e.g. ENOSPC, names no path: name the output file being written
    const e = error as NodeJS.ErrnoException;
    if (typeof e?.code === "string" && e.path === undefined && current !== undefined) e.path = current;
    // Put back what was already replaced, so the old output stays whole.
    for (const path of moved.reverse()) {
      await rm(join(dir, path), { force: true });
      if (await exists(join(retired, path))) await rename(join(retired, path), join(dir, path));
    }
    throw error;
  } finally {
    await rm(staging, { recursive: true, force: true });
    await rm(retired, { recursive: true, force: true });
  }
}

/** The bytes of `path` in the output directory, or undefined when there is no such file. */
export async function readOutputFile(dir: string, path: string): Promise<Uint8Array | undefined> {
  assertRelativePath(path);
  try {
    return await readFile(join(dir, path));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR" || code === "EISDIR") return undefined;
    throw error;
  }
}

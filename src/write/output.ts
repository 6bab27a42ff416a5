// The one writer of rendered output. Everything is written into a staging folder inside the
// output directory first; only when all of it is on disk are the top-level entries we own
// (`nodes/`, `packer/`, `manifest.json` last) swapped in by rename. A failure or crash while
// writing leaves the previous output untouched; other entries in the directory (for example
// `images/` from build-image) are never touched.
import { mkdir, mkdtemp, readdir, rename, rm, stat, writeFile, chmod } from "node:fs/promises";
import { dirname, join } from "node:path";
import { UsageError } from "../errors.js";
import type { Artifact } from "../render/artifact.js";

const STAGING = ".k8s-ha-staging-";
const RETIRED = ".k8s-ha-old-";

export function assertRelativePath(path: string): void {
  if (path === "" || path.startsWith("/") || path.split("/").some((part) => part === "" || part === "." || part === "..")) {
    throw new Error(`internal error: artifact path ${JSON.stringify(path)} is not a plain relative path`);
  }
}

async function ensureDirectory(dir: string): Promise<void> {
  try {
    const info = await stat(dir);
    if (!info.isDirectory()) throw new UsageError(`output ${dir} exists and is not a directory`, "name a directory with -o");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    await mkdir(dir, { recursive: true });
  }
}

/** Removes staging folders left behind by a crashed run. */
async function removeLeftovers(dir: string): Promise<void> {
  for (const entry of await readdir(dir)) {
    if (entry.startsWith(STAGING) || entry.startsWith(RETIRED)) await rm(join(dir, entry), { recursive: true, force: true });
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
  const swapped: string[] = [];
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
    const owned = [...new Set(artifacts.map((a) => a.path.split("/")[0]!))].sort((a, b) =>
      a === "manifest.json" ? 1 : b === "manifest.json" ? -1 : a.localeCompare(b),
    );
    for (const entry of owned) {
      if (await exists(join(dir, entry))) await rename(join(dir, entry), join(retired, entry));
      swapped.push(entry);
      await rename(join(staging, entry), join(dir, entry));
    }
  } catch (error) {
    // a failed write(2), e.g. ENOSPC, names no path: name the output file being written
    const e = error as NodeJS.ErrnoException;
    if (typeof e?.code === "string" && e.path === undefined && current !== undefined) e.path = current;
    // Put back what was already swapped, so the old output stays whole.
    for (const entry of swapped.reverse()) {
      await rm(join(dir, entry), { recursive: true, force: true });
      if (await exists(join(retired, entry))) await rename(join(retired, entry), join(dir, entry));
    }
    throw error;
  } finally {
    await rm(staging, { recursive: true, force: true });
    await rm(retired, { recursive: true, force: true });
  }
}


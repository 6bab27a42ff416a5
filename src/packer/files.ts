// The file work of build-image, kept apart from its flow: writing the template folder,
// staging folders, hashing and moving the OVA.
import { copyFile, mkdir, readdir, readFile, rename, rm, stat, unlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import { artifactBytes, type Artifact } from "../render/artifact.js";
import type { Progress } from "./progress.js";
import { writeFileAtomic } from "../write/atomic.js";
import { PACKER_DIR } from "./render.js";

/** Writes DIR/packer/ (the same bytes `render` writes), leaving identical files untouched. */
export async function writeTemplate(outDir: string, artifacts: readonly Artifact[], progress: Progress): Promise<void> {
  const wanted = new Set<string>();
  for (const artifact of artifacts) {
    if (!artifact.path.startsWith(`${PACKER_DIR}/`) || artifact.path.split("/").includes("..")) {
      throw new Error(`packer artifact outside ${PACKER_DIR}/: ${artifact.path}`);
    }
    const path = join(outDir, artifact.path);
    wanted.add(path);
    const bytes = artifactBytes(artifact.contents);
    try {
      const [current, info] = await Promise.all([readFile(path), stat(path)]);
      if (current.equals(bytes) && (info.mode & 0o777) === artifact.mode) continue;
    } catch {
      // not there yet
    }
    await mkdir(dirname(path), { recursive: true });
    await writeFileAtomic(path, bytes, artifact.mode);
  }
  // Packer reads every *.pkr.hcl of the folder: a template left by an older version would join the build.
  const templateDir = join(outDir, PACKER_DIR);
  for (const name of await readdir(templateDir)) {
    const path = join(templateDir, name);
    if (/\.pkr\.(hcl|json)$/.test(name) && !wanted.has(path)) {
      progress.info(`removing ${path}: not part of this template`);
      await rm(path, { force: true });
    }
  }
}

const stagingPrefix = (stem: string) => `.${stem}.partial-`;

/** Where a build of this process writes before its OVA is checksummed and moved into place. */
export function stagingDir(imagesDir: string, stem: string): string {
  return join(imagesDir, `${stagingPrefix(stem)}${process.pid}`);
}

/** Staging folders of builds that died without cleaning up (SIGKILL, power loss). */
export async function removeStaleStaging(imagesDir: string, stem: string): Promise<void> {
  const prefix = stagingPrefix(stem);
  for (const name of await readdir(imagesDir)) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length));
    if (Number.isInteger(pid) && pid !== process.pid && isAlive(pid)) continue;
    await rm(join(imagesDir, name), { recursive: true, force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

export async function moveFile(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EXDEV") throw error;
    const temporary = `${to}.tmp-${process.pid}`;
    await copyFile(from, temporary);
    await rename(temporary, to);
    await unlink(from);
  }
}

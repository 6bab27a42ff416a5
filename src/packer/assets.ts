// Reads the static Packer files (provisioning scripts, autoinstall seed) from the package's
// top-level packer/ folder. This is the edge: the renderer gets their contents and reads nothing.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { PACKER_ASSET_FILES, type PackerAssetFile, type PackerAssets } from "./render.js";

/**
 * The package's packer/ folder (package.json ships it in `files`), found from `start` upwards:
 * this module runs as src/packer/assets.ts under vitest, two levels below the package root, and
 * from an esbuild chunk directly in dist/, one level below it.
 */
export function findPackerAssetsDir(start: string): string | undefined {
  let dir = start;
  for (let level = 0; level < 5; level++) {
    const candidate = join(dir, "packer");
    if (existsSync(join(dir, "package.json")) && existsSync(join(candidate, "http", "user-data"))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return undefined;
}

export function packerAssetsDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const found = findPackerAssetsDir(here);
  if (!found) throw new Error(`k8s-ha is incomplete: no packer/ folder in the package above ${here}`);
  return found;
}

/**
 * Reads every file the template needs; a missing one is a broken install, reported as such.
 * Synchronous reads of a few small files (issue 13): every render pays for this, and
 * node:fs/promises would be loaded for it alone. Async for its callers.
 */
export async function loadPackerAssets(dir: string = packerAssetsDir()): Promise<PackerAssets> {
  const entries = PACKER_ASSET_FILES.map((file): [PackerAssetFile, string] => {
    try {
      return [file, readFileSync(join(dir, file), "utf8")];
    } catch (error) {
      throw new Error(`k8s-ha is incomplete: cannot read ${join(dir, file)} (${(error as Error).message})`);
    }
  });
  return Object.fromEntries(entries) as PackerAssets;
}

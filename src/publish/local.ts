// What `publish` sends, found where build-image and `seed --bundle` left it:
//   DIR/images/<name>-<version>.ova   the image; its sha256 and size come from its record
//   DIR/<cluster>-seeds.tar.gz         the seeds bundle, when present
//   DIR/images/<name>-<version>.json   the image record itself, uploaded last
// The OVA is not hashed here (minutes for a multi-GB file): it is hashed as it is uploaded, and
// the upload fails before it completes if the bytes are not the recorded ones.
import { readFile, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { EXIT, ExitError } from "../errors.js";
import { imageRecordPath, parseImageRecord } from "../packer/record.js";
import { bundleName } from "../seed/bundle.js";
import type { ImageSpec } from "../spec/schema.js";
import { hashFile, sha256 } from "../write/hash.js";
import { ROLES, type Role } from "./layout.js";

export interface LocalFile {
  role: Role;
  /** The file name, also the last segment of its key. */
  file: string;
  path: string;
  size: number;
  sha256: string;
}

export interface LocalImage {
  /** In upload order: the image, the seeds bundle (if any), the record last. */
  files: LocalFile[];
  /** From the image record. */
  builtAt: string;
  specSha256: string;
}

export async function localImage(
  outDir: string,
  cluster: string,
  image: Pick<ImageSpec, "name" | "version">,
  signal?: AbortSignal,
): Promise<LocalImage> {
  const recordPath = imageRecordPath(outDir, image);
  const build = `run \`k8s-ha build-image <spec> -o ${outDir}\` first`;
  // read once: parsed here, uploaded as it is, its sha256 listed in the catalogue
  const recordBytes = await readFile(recordPath).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return undefined;
    throw error;
  });
  const record = recordBytes && parseImageRecord(recordBytes.toString("utf8"));
  if (!record) {
    const there = recordBytes !== undefined;
    throw new ExitError(
      EXIT.invalid,
      there
        ? `${recordPath} is not an image record written by k8s-ha; nothing was published`
        : `${recordPath}: no image record; nothing was published`,
      `${build} (spec.image.name and spec.image.version name the files)`,
    );
  }
  if (record.name !== image.name || record.version !== image.version) {
    throw new ExitError(
      EXIT.invalid,
      `${recordPath} records ${record.name} ${record.version}, not ${image.name} ${image.version}`,
      build,
    );
  }
  const ovaPath = join(dirname(recordPath), record.file);
  const ova = await stat(ovaPath).catch(() => undefined);
  if (!ova?.isFile())
    throw new ExitError(EXIT.invalid, `${ovaPath}: no such image (its record is there); nothing was published`, build);
  if (ova.size !== record.size) {
    throw new ExitError(
      EXIT.invalid,
      `${ovaPath} is ${ova.size} bytes, its record says ${record.size}: not the image that was built; nothing was published`,
      `rebuild it: k8s-ha build-image <spec> -o ${outDir} --force`,
    );
  }
  const files: LocalFile[] = [
    { role: ROLES.image, file: record.file, path: ovaPath, size: record.size, sha256: record.sha256 },
  ];
  const seedsPath = join(outDir, bundleName(cluster));
  if ((await stat(seedsPath).catch(() => undefined))?.isFile()) {
    const { sha256: hash, size } = await hashFile(seedsPath, { signal });
    files.push({ role: ROLES.seeds, file: bundleName(cluster), path: seedsPath, size, sha256: hash });
  }
  files.push({
    role: ROLES.record,
    file: basename(recordPath),
    path: recordPath,
    size: recordBytes.byteLength,
    sha256: sha256(recordBytes),
  });
  return { files, builtAt: record.builtAt, specSha256: record.specSha256 };
}

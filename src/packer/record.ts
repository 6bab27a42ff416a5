// The image record, DIR/images/<name>-<version>.json: what was baked, from what, and its
// checksum. `publish` and `images pull` read it; build-image reads it to skip a rebuild, and
// `seed` for the OVA's storage controller. Read with synchronous calls (one small file): `seed`
// loads no node:fs/promises for it (issue 13). The record is written by build-image.ts.
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { z } from "../zod.js";
import type { ImageSpec } from "../spec/schema.js";

export const IMAGES_DIR = "images";

const hex64 = z.string().regex(/^[0-9a-f]{64}$/);

export const imageRecordSchema = z.object({
  name: z.string().min(1),
  version: z.string().min(1),
  /** The image (an OVA from VirtualBox, a qcow2 from qemu), relative to the record's folder. */
  file: z.string().regex(/^[^/\\]+\.(ova|qcow2)$/),
  size: z.int().nonnegative(),
  sha256: hex64,
  /** sha256 of the spec file the image was built from. */
  specSha256: z.string(),
  /** templateFingerprint() of the rendered packer/ folder. */
  templateFingerprint: hex64,
  packerVersion: z.string(),
  virtualBoxVersion: z.string().optional(),
  /** The OVA's IDE controller, where a node's seed ISO goes (read from its OVF at bake time). */
  storageController: z.string().min(1).optional(),
  /** spec.image.builder and spec.target.os; absent in records written before the qemu builder. */
  builder: z.enum(["virtualbox", "qemu"]).optional(),
  os: z.string().optional(),
  /** qemu's version and accelerator (kvm, or tcg: emulated) for a qemu bake. */
  qemu: z.object({ version: z.string(), accelerator: z.string() }).optional(),
  /** What packer/scripts/95-check-image.sh checked in the build VM (a failed check fails the build). */
  imageCheck: z
    .object({
      passed: z.boolean(),
      checks: z.array(z.string()),
      /** Installed Debian package versions, by name. */
      packages: z.record(z.string(), z.string()),
    })
    .optional(),
  /** When the build finished (ISO 8601, UTC) and how long it took. */
  builtAt: z.string(),
  buildSeconds: z.number().nonnegative(),
  /** What the provisioning installed and reported (spec.kubernetes: containerd, kubeadm, kubelet, kubectl). */
  packages: z.record(z.string(), z.string()).optional(),
});

export type ImageRecord = z.infer<typeof imageRecordSchema>;

/** "<name>-<version>", the stem of both the OVA and its record. */
export function imageStem(image: Pick<ImageSpec, "name" | "version">): string {
  return `${image.name}-${image.version}`;
}

export function imageRecordPath(outDir: string, image: Pick<ImageSpec, "name" | "version">): string {
  return join(outDir, IMAGES_DIR, `${imageStem(image)}.json`);
}

/** The record, or undefined when there is none or it is not one we wrote. */
export function readImageRecord(path: string): ImageRecord | undefined {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
  return parseImageRecord(text);
}

/** The record in `text`, or undefined when it is not JSON or not one we wrote. */
export function parseImageRecord(text: string): ImageRecord | undefined {
  try {
    const parsed = imageRecordSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * True when `record` describes the image a build with `fingerprint` would make and its OVA is
 * still there with the recorded size. The OVA is not hashed again: that takes minutes for a
 * multi-GB file, and the skip must take well under a second.
 */
export function isUpToDate(recordPath: string, record: ImageRecord, fingerprint: string): boolean {
  if (record.templateFingerprint !== fingerprint) return false;
  try {
    const info = statSync(join(recordPath, "..", record.file));
    return info.isFile() && info.size === record.size;
  } catch {
    return false;
  }
}

// What a bake starts from (the installer ISO for VirtualBox, the cloud image for qemu), and the
// dry run's check that it can be had: a missing file or a dead link is found now, not when Packer
// starts its download half-way through a CI job.
import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ExternalError } from "../errors.js";
import type { ImageSpec } from "../spec/schema.js";
import { INSTALLER_ISOS, OS_FACTS, type TargetOs } from "../spec/targets.js";

/** How long a web server gets to answer the dry run's HEAD (or one-byte GET). */
export const REACH_TIMEOUT_MS = 10_000;

export interface SourceImage {
  /** "installer ISO" or "cloud image", for messages. */
  what: string;
  url: string;
  /** Where the URL came from: the template's default, or PKR_VAR_iso_url. */
  from: "template" | "PKR_VAR_iso_url";
}

/** The template's iso_url for this builder and OS, unless PKR_VAR_iso_url (which Packer reads) overrides it. */
export function sourceImage(
  builder: ImageSpec["builder"],
  os: TargetOs,
  env: NodeJS.ProcessEnv,
): SourceImage | undefined {
  const what = builder === "qemu" ? "cloud image" : "installer ISO";
  const override = env.PKR_VAR_iso_url;
  if (override) return { what, url: override, from: "PKR_VAR_iso_url" };
  const url = builder === "qemu" ? OS_FACTS[os].cloudImage?.url : INSTALLER_ISOS[os]?.url;
  return url ? { what, url, from: "template" } : undefined;
}

const OVERRIDE_HINT =
  "point the build at a copy you have: PKR_VAR_iso_url=/path/to/the.iso (or an http(s) URL) and PKR_VAR_iso_checksum=sha256:<its hex>";

/**
 * Throws ExternalError (exit 3) unless the image can be had: a local path or file: URL names a
 * file; an http(s) URL answers a HEAD, or a one-byte ranged GET, with 2xx within `timeoutMs`.
 * Other schemes (s3::, git::) Packer's getter knows are not checked: returns false for them.
 */
export async function checkReachable(image: SourceImage, timeoutMs = REACH_TIMEOUT_MS): Promise<boolean> {
  const { url, what } = image;
  const named = `the ${what} ${url}${image.from === "PKR_VAR_iso_url" ? " (PKR_VAR_iso_url)" : ""}`;
  if (/^https?:\/\//i.test(url)) {
    const status = await answer(url, timeoutMs).catch((error: unknown) => {
      throw new ExternalError(`${named} is not reachable: ${reason(error, timeoutMs)}`, OVERRIDE_HINT);
    });
    if (status < 200 || status > 299)
      throw new ExternalError(`${named} is not reachable: the server answered HTTP ${status}`, OVERRIDE_HINT);
    return true;
  }
  if (/^[a-z][a-z0-9+.-]*:/i.test(url) && !/^file:/i.test(url)) return false;
  // Packer runs in DIR/packer during a bake but wherever the commands are pasted: say which we checked
  const path = /^file:/i.test(url) ? fileURLToPath(url) : resolve(url);
  const found = await stat(path).catch((error: NodeJS.ErrnoException) => {
    throw new ExternalError(
      `${named}: ${path} ${error.code === "ENOENT" ? "does not exist" : `cannot be read (${error.code})`}`,
      OVERRIDE_HINT,
    );
  });
  if (!found.isFile()) throw new ExternalError(`${named}: ${path} is not a file`, OVERRIDE_HINT);
  return true;
}

/** The status of a HEAD; servers that refuse HEAD (405, 501) are asked for one byte instead. */
async function answer(url: string, timeoutMs: number): Promise<number> {
  const head = await fetch(url, { method: "HEAD", redirect: "follow", signal: AbortSignal.timeout(timeoutMs) });
  if (head.status !== 405 && head.status !== 501) return head.status;
  const ranged = await fetch(url, {
    headers: { Range: "bytes=0-0" },
    redirect: "follow",
    signal: AbortSignal.timeout(timeoutMs),
  });
  await ranged.body?.cancel();
  return ranged.status;
}

function reason(error: unknown, timeoutMs: number): string {
  const e = error as Error & { cause?: NodeJS.ErrnoException };
  if (e.name === "TimeoutError") return `no answer within ${timeoutMs / 1000} s`;
  // fetch refuses the ports browsers block (25, 6000, …) without trying them
  if (e.cause?.message === "bad port")
    return "its port is one Node's fetch refuses to use (a port browsers block); serve the image on another port";
  return e.cause?.code ?? e.cause?.message ?? e.message;
}

// `seed --bundle`: one .tar.gz with the manifest and every seed written, for whoever creates the
// VMs. The tar is tar-stream's (ustar headers, pax for long names); byte-identical across runs
// because every header field is ours to set: sorted entries, root:root (0/0), one mtime
// (SOURCE_DATE_EPOCH, else 2020-01-01), fixed modes; gzip header with mtime 0 and a fixed OS byte.
//
// The rule for the manifest: manifest.json lists the rendered output; the bundle is a package OF
// that output (it contains manifest.json) and so is not listed in it. The manifest inside the
// bundle verifies every seed in it by sha256; the bundle's own sha256 is printed by `seed`.
import { gzipSync } from "node:zlib";
import { pack } from "tar-stream";
import { artifactBytes, byPath, type Artifact } from "../render/artifact.js";
import { DERIVED_DATE_BASE } from "./date.js";

interface TarEntry {
  path: string;
  type: "file" | "directory";
  mode: number;
  contents?: Uint8Array;
}

export function bundleName(cluster: string): string {
  return `${cluster}-seeds.tar.gz`;
}

/** The folder every entry sits in, so that extracting never scatters files: `<cluster>-seeds/`. */
function bundleRoot(cluster: string): string {
  return `${cluster}-seeds`;
}

/** RFC 1952 OS byte: 3 = Unix, whatever platform zlib was built for, so bytes match everywhere. */
const GZIP_OS_UNIX = 3;

/**
 * The bundle of `files` (manifest.json and the seed ISOs, paths relative to the output
 * directory), as an artifact at `<cluster>-seeds.tar.gz`.
 */
export async function bundleArtifact(cluster: string, files: readonly Artifact[], date?: Date): Promise<Artifact> {
  const root = bundleRoot(cluster);
  const entries = new Map<string, TarEntry>();
  entries.set(`${root}/`, { path: `${root}/`, type: "directory", mode: 0o755 });
  for (const file of files) {
    const parts = file.path.split("/");
    if (parts.some((part) => part === "" || part === "." || part === ".."))
      throw new Error(`bundle: not a plain relative path: ${JSON.stringify(file.path)}`);
    for (let i = 1; i < parts.length; i++) {
      const dir = `${root}/${parts.slice(0, i).join("/")}/`;
      entries.set(dir, { path: dir, type: "directory", mode: 0o755 });
    }
    const contents = artifactBytes(file.contents);
    entries.set(`${root}/${file.path}`, { path: `${root}/${file.path}`, type: "file", mode: file.mode, contents });
  }
  // Code-unit order puts every directory before what it holds (a prefix sorts first).
  const sorted = [...entries.values()].sort(byPath);
  // whole seconds, as tar stores them
  const mtime = new Date(Math.floor((date?.getTime() ?? DERIVED_DATE_BASE) / 1000) * 1000);
  const gz = gzipSync(await tarOf(sorted, mtime), { level: 9 });
  // zlib writes mtime 0 (bytes 4-7) already; the OS byte depends on the platform zlib targets.
  gz[9] = GZIP_OS_UNIX;
  return { path: bundleName(cluster), contents: gz, mode: 0o644 };
}

/** The archive as one buffer: no field comes from the host (owner, mtime, order are given). */
async function tarOf(entries: readonly TarEntry[], mtime: Date): Promise<Buffer> {
  const archive = pack();
  for (const entry of entries) {
    const header = {
      name: entry.path,
      type: entry.type,
      mode: entry.mode,
      mtime,
      uid: 0,
      gid: 0,
      uname: "root",
      gname: "root",
    };
    if (entry.type === "file") archive.entry(header, entry.contents ?? new Uint8Array(0));
    else archive.entry(header);
  }
  archive.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of archive) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

// `k8s-ha images pull NAME@VERSION -o DIR`: every file of a published version, checked against
// the catalogue's sha256 while it streams, into the layout build-image writes:
//   DIR/images/<name>-<version>.ova and .json     (so publish, build-image and VM tooling find them)
//   DIR/<cluster>-seeds.tar.gz                    (when the version has a seeds bundle)
// All files are downloaded to temp names first and renamed only when every one has passed:
// a failed or interrupted pull leaves no file, not even a partial one.
import type { S3Client } from "@aws-sdk/client-s3";
import { mkdir, readFile, rm, stat } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { UsageError } from "../errors.js";
import { IMAGES_DIR, imageRecordSchema } from "../packer/record.js";
import type { S3Spec } from "../spec/schema.js";
import {
  fileKey,
  findVersion,
  latestVersion,
  readCatalogue,
  type Catalogue,
  type CatalogueFile,
  type CatalogueVersion,
} from "./catalogue.js";
import { createS3Client } from "./client.js";
import { attempt, IntegrityError, localFailure, s3Failure, throwIfAborted } from "./errors.js";
import { hashFile } from "../write/hash.js";
import { commitDownload, downloadVerified } from "./download.js";
import { watchInterrupts } from "../tools/run.js";
import { catalogueKey, LATEST, ROLES, s3Url, storeName, type ImageRef } from "./layout.js";
import { createTransferProgress } from "./progress.js";
import { stderr as terminalStderr } from "../terminal.js";

export interface PullOptions {
  outDir: string;
  s3: S3Spec;
  ref: ImageRef;
  stderr?: NodeJS.WritableStream;
  tty?: boolean;
  /** Acts as Ctrl-C. Without one, SIGINT and SIGTERM are watched while pulling. */
  signal?: AbortSignal;
  client?: S3Client;
}

export interface PulledFile {
  role: string;
  file: string;
  path: string;
  size: number;
  sha256: string;
  /** True when the file was already there with the right sha256, and was not downloaded again. */
  present: boolean;
}

export interface PullResult {
  name: string;
  version: string;
  files: PulledFile[];
}

/** Where each role goes under DIR; unknown roles (from a newer k8s-ha) are not pulled. */
function destinationOf(outDir: string, file: CatalogueFile): string | undefined {
  if (file.role === ROLES.image || file.role === ROLES.record) return join(outDir, IMAGES_DIR, file.file);
  if (file.role === ROLES.seeds) return join(outDir, file.file);
  return undefined;
}

export async function pullImage(options: PullOptions): Promise<PullResult> {
  const stderr = options.stderr ?? terminalStderr.stream();
  const watch = watchInterrupts({
    cleanup: "removing the partial download",
    leftBehind: "a partial download (.<file>.partial-<pid>) may remain beside the destination",
    stderr,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  try {
    return await pull({ ...options, signal: watch.signal }, stderr);
  } finally {
    watch.dispose();
  }
}

async function pull(
  options: PullOptions & { signal: AbortSignal },
  stderr: NodeJS.WritableStream,
): Promise<PullResult> {
  const { s3, ref, signal } = options;
  const log = (line: string) => stderr.write(`${line}\n`);
  const client = options.client ?? createS3Client(s3);
  const indexUrl = s3Url(s3, catalogueKey(s3, ref.name));
  const { catalogue } = await attempt(
    () => readCatalogue(client, s3, ref.name, signal),
    `reading ${indexUrl}`,
    s3,
    signal,
  );
  const entry = resolveVersion(catalogue, ref, indexUrl);
  const version = entry.version;
  log(
    `pulling ${ref.name} ${version}${ref.version === LATEST ? " (latest)" : ""} from ${storeName(s3)} into ${options.outDir}`,
  );

  const wanted = entry.files.flatMap((file) => {
    const dest = destinationOf(options.outDir, file);
    if (!dest) log(`  skipping ${file.file}: role "${file.role}" is unknown to this k8s-ha`);
    return dest ? [{ ...file, dest, key: fileKey(s3, ref.name, entry, file.file) }] : [];
  });
  if (!entry.files.some((f) => f.role === ROLES.image)) {
    throw s3Failure(
      new IntegrityError(`${indexUrl} lists ${version} without an image file`),
      `pulling ${ref.name}@${version}`,
      s3,
    );
  }

  const temps = new Map<string, string>(); // dest → temp
  const results: PulledFile[] = [];
  try {
    for (const file of wanted) {
      throwIfAborted(signal);
      await mkdir(dirname(file.dest), { recursive: true });
      const url = s3Url(s3, file.key);
      if (await alreadyThere(file.dest, file, signal)) {
        log(`  ${file.dest}: already there, sha256 ${file.sha256.slice(0, 12)} matches`);
        results.push({
          role: file.role,
          file: file.file,
          path: file.dest,
          size: file.size,
          sha256: file.sha256,
          present: true,
        });
        continue;
      }
      const progress = createTransferProgress({
        stream: stderr,
        verb: "downloading",
        label: file.file,
        total: file.size,
        ...(options.tty !== undefined ? { tty: options.tty } : {}),
      });
      try {
        const temp = await attempt(
          () =>
            downloadVerified({
              client,
              bucket: s3.bucket,
              key: file.key,
              dest: file.dest,
              sha256: file.sha256,
              size: file.size,
              signal,
              onProgress: (bytes) => progress.update(bytes),
            }),
          `pulling ${url}`,
          s3,
          signal,
        );
        temps.set(file.dest, temp);
        progress.finish(`sha256 ${file.sha256.slice(0, 12)} verified`);
      } finally {
        progress.close();
      }
      results.push({
        role: file.role,
        file: file.file,
        path: file.dest,
        size: file.size,
        sha256: file.sha256,
        present: false,
      });
    }
    const record = wanted.find((f) => f.role === ROLES.record);
    if (record) await checkRecordFile(temps.get(record.dest) ?? record.dest, entry, s3Url(s3, record.key), s3);
    throwIfAborted(signal);
    for (const [dest, temp] of temps) await commitDownload(temp, dest);
    temps.clear();
  } catch (error) {
    for (const temp of temps.values()) await rm(temp, { force: true });
    log(`nothing was written to ${options.outDir}`);
    throw localFailure(error, signal);
  }
  log(
    `pulled ${ref.name} ${version} into ${options.outDir}: ${results.map((f) => relative(options.outDir, f.path)).join(", ")} (sha256 verified)`,
  );
  return { name: ref.name, version, files: results };
}

function resolveVersion(catalogue: Catalogue, ref: ImageRef, indexUrl: string): CatalogueVersion {
  const entry = ref.version === LATEST ? latestVersion(catalogue) : findVersion(catalogue, ref.version);
  if (entry) return entry;
  const { versions } = catalogue;
  throw new UsageError(
    versions.length === 0
      ? `no version of ${ref.name} is published (${indexUrl})`
      : `${ref.name}@${ref.version} is not published (${indexUrl})`,
    versions.length === 0
      ? "check the name with the team that publishes it, and spec.publish.s3"
      : `published versions: ${versions.map((v) => v.version).join(", ")}`,
  );
}

/** The image record pulled must describe the image pulled: same file, size and sha256. */
async function checkRecordFile(path: string, entry: CatalogueVersion, url: string, s3: S3Spec): Promise<void> {
  const image = entry.files.find((f) => f.role === ROLES.image)!;
  let problem: string | undefined;
  try {
    const record = imageRecordSchema.safeParse(JSON.parse(await readFile(path, "utf8")));
    if (!record.success) problem = "is not an image record";
    else if (
      record.data.file !== image.file ||
      record.data.size !== image.size ||
      record.data.sha256 !== image.sha256
    ) {
      problem = `describes ${record.data.file} (${record.data.size} bytes, sha256 ${record.data.sha256}), not the image listed`;
    }
  } catch (error) {
    problem = `is not JSON (${(error as Error).message})`;
  }
  if (problem) throw s3Failure(new IntegrityError(`${url} ${problem}`), `pulling ${entry.version}`, s3);
}

async function alreadyThere(dest: string, file: CatalogueFile, signal: AbortSignal): Promise<boolean> {
  const info = await stat(dest).catch(() => undefined);
  if (!info?.isFile() || info.size !== file.size) return false;
  return (await hashFile(dest, { signal })).sha256 === file.sha256;
}

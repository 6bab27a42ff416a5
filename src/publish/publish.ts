// `k8s-ha publish` (and build-image --publish): the built image, its record and the seeds
// bundle to <prefix><name>/<version>/<revision>/, then the catalogue. The order is what keeps the
// bucket consistent for the teams that pull from it, even with two publishers racing (issue 18):
//   1. read the catalogue and HEAD the listed version's files: a published version is refused
//      before any byte is sent (unless --force)
//   2. upload each file (multipart, hashed as read) under a revision of this run's own, which
//      no other run writes: nothing already published is ever overwritten, --force included;
//      then HEAD it: size and x-amz-meta-sha256
//   3. only then add the version to the catalogue: the one commit point (commit.ts)
// Publishing exactly the files already listed is a no-op that succeeds (a CI retry).
// A failure or Ctrl-C in 1–2 aborts the upload in flight, removes the objects this run
// completed, and leaves the catalogue as it was. A run that loses the race at 3 exits 3; it
// removes its objects when the store proved they were never listed (conditional writes), and
// otherwise leaves them to `k8s-ha images gc`. Replaced revisions (--force) also wait for gc, so
// that a pull already under way finishes.
import { DeleteObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { ExternalError, InterruptedError } from "../errors.js";
import { formatTimestamp } from "../packer/progress.js";
import type { ImageSpec, S3Spec } from "../spec/schema.js";
import { fileKey, findVersion, readCatalogue, type CatalogueVersion } from "./catalogue.js";
import { decide, exists, verifyObject, type Target } from "./checks.js";
import { createS3Client } from "./client.js";
import { commitVersion, probeConditionalWrites, SETTLE_MS } from "./commit.js";
import { attempt, localFailure, s3Failure, scrubSecrets, throwIfAborted } from "./errors.js";
import { randomBytes } from "node:crypto";
import { catalogueKey, contentType, objectKey, s3Url, storeName, type Role } from "./layout.js";
import { localImage } from "./local.js";
import { watchInterrupts } from "../tools/run.js";
import { createTransferProgress } from "./progress.js";
import { transferOverrides, transferSettings, uploadFile, type TransferSettings } from "./upload.js";
import { stderr as terminalStderr } from "../terminal.js";

export interface PublishOptions {
  /** The output folder of build-image (and seed --bundle): DIR of `-o DIR`. */
  outDir: string;
  s3: S3Spec;
  /** metadata.name: names the seeds bundle. */
  cluster: string;
  image: Pick<ImageSpec, "name" | "version">;
  /** Replace a version already published (or left half-published). */
  force?: boolean;
  /** Progress and logs (default k8s-ha's stderr). */
  stderr?: NodeJS.WritableStream;
  /** Force the progress bar on or off (default: whether stderr is a TTY). */
  tty?: boolean;
  /** Acts as Ctrl-C. Without one, SIGINT and SIGTERM are watched while publishing. */
  signal?: AbortSignal;
  /** Tests and tools may bring their own client. */
  client?: S3Client;
  /** Part size and concurrency (default: transferSettings(), then K8S_HA_S3_* overrides). */
  settings?: Partial<TransferSettings>;
  /** The clock of publishedAt (tests). */
  now?: () => Date;
}

export interface PublishedFile {
  role: Role;
  file: string;
  key: string;
  url: string;
  size: number;
  sha256: string;
}

export interface PublishResult {
  name: string;
  version: string;
  bucket: string;
  store: string;
  catalogue: string;
  /** True when --force replaced a version that was already listed. */
  replaced: boolean;
  /** The folder of this run's objects under the version (layout.ts). */
  revision: string;
  /** True when the version was already published with exactly these files: nothing was sent. */
  unchanged: boolean;
  files: PublishedFile[];
  /** The catalogue's versions afterwards, newest first. */
  versions: string[];
}

export async function publishImage(options: PublishOptions): Promise<PublishResult> {
  const stderr = options.stderr ?? terminalStderr.stream();
  const watch = watchInterrupts({
    cleanup: "aborting the upload",
    leftBehind: `the parts of an unfinished multipart upload may stay in bucket ${options.s3.bucket} (aws s3api list-multipart-uploads --bucket ${options.s3.bucket}); the catalogue changes only in its last step`,
    stderr,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  try {
    return await publish({ ...options, signal: watch.signal }, stderr);
  } finally {
    watch.dispose();
  }
}

async function publish(
  options: PublishOptions & { signal: AbortSignal },
  stderr: NodeJS.WritableStream,
): Promise<PublishResult> {
  const { s3, signal } = options;
  const { name, version } = options.image;
  const force = options.force ?? false;
  const log = (line: string) => stderr.write(`${line}\n`);
  const warn = (line: string) => stderr.write(`warning: ${scrubSecrets(line)}\n`);
  const overrides = { ...transferOverrides(), ...options.settings };

  const local = await localImage(options.outDir, options.cluster, options.image, signal).catch((error: unknown) => {
    throw localFailure(error, signal);
  });
  const client = options.client ?? createS3Client(s3);
  const indexUrl = s3Url(s3, catalogueKey(s3, name));
  // this run's own folder: the image's sha256 (legible) and random bytes (unique)
  const revision = `${local.files[0]!.sha256.slice(0, 12)}-${randomBytes(8).toString("hex")}`;
  const targets: Target[] = local.files.map((f) => {
    const key = objectKey(s3, name, version, f.file, revision);
    return { ...f, key, url: s3Url(s3, key) };
  });
  const where = `${s3Url(s3, objectKey(s3, name, version, "", revision))} (${storeName(s3)})`;
  const label = `${name} ${version}`;
  /** `files` under `at`: this run's revision, or the listed one when nothing was sent. */
  const result = (
    fields: Pick<PublishResult, "replaced" | "unchanged" | "versions">,
    at = revision,
    files = targets,
  ): PublishResult => ({
    name,
    version,
    bucket: s3.bucket,
    store: storeName(s3),
    catalogue: indexUrl,
    revision: at,
    ...fields,
    files: files.map(({ role, file, key, url, size, sha256 }) => ({ role, file, key, url, size, sha256 })),
  });

  // 1. refuse a published version before any byte is sent
  const { catalogue } = await attempt(() => readCatalogue(client, s3, name, signal), `reading ${indexUrl}`, s3, signal);
  const listed = findVersion(catalogue, version);
  const listedRevision = listed?.revision;
  const listedTargets: Target[] = (listed?.files ?? []).flatMap((f) => {
    const mine = local.files.find((l) => l.file === f.file);
    const key = fileKey(s3, name, listed!, f.file);
    return mine ? [{ ...mine, key, url: s3Url(s3, key) }] : [];
  });
  const missing = listed
    ? await attempt(
        async () => {
          const keys = listed.files.map((f) => fileKey(s3, name, listed, f.file));
          const found = await Promise.all(keys.map((key) => exists(client, s3.bucket, key, signal)));
          return keys.filter((_, i) => !found[i]).map((key) => s3Url(s3, key));
        },
        `checking the files of ${label} listed in ${indexUrl}`,
        s3,
        signal,
      )
    : [];
  if (decide({ label, catalogueUrl: indexUrl, listed, files: local.files, missing, force }) === "unchanged") {
    log(
      `${label} is already published in ${indexUrl} with the same files (sha256 ${targets[0]!.sha256.slice(0, 12)}…); nothing was sent`,
    );
    return result(
      { replaced: false, unchanged: true, versions: catalogue.versions.map((v) => v.version) },
      listedRevision ?? "",
      listedTargets,
    );
  }

  const conditional = await attempt(
    () => probeConditionalWrites(client, s3, name, revision, signal),
    `probing ${storeName(s3)}`,
    s3,
    signal,
  );
  if (!conditional) {
    warn(
      `${storeName(s3)} does not honour conditional writes (If-None-Match): the catalogue is written, then read back after ` +
        `${SETTLE_MS / 1000} s to settle a race with another publisher (docs/publish.md)`,
    );
  }
  log(`publishing ${label} to ${where}`);

  // 2. upload and check each file; on failure, remove what this run completed
  const created: Target[] = [];
  try {
    for (const target of targets) {
      throwIfAborted(signal);
      const settings = transferSettings(target.size, overrides);
      await uploadAndCheck(client, s3, target, { signal, stderr, warn, settings, tty: options.tty, created });
    }
    throwIfAborted(signal);
  } catch (error) {
    await removeObjects(client, s3.bucket, created, log, warn);
    const state = `the catalogue ${indexUrl} is unchanged`;
    if (error instanceof InterruptedError) throw new InterruptedError(`interrupted: nothing was published; ${state}`);
    log(`nothing was published: ${state}`);
    throw error;
  }

  // 3. the catalogue, last: the commit point
  const entry: CatalogueVersion = {
    version,
    builtAt: local.builtAt,
    publishedAt: formatTimestamp((options.now?.() ?? new Date()).getTime()),
    specSha256: local.specSha256,
    revision,
    files: local.files.map((f) => ({ file: f.file, role: f.role, size: f.size, sha256: f.sha256 })),
  };
  let commit;
  try {
    commit = await commitVersion({
      client,
      s3,
      name,
      entry,
      replacing: force ? listedRevision : undefined,
      conditional,
      warn,
    });
  } catch (error) {
    // The PUT may or may not have reached the store: the uploaded files stay (harmless if
    // unlisted, needed if listed); a second run settles it.
    log(
      `the files are uploaded, but ${indexUrl} may not list ${version}: check with \`k8s-ha images list\`, or publish again`,
    );
    throw s3Failure(error, `updating ${indexUrl}`, s3);
  }
  if (!commit.won) {
    const holder = commit.holder.files.find((f) => f.role === "image");
    const same = holder?.sha256 === targets[0]!.sha256;
    if (commit.certain) await removeObjects(client, s3.bucket, created, log, warn);
    else
      log(
        `this run's objects under ${where} stay until \`k8s-ha images gc\` removes them (the store cannot prove that no catalogue named them)`,
      );
    throw new ExternalError(
      `${label} was published by someone else while this upload ran (${same ? "the same image" : "another image"}, sha256 ${holder?.sha256.slice(0, 12) ?? "?"}…); this build was not published`,
      same
        ? "the published version has exactly these bytes: nothing to do"
        : "check with `k8s-ha images list` and `k8s-ha images pull`; bump spec.image.version, or --force publishes this build over it",
    );
  }
  const versions = commit.catalogue.versions.map((v) => v.version);
  log(`catalogue ${indexUrl}: ${versions.join(", ")}`);
  if (listed && force)
    log(
      `--force: the replaced files of ${version} (revision ${listedRevision ?? "from before revisions"}) stay until \`k8s-ha images gc\``,
    );
  log(`teams can fetch it with: k8s-ha images pull <spec> ${name}@${version} -o DIR`);
  return result({ replaced: force && listed !== undefined, unchanged: false, versions });
}

async function uploadAndCheck(
  client: S3Client,
  s3: S3Spec,
  target: Target,
  options: {
    signal: AbortSignal;
    stderr: NodeJS.WritableStream;
    warn: (text: string) => void;
    settings: TransferSettings;
    tty: boolean | undefined;
    /** Where a completed upload is recorded, before its HEAD: what to remove on failure. */
    created: Target[];
  },
): Promise<void> {
  const progress = createTransferProgress({
    stream: options.stderr,
    verb: "uploading",
    label: target.file,
    total: target.size,
    ...(options.tty !== undefined ? { tty: options.tty } : {}),
  });
  try {
    await attempt(
      () =>
        uploadFile({
          client,
          bucket: s3.bucket,
          key: target.key,
          path: target.path,
          size: target.size,
          sha256: target.sha256,
          contentType: contentType(target.role),
          ifNoneMatch: true, // a key of this run's own: only a bug could find it taken
          checksums: s3.endpoint === undefined, // AWS S3 checks a CRC32 per part; custom endpoints may not (client.ts)
          settings: options.settings,
          signal: options.signal,
          onProgress: (bytes) => progress.update(bytes),
          warn: (text) => {
            progress.close();
            options.warn(text);
          },
        }),
      `uploading ${target.path} to ${target.url}`,
      s3,
      options.signal,
    );
    options.created.push(target);
    progress.update(target.size);
    await attempt(
      () => verifyObject(client, s3.bucket, target, options.signal),
      `checking ${target.url} after its upload`,
      s3,
      options.signal,
    );
    progress.finish(`sha256 ${target.sha256.slice(0, 12)} checked by HEAD`);
  } finally {
    progress.close();
  }
}

/** Best effort: objects this run wrote, so that a failed publish leaves the bucket as it was. */
async function removeObjects(
  client: S3Client,
  bucket: string,
  objects: readonly Target[],
  log: (line: string) => void,
  warn: (line: string) => void,
): Promise<void> {
  for (const object of objects) {
    try {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: object.key }), {
        abortSignal: AbortSignal.timeout(30_000),
      });
      log(`removed ${object.url} (uploaded by this run)`);
    } catch (error) {
      warn(
        `could not remove ${object.url} (uploaded by this run, not in the catalogue): ${scrubSecrets((error as Error).message)}`,
      );
    }
  }
}

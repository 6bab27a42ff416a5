// The one commit point of a publish (issue 18): adding the version to the catalogue. Before it,
// the run's objects sit under a revision no other run uses (layout.ts) and are invisible; after
// it, the version is published. Two publishers of one version must not both win, and a loser
// must know whether its objects can ever have been listed (only then may it remove them).
//
// On a store that honours conditional writes (AWS S3 since 2024): read the catalogue, PUT it
// back with If-Match on the ETag read (If-None-Match: * when there was none); a 412 means
// someone wrote in between, so read again and decide again. Every catalogue is then built on the
// one before it: a loser's entry was never in any, and it removes its objects.
//
// On a store that ignores the conditions (s3rver 3.7.1, older MinIO and Ceph RGW) or rejects
// them (501), writes are last-writer-wins, so commit is write, wait, read back:
//   - write only from a catalogue read less than STALE_MS ago (else read again);
//   - then wait SETTLE_MS and read it back: any publisher that read before our write and will
//     overwrite it has done so by then, provided its write takes under SETTLE_MS − STALE_MS;
//   - our revision still listed: we won; the version gone (a stale write of another version
//     dropped it): write again; another revision listed: we lost.
// A loser here cannot be sure its entry was never read by someone else and written back
// (with our revision) by a stale write: it keeps its objects, and `k8s-ha images gc` removes
// them once no catalogue names them. Either way objects are never overwritten nor removed while
// listed, so a listed version always points at the bytes its publisher uploaded and checked.
import { DeleteObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { ExternalError } from "../errors.js";
import {
  findVersion,
  readCatalogue,
  serializeCatalogue,
  withVersion,
  type Catalogue,
  type CatalogueVersion,
} from "./catalogue.js";
import { isNotImplemented, isPreconditionFailure } from "./errors.js";
import { catalogueKey, probeKey, s3Url, type Bucket } from "./layout.js";

const ATTEMPTS = 5;
/** Without conditions: a catalogue read longer ago than this is read again before writing. */
export const STALE_MS = 500;
/** Without conditions: the wait between our write and the read-back that settles the race. */
export const SETTLE_MS = 2000;

export type Commit =
  | { won: true; catalogue: Catalogue }
  /** `certain`: our entry was never in any catalogue, so our objects may go. */
  | { won: false; holder: CatalogueVersion; certain: boolean };

export interface CommitOptions {
  client: S3Client;
  s3: Bucket;
  name: string;
  entry: CatalogueVersion;
  /** The revision --force replaces (what was listed when the run began); undefined: none. */
  replacing: string | undefined;
  /** Whether the store honours If-Match / If-None-Match (probeConditionalWrites). */
  conditional: boolean;
  warn: (text: string) => void;
  /** Tests shorten the waits. */
  sleep?: (ms: number) => Promise<void>;
}

export async function commitVersion(options: CommitOptions): Promise<Commit> {
  const { client, s3, name, entry } = options;
  const key = catalogueKey(s3, name);
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  let conditional = options.conditional;
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const readAt = Date.now();
    const { catalogue, etag } = await readCatalogue(client, s3, name);
    const listed = findVersion(catalogue, entry.version);
    // ours already: a PUT that reached the store although its answer did not reach us
    if (listed?.revision === entry.revision) return { won: true, catalogue };
    if (listed && listed.revision !== options.replacing) return { won: false, holder: listed, certain: conditional };
    if (!conditional && Date.now() - readAt > STALE_MS) continue;
    const next = withVersion(catalogue, entry);
    try {
      await client.send(
        new PutObjectCommand({
          Bucket: s3.bucket,
          Key: key,
          Body: serializeCatalogue(next),
          ContentType: "application/json",
          // caches and proxies between teams and the store must not serve an old catalogue
          CacheControl: "no-cache",
          ...(!conditional ? {} : etag ? { IfMatch: etag } : { IfNoneMatch: "*" }),
        }),
      );
    } catch (error) {
      if (conditional && isNotImplemented(error)) {
        options.warn(
          `the store rejects conditional writes (501): ${s3Url(s3, key)} is written, then read back after ${SETTLE_MS / 1000} s`,
        );
        conditional = false;
        continue;
      }
      if (isPreconditionFailure(error)) continue; // someone else wrote it: read again, decide again
      throw error;
    }
    if (conditional) return { won: true, catalogue: next };
    await sleep(SETTLE_MS);
    const back = findVersion((await readCatalogue(client, s3, name)).catalogue, entry.version);
    if (back?.revision === entry.revision) return { won: true, catalogue: next };
    if (back) return { won: false, holder: back, certain: false };
    // a stale write of another version dropped ours: nobody holds it, write it again
  }
  throw new ExternalError(
    `${s3Url(s3, key)} kept changing while it was updated (${ATTEMPTS} attempts)`,
    "other publishers are writing this image's catalogue; run the command again",
  );
}

/**
 * Whether the store honours If-None-Match: * on PUT: a probe object (under a key of this run)
 * written twice; the second write must fail with 412. Ignored (s3rver) or rejected (501): false.
 */
export async function probeConditionalWrites(
  client: S3Client,
  s3: Bucket,
  name: string,
  revision: string,
  signal?: AbortSignal,
): Promise<boolean> {
  const Key = probeKey(s3, name, revision);
  const put = () =>
    client.send(
      new PutObjectCommand({ Bucket: s3.bucket, Key, Body: "k8s-ha conditional write probe\n", IfNoneMatch: "*" }),
      signal ? { abortSignal: signal } : {},
    );
  try {
    await put();
    await put();
    return false;
  } catch (error) {
    if (isPreconditionFailure(error)) return true;
    if (isNotImplemented(error)) return false;
    throw error;
  } finally {
    // a probe left behind is named by no catalogue: `images gc` removes it
    await client
      .send(new DeleteObjectCommand({ Bucket: s3.bucket, Key }), { abortSignal: AbortSignal.timeout(30_000) })
      .catch(() => {});
  }
}

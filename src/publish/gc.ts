// `k8s-ha images gc`: removes the objects under <prefix><name>/ that the catalogue does not name
// — a race loser's upload on a store without conditional writes, the files --force replaced, a
// probe or a publish killed before its clean-up (issue 18). Only objects older than --min-age
// go: a publish under way has uploaded objects it has not listed yet. The catalogue is read again
// just before the removals, and anything it names by then stays.
import { DeleteObjectCommand, ListObjectsCommand, type S3Client } from "@aws-sdk/client-s3";
import { catalogueKey, imagePrefix, s3Url, type Bucket } from "./layout.js";
import { listedKeys, readCatalogue } from "./catalogue.js";

export interface GcOptions {
  client: S3Client;
  s3: Bucket;
  name: string;
  /** Objects younger than this many seconds stay. */
  minAgeSeconds: number;
  /** List what would go, remove nothing. */
  dryRun: boolean;
  log: (line: string) => void;
  now?: () => number;
}

export interface GcResult {
  /** The URLs removed (or, with dryRun, that would be). */
  removed: string[];
  /** Unlisted objects kept because they are younger than minAgeSeconds. */
  young: string[];
  bytes: number;
}

export async function collectGarbage(options: GcOptions): Promise<GcResult> {
  const { client, s3, name } = options;
  const now = options.now?.() ?? Date.now();
  const index = catalogueKey(s3, name);
  const orphans = (keys: Set<string>, objects: Listed[]) => objects.filter((o) => o.key !== index && !keys.has(o.key));
  const first = listedKeys(s3, (await readCatalogue(client, s3, name)).catalogue);
  const unlisted = orphans(first, await listAll(client, s3.bucket, imagePrefix(s3, name)));
  const old = unlisted.filter((o) => now - o.modified >= options.minAgeSeconds * 1000);
  const young = unlisted.filter((o) => !old.includes(o)).map((o) => s3Url(s3, o.key));
  if (options.dryRun)
    return { removed: old.map((o) => s3Url(s3, o.key)), young, bytes: old.reduce((n, o) => n + o.size, 0) };
  const again = listedKeys(s3, (await readCatalogue(client, s3, name)).catalogue);
  const removed: string[] = [];
  let bytes = 0;
  for (const object of orphans(again, old)) {
    await client.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: object.key }));
    removed.push(s3Url(s3, object.key));
    bytes += object.size;
    options.log(`removed ${s3Url(s3, object.key)}`);
  }
  return { removed, young, bytes };
}

interface Listed {
  key: string;
  size: number;
  modified: number;
}

/** ListObjects (v1, with markers): s3rver 3.7.1 fails continuation tokens of ListObjectsV2 on Node 20. */
async function listAll(client: S3Client, bucket: string, prefix: string): Promise<Listed[]> {
  const found: Listed[] = [];
  let marker: string | undefined;
  for (;;) {
    const page = await client.send(
      new ListObjectsCommand({ Bucket: bucket, Prefix: prefix, ...(marker ? { Marker: marker } : {}) }),
    );
    for (const o of page.Contents ?? []) {
      if (o.Key) found.push({ key: o.Key, size: o.Size ?? 0, modified: o.LastModified?.getTime() ?? 0 });
    }
    if (!page.IsTruncated || !page.Contents?.length) return found;
    marker = page.NextMarker ?? page.Contents.at(-1)!.Key;
  }
}

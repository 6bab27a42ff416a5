// A real S3 protocol server for the publish tests: s3rver in this process, on 127.0.0.1 with an
// ephemeral port and a temp directory; plus stand-in images (random bytes and an image record),
// specs pointing at the server, and the environment the CLI gets its credentials from.
//
// s3rver 3.7.1 gaps the tests live with (the code is written for real S3 anyway):
//   - If-None-Match / If-Match on PUT are ignored (no conditional writes)
//   - AbortMultipartUpload answers 405 MethodNotAllowed (parts stay in ._S3rver_uploads)
//   - SigV4 signatures are not verified: a wrong secret passes, only a wrong access key fails
//   - paginated lists fail on Node 20 without --openssl-legacy-provider (we never list)
//   - DeleteObject removes folders left empty, racing a PUT under the same prefix that has just
//     made its folder: the PUT's file stream fails to open, an uncaught ENOENT in this process.
//     startStore leaves the folders (keepFoldersOnDelete); listings look at files only.
import { CreateBucketCommand, GetObjectCommand, ListObjectsCommand, S3Client } from "@aws-sdk/client-s3";
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, readFile, unlink, writeFile } from "node:fs/promises";
import type { Server, IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import { join } from "node:path";
import S3rver from "s3rver"; // no types: tests are not type-checked by tsc
import { stringify } from "yaml";
import { writeImageRecord } from "../../src/packer/build-image.js";
import { imageRecordPath, type ImageRecord } from "../../src/packer/record.js";
import { afterAll, afterEach, beforeAll, beforeEach } from "vitest";
import { BIN, ROOT, tempDir } from "../helpers/cli.js";
import { baseSpec } from "../helpers/specs.js";

// the SDK's notice that its 2027 releases need Node 22 (src/publish/client.ts silences it too)
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

export const IMAGE_NAME = "k8s-ha-ubuntu-20.04";
export const PREFIX = "k8s-ha/";

export interface TestStore {
  endpoint: string;
  dir: string;
  /** Every request the server received: method, URL and the payload hash header. */
  requests: { method: string; url: string; payloadHash?: string }[];
  /** Called for every request before s3rver handles it. */
  onRequest(listener: (request: IncomingMessage) => void): void;
  createBucket(name: string): Promise<void>;
  /** The server dies: it stops listening and every open connection is cut. */
  kill(): void;
  stop(): Promise<void>;
  client(): S3Client;
  /** The object's bytes, or undefined when there is none. */
  get(bucket: string, key: string): Promise<Buffer | undefined>;
}

export async function startStore(dir: string, buckets: string[] = ["golden"]): Promise<TestStore> {
  const server = new S3rver({
    address: "127.0.0.1",
    port: 0,
    silent: true,
    directory: dir,
    configureBuckets: buckets.map((name) => ({ name })),
  });
  keepFoldersOnDelete(server.store);
  const address = (await server.run()) as { port: number };
  const http = server.httpServer as Server;
  const sockets = new Set<Socket>();
  http.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  const requests: { method: string; url: string; payloadHash?: string }[] = [];
  const listeners: ((request: IncomingMessage) => void)[] = [];
  http.prependListener("request", (request: IncomingMessage) => {
    const payloadHash = request.headers["x-amz-content-sha256"];
    requests.push({
      method: request.method ?? "",
      url: request.url ?? "",
      ...(typeof payloadHash === "string" ? { payloadHash } : {}),
    });
    for (const listener of listeners) listener(request);
  });
  const endpoint = `http://127.0.0.1:${address.port}`;
  let client: S3Client | undefined;
  let closed = false;
  const makeClient = () =>
    (client ??= new S3Client({
      region: "us-east-1",
      endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
    }));
  const kill = () => {
    if (closed) return;
    closed = true;
    http.close();
    for (const socket of sockets) socket.destroy();
  };
  return {
    endpoint,
    dir,
    requests,
    onRequest: (listener) => listeners.push(listener),
    createBucket: async (name) => {
      await makeClient().send(new CreateBucketCommand({ Bucket: name }));
    },
    kill,
    stop: async () => {
      client?.destroy();
      if (closed) return;
      const done = new Promise<void>((resolve) => http.close(() => resolve()));
      closed = true;
      for (const socket of sockets) socket.destroy();
      await done;
    },
    client: makeClient,
    get: async (bucket, key) => {
      try {
        const response = await makeClient().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return Buffer.from(await response.Body!.transformToByteArray());
      } catch (error) {
        if ((error as Error).name === "NoSuchKey") return undefined;
        throw error;
      }
    },
  };
}

/**
 * s3rver's DeleteObject without its clean-up of empty folders (see the top of this file): the
 * object's three files go, the folders stay. Concurrent publishers each delete a probe object
 * under the image's prefix while others write theirs (test/publish/store.test.ts).
 */
function keepFoldersOnDelete(store: {
  getResourcePath(bucket: string, key: string, resource: string): string;
  deleteObject(bucket: string, key: string): Promise<void>;
}): void {
  store.deleteObject = async (bucket, key) => {
    await Promise.all(
      ["object", "object.md5", "metadata.json"].map((resource) =>
        unlink(store.getResourcePath(bucket, key, resource)).catch((error: NodeJS.ErrnoException) => {
          if (error.code !== "ENOENT") throw error;
        }),
      ),
    );
  };
}

import { sha256 } from "../../src/write/hash.js";
export { sha256 };

/** A spec whose publish.s3 points at the test server. */
export async function writeSpec(
  path: string,
  options: { endpoint: string; bucket?: string; version?: string; publish?: boolean; cluster?: string },
): Promise<string> {
  const spec = baseSpec();
  if (options.cluster) spec.metadata.name = options.cluster;
  spec.spec.image = { name: IMAGE_NAME, version: options.version ?? "0.1.0" };
  if (options.publish !== false) {
    spec.spec.publish = {
      s3: {
        bucket: options.bucket ?? "golden",
        prefix: PREFIX,
        region: "us-east-1",
        endpoint: options.endpoint,
        forcePathStyle: true,
      },
    };
  }
  await writeFile(path, stringify(spec));
  return path;
}

/** A stand-in for what build-image leaves: DIR/images/<name>-<version>.ova (random) and .json. */
export async function writeImage(
  outDir: string,
  version: string,
  sizeBytes: number,
  templateFingerprint = "1".repeat(64),
): Promise<ImageRecord> {
  const image = { name: IMAGE_NAME, version };
  const recordPath = imageRecordPath(outDir, image);
  await mkdir(join(outDir, "images"), { recursive: true });
  const bytes = randomBytes(sizeBytes);
  const file = `${IMAGE_NAME}-${version}.ova`;
  await writeFile(join(outDir, "images", file), bytes);
  const record: ImageRecord = {
    name: IMAGE_NAME,
    version,
    file,
    size: sizeBytes,
    sha256: sha256(bytes),
    specSha256: "0".repeat(64),
    templateFingerprint,
    packerVersion: "1.6.6",
    builtAt: "2026-01-02T03:04:05Z",
    buildSeconds: 1234,
  };
  await writeImageRecord(recordPath, record);
  return record;
}

export function catalogueKeyOf(name = IMAGE_NAME): string {
  return `${PREFIX}${name}/index.json`;
}

/** The key of `file` of `version` as the bucket's catalogue lists it (under its revision). */
export async function listedKeyOf(store: TestStore, bucket: string, version: string, file: string): Promise<string> {
  const catalogue = JSON.parse((await store.get(bucket, catalogueKeyOf()))!.toString("utf8"));
  const entry = catalogue.versions.find((v: { version: string }) => v.version === version);
  if (!entry) throw new Error(`${version} is not listed in ${bucket}`);
  return `${PREFIX}${IMAGE_NAME}/${version}/${entry.revision}/${file}`;
}

/** Every key under the image's prefix (ListObjects v1: s3rver's v2 pagination fails on Node 20). */
export async function keysOf(store: TestStore, bucket: string): Promise<string[]> {
  const page = await store.client().send(new ListObjectsCommand({ Bucket: bucket, Prefix: `${PREFIX}${IMAGE_NAME}/` }));
  if (page.IsTruncated) throw new Error("more than one page of keys");
  return (page.Contents ?? []).map((o) => o.Key!).sort();
}

/** Where s3rver keeps an object's bytes on disk (to corrupt it behind the server's back). */
export function storedObjectPath(store: TestStore, bucket: string, key: string): string {
  return join(store.dir, bucket, `${key}._S3rver_object`);
}

/** The environment of a CLI run: credentials for s3rver, nothing read from the user's ~/.aws. */
export function s3Env(dir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    AWS_ACCESS_KEY_ID: "S3RVER",
    AWS_SECRET_ACCESS_KEY: "S3RVER",
    AWS_REGION: "us-east-1",
    AWS_PROFILE: undefined,
    AWS_SESSION_TOKEN: undefined,
    AWS_CONFIG_FILE: join(dir, "no-aws-config"),
    AWS_SHARED_CREDENTIALS_FILE: join(dir, "no-aws-credentials"),
    AWS_EC2_METADATA_DISABLED: "true",
    K8S_HA_S3_PART_SIZE_MIB: undefined,
    K8S_HA_S3_CONCURRENCY: undefined,
    ...extra,
  };
}

/** The built CLI as a child we can signal (runCli waits for the end). */
export function spawnCli(
  args: string[],
  env: NodeJS.ProcessEnv,
): { child: ChildProcess; done: Promise<{ code: number | null; stdout: string; stderr: string }> } {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.setEncoding("utf8").on("data", (c: string) => (stdout += c));
  child.stderr!.setEncoding("utf8").on("data", (c: string) => (stderr += c));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
  return { child, done };
}

export async function readJson(path: string): Promise<unknown> {
  return JSON.parse(await readFile(path, "utf8"));
}

/**
 * The hooks of a publish test file: one server for the whole file (the tests share it, never their
 * buckets), and a fresh temp folder per test. Read the fields inside tests: they are set by hooks.
 */
export function useStoreAndTempDir(prefix: string): { store: TestStore; dir: string } {
  const context = {} as { store: TestStore; dir: string };
  let storeCleanup: (() => void) | undefined;
  let dirCleanup: (() => void) | undefined;
  beforeAll(async () => {
    const storeDir = tempDir("k8s-ha-s3rver-");
    storeCleanup = storeDir.cleanup;
    context.store = await startStore(storeDir.dir);
  });
  afterAll(async () => {
    await context.store?.stop();
    storeCleanup?.();
  });
  beforeEach(async () => {
    const temp = tempDir(prefix);
    context.dir = temp.dir;
    dirCleanup = temp.cleanup;
  });
  afterEach(async () => dirCleanup?.());
  return context;
}

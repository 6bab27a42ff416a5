// uploadFile (our multipart loop) against s3rver in this process: parts, metadata, progress
// within parts, bounded concurrency; a file that is not what its sha256 or size says never
// becomes an object; the signal stops parts in flight and aborts the
// multipart upload (s3rver answers 405 to the abort: we warn with the command for real S3).
import { HeadObjectCommand } from "@aws-sdk/client-s3";
import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { InterruptedError, UsageError } from "../../src/errors.js";
import { createS3Client } from "../../src/publish/client.js";
import { IntegrityError } from "../../src/publish/errors.js";
import {
  MIB,
  transferOverrides,
  transferSettings,
  uploadFile,
  type UploadFileOptions,
} from "../../src/publish/upload.js";
import { tempDir } from "../helpers/cli.js";
import { sha256, startStore, type TestStore } from "./helpers.js";

let store: TestStore;
let storeDir: ReturnType<typeof tempDir>;
let dir: string;
let cleanup: () => void;

const savedEnv = { ...process.env };
beforeAll(async () => {
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: "S3RVER", AWS_SECRET_ACCESS_KEY: "S3RVER" });
  delete process.env.AWS_PROFILE;
  storeDir = tempDir("k8s-ha-s3rver-");
  store = await startStore(storeDir.dir);
});
afterAll(async () => {
  await store?.stop();
  storeDir?.cleanup();
  for (const name of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"]) {
    if (savedEnv[name] === undefined) delete process.env[name];
    else process.env[name] = savedEnv[name];
  }
});
beforeEach(async () => ({ dir, cleanup } = tempDir("k8s-ha-upload-")));
afterEach(async () => cleanup());

async function file(size: number): Promise<{ path: string; bytes: Buffer }> {
  const bytes = randomBytes(size);
  const path = join(dir, "image.ova");
  await writeFile(path, bytes);
  return { path, bytes };
}

/** The client publish makes from spec.publish.s3 (credentials from the environment). */
const client = () =>
  createS3Client({ bucket: "golden", prefix: "", region: "us-east-1", endpoint: store.endpoint, forcePathStyle: true });

function options(path: string, bytes: Buffer, key: string, extra: Partial<UploadFileOptions> = {}): UploadFileOptions {
  return {
    client: client(),
    bucket: "golden",
    key,
    path,
    size: bytes.length,
    sha256: sha256(bytes),
    contentType: "application/octet-stream",
    ifNoneMatch: true,
    settings: { partSize: 5 * MIB, queueSize: 2 },
    warn: () => {},
    ...extra,
  };
}

describe("uploadFile", () => {
  it("uploads in parts, stores the sha256 as metadata, reports progress up to the size", async () => {
    const { path, bytes } = await file(11 * MIB + 7);
    const seen: number[] = [];
    const before = store.requests.length;
    const result = await uploadFile(options(path, bytes, "u/parts.ova", { onProgress: (b) => seen.push(b) }));
    expect(result.uploadId).toBeDefined();
    const parts = store.requests.slice(before).filter((r) => r.method === "PUT" && r.url.includes("partNumber="));
    expect(parts).toHaveLength(3);
    expect(parts.every((r) => r.payloadHash === "UNSIGNED-PAYLOAD")).toBe(true);
    const head = await store.client().send(new HeadObjectCommand({ Bucket: "golden", Key: "u/parts.ova" }));
    expect(head.ContentLength).toBe(bytes.length);
    expect(head.Metadata).toEqual({ sha256: sha256(bytes) });
    expect(sha256((await store.get("golden", "u/parts.ova"))!)).toBe(sha256(bytes));
    expect(seen.at(-1)).toBe(bytes.length);
    expect([...seen].sort((a, b) => a - b)).toEqual(seen);
  });

  it("progress moves within a part, and no more parts are in flight than the concurrency", async () => {
    const { path, bytes } = await file(21 * MIB + 3);
    const seen: number[] = [];
    let inFlight = 0;
    let most = 0;
    store.onRequest((request) => {
      if (!request.url?.includes("/u/bounded.ova?") || !/partNumber=/.test(request.url)) return;
      most = Math.max(most, ++inFlight);
      request.on("end", () => inFlight--);
    });
    await uploadFile(
      options(path, bytes, "u/bounded.ova", {
        settings: { partSize: 5 * MIB, queueSize: 2 },
        onProgress: (b) => seen.push(b),
      }),
    );
    expect(most).toBeGreaterThan(0);
    expect(most).toBeLessThanOrEqual(2);
    // slices of 256 KiB, not whole parts: values between part boundaries
    expect(seen.filter((b) => b % (5 * MIB) !== 0 && b !== bytes.length).length).toBeGreaterThan(10);
    expect(seen.at(-1)).toBe(bytes.length);
    expect(sha256((await store.get("golden", "u/bounded.ova"))!)).toBe(sha256(bytes));
  });

  it("a file longer than its record fails before the upload is completed", async () => {
    const { path, bytes } = await file(11 * MIB);
    const upload = uploadFile(
      options(path, bytes, "u/long.ova", { size: 10 * MIB, sha256: sha256(bytes.subarray(0, 10 * MIB)) }),
    );
    await expect(upload).rejects.toThrow(/more than the 10485760 bytes expected/);
    expect(await store.get("golden", "u/long.ova")).toBeUndefined();
  });

  it("a small file goes up in one PUT", async () => {
    const { path, bytes } = await file(1000);
    const result = await uploadFile(options(path, bytes, "u/small.json"));
    expect(result.uploadId).toBeUndefined();
    expect(sha256((await store.get("golden", "u/small.json"))!)).toBe(sha256(bytes));
  });

  it("bytes that do not match the sha256 fail before the upload is completed", async () => {
    const { path, bytes } = await file(11 * MIB);
    const warnings: string[] = [];
    const before = store.requests.length;
    const upload = uploadFile(
      options(path, bytes, "u/bad.ova", { sha256: "0".repeat(64), warn: (w) => warnings.push(w) }),
    );
    await expect(upload).rejects.toThrow(IntegrityError);
    await expect(upload).rejects.toThrow(/sha256 mismatch: expected 0{64}, got [0-9a-f]{64}/);
    const requests = store.requests.slice(before);
    expect(requests.some((r) => r.method === "POST" && r.url.includes("uploadId="))).toBe(false); // never completed
    expect(requests.some((r) => r.method === "DELETE" && r.url.includes("uploadId="))).toBe(true); // abort tried
    expect(warnings).toEqual([
      expect.stringMatching(
        /does not support aborting multipart uploads \(MethodNotAllowed\).*aws s3api abort-multipart-upload --bucket golden --key u\/bad\.ova --upload-id \S+/,
      ),
    ]);
    expect(await store.get("golden", "u/bad.ova")).toBeUndefined();
  });

  it("a file shorter than its record fails too", async () => {
    const { path, bytes } = await file(1000);
    await expect(uploadFile(options(path, bytes, "u/short.json", { size: 2000 }))).rejects.toThrow(
      /1000 bytes, expected 2000/,
    );
    expect(await store.get("golden", "u/short.json")).toBeUndefined();
  });

  it("the signal stops the parts in flight and aborts the upload", async () => {
    const { path, bytes } = await file(30 * MIB);
    const controller = new AbortController();
    const interrupted = new InterruptedError("interrupted (test)");
    let parts = 0;
    store.onRequest((request) => {
      if (request.url?.includes("/u/stopped.ova?") && /partNumber=/.test(request.url) && ++parts === 2)
        controller.abort(interrupted);
    });
    const started = Date.now();
    const upload = uploadFile(
      options(path, bytes, "u/stopped.ova", {
        signal: controller.signal,
        settings: { partSize: 5 * MIB, queueSize: 1 },
      }),
    );
    await expect(upload).rejects.toBe(interrupted);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(parts).toBeLessThan(6);
    expect(await store.get("golden", "u/stopped.ova")).toBeUndefined();
  });

  it("Ctrl-C while the store completes the object: the object exists, and uploadFile says so", async () => {
    const { path, bytes } = await file(11 * MIB);
    const controller = new AbortController();
    store.onRequest((request) => {
      if (request.method === "POST" && request.url?.includes("/u/late.ova?uploadId="))
        controller.abort(new InterruptedError());
    });
    const result = await uploadFile(options(path, bytes, "u/late.ova", { signal: controller.signal }));
    expect(controller.signal.aborted).toBe(true);
    expect(result.uploadId).toBeDefined();
    expect(sha256((await store.get("golden", "u/late.ova"))!)).toBe(sha256(bytes));
  });
});

describe("transfer settings", () => {
  it.each([
    [10 * MIB, {}, { partSize: 8 * MIB, queueSize: 4 }],
    [4 * 1024 * MIB, {}, { partSize: 8 * MIB, queueSize: 4 }],
    [78 * 1024 * MIB, {}, { partSize: 8 * MIB, queueSize: 4 }],
    // over 78 GiB the parts must grow (at most 10,000), and fewer go at once
    [100 * 1024 * MIB, {}, { partSize: 11 * MIB, queueSize: 2 }],
    [1024 * 1024 * MIB, {}, { partSize: 105 * MIB, queueSize: 1 }],
    [10 * MIB, { partSize: 16 * MIB, queueSize: 2 }, { partSize: 16 * MIB, queueSize: 2 }],
    [100 * 1024 * MIB, { partSize: 5 * MIB }, { partSize: 11 * MIB, queueSize: 2 }],
  ])("%d bytes with %o → %o", (size, wanted, expected) => {
    expect(transferSettings(size, wanted)).toEqual(expected);
  });

  it("reads K8S_HA_S3_PART_SIZE_MIB and K8S_HA_S3_CONCURRENCY, refusing nonsense", () => {
    expect(transferOverrides({})).toEqual({});
    expect(transferOverrides({ K8S_HA_S3_PART_SIZE_MIB: "16", K8S_HA_S3_CONCURRENCY: "2" })).toEqual({
      partSize: 16 * MIB,
      queueSize: 2,
    });
    expect(() => transferOverrides({ K8S_HA_S3_PART_SIZE_MIB: "4" })).toThrow(UsageError);
    expect(() => transferOverrides({ K8S_HA_S3_CONCURRENCY: "two" })).toThrow(
      /K8S_HA_S3_CONCURRENCY=two is not a whole number from 1 to 64/,
    );
  });
});

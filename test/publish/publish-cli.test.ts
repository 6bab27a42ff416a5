// `k8s-ha publish`, `images list` and `images pull` as users run them (the built CLI), against a
// real S3 protocol server (s3rver, in this process, 127.0.0.1, ephemeral port). A stand-in OVA
// of random bytes and its image record take the place of a Packer build.
import { DeleteObjectCommand, HeadObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { BIN, parseFindings, ROOT, runCli, tempDir } from "../helpers/cli.js";
import {
  catalogueKeyOf,
  IMAGE_NAME,
  PREFIX,
  keysOf,
  listedKeyOf,
  s3Env,
  sha256,
  spawnCli,
  startStore,
  storedObjectPath,
  writeImage,
  writeSpec,
  type TestStore,
  useStoreAndTempDir,
} from "./helpers.js";

const MiB = 1024 * 1024;
const OVA = (version: string) => `${IMAGE_NAME}-${version}.ova`;
const RECORD = (version: string) => `${IMAGE_NAME}-${version}.json`;

const lab = useStoreAndTempDir("k8s-ha-publish-");
let bucketCount = 0;

/** A fresh bucket per test: the tests share the server, never their state. */
async function freshBucket(target = lab.store): Promise<string> {
  const bucket = `golden-${++bucketCount}`;
  await target.createBucket(bucket);
  return bucket;
}

async function setup(options: { version?: string; size?: number; bucket?: string; target?: TestStore } = {}) {
  const target = options.target ?? lab.store;
  const bucket = options.bucket ?? (await freshBucket(target));
  const version = options.version ?? "0.1.0";
  const out = join(lab.dir, "out");
  const record = await writeImage(out, version, options.size ?? 3 * MiB);
  const spec = await writeSpec(join(lab.dir, `spec-${version}.yaml`), { endpoint: target.endpoint, bucket, version });
  return { bucket, version, out, record, spec };
}

const cli = (args: string[], extra: Record<string, string> = {}) => runCli(args, { env: s3Env(lab.dir, extra) });
/** sha256 of a file or of bytes: comparing MiB-sized buffers with toEqual takes vitest seconds. */
const digest = async (what: string | Buffer | undefined) =>
  what === undefined ? undefined : sha256(typeof what === "string" ? await readFile(what) : what);

async function catalogue(bucket: string, target = lab.store): Promise<any> {
  const bytes = await target.get(bucket, catalogueKeyOf());
  return bytes ? JSON.parse(bytes.toString("utf8")) : undefined;
}

describe("publish, list, pull", () => {
  it("publishes a stand-in image with its record and seeds bundle, lists it, pulls it back verified", async () => {
    const { bucket, out, record, spec } = await setup();
    const seeds = Buffer.from("stand-in seeds bundle\n".repeat(1000));
    await writeFile(join(out, "lab-seeds.tar.gz"), seeds);

    const published = await cli(["publish", spec, "-o", out, "--json"]);
    expect(published.stderr).not.toMatch(/internal error|NodeVersionSupportWarning/);
    expect(published.code).toBe(0);
    const result = JSON.parse(published.stdout);
    expect(result).toMatchObject({ name: IMAGE_NAME, version: "0.1.0", bucket, replaced: false, versions: ["0.1.0"] });
    expect(result.files.map((f: { role: string }) => f.role)).toEqual(["image", "seeds", "record"]);
    expect(published.stderr).toMatch(/uploaded k8s-ha-ubuntu-20\.04-0\.1\.0\.ova: 3\.0 MiB in .* checked by HEAD/);

    // the layout of issue 5, and the sha256 as object metadata
    const head = await lab.store
      .client()
      .send(
        new HeadObjectCommand({ Bucket: bucket, Key: await listedKeyOf(lab.store, bucket, "0.1.0", OVA("0.1.0")) }),
      );
    expect(head.ContentLength).toBe(record.size);
    expect(head.Metadata?.sha256).toBe(record.sha256);
    expect(
      await digest(await lab.store.get(bucket, await listedKeyOf(lab.store, bucket, "0.1.0", "lab-seeds.tar.gz"))),
    ).toBe(sha256(seeds));
    const index = await catalogue(bucket);
    expect(index).toMatchObject({ apiVersion: "k8s-ha/v1alpha1", kind: "ImageCatalogue", name: IMAGE_NAME });
    expect(index.versions).toHaveLength(1);
    expect(index.versions[0]).toMatchObject({
      version: "0.1.0",
      builtAt: record.builtAt,
      specSha256: record.specSha256,
    });
    expect(index.versions[0].files).toContainEqual({
      file: OVA("0.1.0"),
      role: "image",
      size: record.size,
      sha256: record.sha256,
    });
    expect(index.versions[0].files).toContainEqual({
      file: "lab-seeds.tar.gz",
      role: "seeds",
      size: seeds.length,
      sha256: sha256(seeds),
    });

    const table = await cli(["images", "list", spec]);
    expect(table.code).toBe(0);
    expect(table.stdout.split("\n")[0]).toMatch(/^VERSION\s+BUILT\s+PUBLISHED\s+SIZE\s+SHA256\s+FILES$/);
    expect(table.stdout).toMatch(
      new RegExp(
        `0\\.1\\.0 \\(latest\\)\\s+2026-01-02T03:04:05Z\\s+\\S+\\s+3\\.0 MiB\\s+${record.sha256.slice(0, 12)}\\s+image,seeds,record`,
      ),
    );
    const listed = await cli(["images", "list", spec, "--json"]);
    expect(JSON.parse(listed.stdout)).toMatchObject({
      name: IMAGE_NAME,
      latest: "0.1.0",
      versions: [{ version: "0.1.0" }],
    });
    // one GET of the catalogue, no bucket listing
    expect(lab.store.requests.filter((r) => r.method === "GET" && r.url.startsWith(`/${bucket}?`))).toEqual([]);

    const pulled = join(lab.dir, "pulled");
    const pull = await cli(["images", "pull", spec, `${IMAGE_NAME}@latest`, "-o", pulled]);
    expect(pull.code).toBe(0);
    expect(pull.stderr).toMatch(/sha256 verified/);
    expect(await digest(join(pulled, "images", OVA("0.1.0")))).toBe(record.sha256);
    expect(await digest(join(pulled, "images", RECORD("0.1.0")))).toBe(
      await digest(join(out, "images", RECORD("0.1.0"))),
    );
    expect(await digest(join(pulled, "lab-seeds.tar.gz"))).toBe(sha256(seeds));

    // a second pull finds the files in place and downloads nothing
    const again = await cli(["images", "pull", spec, `${IMAGE_NAME}@0.1.0`, "-o", pulled]);
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/already there/);
  });

  it("uploads in parts (5 MiB) and keeps versions in order, latest first", async () => {
    const first = await setup({ version: "0.1.0", size: 12 * MiB + 123 });
    const before = lab.store.requests.length;
    const parts = await cli(["publish", first.spec, "-o", first.out], {
      K8S_HA_S3_PART_SIZE_MIB: "5",
      K8S_HA_S3_CONCURRENCY: "2",
    });
    expect(parts.code).toBe(0);
    const uploads = lab.store.requests
      .slice(before)
      .filter((r) => r.method === "PUT" && /[?&]partNumber=\d+/.test(r.url));
    expect(uploads.map((r) => Number(/partNumber=(\d+)/.exec(r.url)![1])).sort()).toEqual([1, 2, 3]);
    // parts are not hashed a second time for SigV4 (the file's own sha256 covers them); small
    // objects, the catalogue among them, keep a signed payload
    expect(uploads.every((r) => r.payloadHash === "UNSIGNED-PAYLOAD")).toBe(true);
    const catalogueWrites = lab.store.requests
      .slice(before)
      .filter((r) => r.method === "PUT" && r.url.includes("index.json"));
    expect(catalogueWrites.length).toBeGreaterThan(0);
    expect(catalogueWrites.every((r) => /^[0-9a-f]{64}$/.test(r.payloadHash ?? ""))).toBe(true);
    expect(
      sha256((await lab.store.get(first.bucket, await listedKeyOf(lab.store, first.bucket, "0.1.0", OVA("0.1.0"))))!),
    ).toBe(first.record.sha256);

    for (const version of ["0.10.0", "0.2.0", "0.3.0-rc.1"]) {
      const next = await setup({ version, bucket: first.bucket, size: 1024 });
      expect((await cli(["publish", next.spec, "-o", next.out])).code).toBe(0);
    }
    const listed = JSON.parse((await cli(["images", "list", first.spec, "--json"])).stdout);
    expect(listed.versions.map((v: { version: string }) => v.version)).toEqual([
      "0.10.0",
      "0.3.0-rc.1",
      "0.2.0",
      "0.1.0",
    ]);
    expect(listed.latest).toBe("0.10.0");
  });
});

describe("refusals", () => {
  it("refuses a version already published with other files before any byte is sent; --force replaces it", async () => {
    const { bucket, out, spec } = await setup();
    expect((await cli(["publish", spec, "-o", out])).code).toBe(0);
    const index = await digest(await lab.store.get(bucket, catalogueKeyOf()));
    const writes = (from: number) =>
      lab.store.requests.slice(from).filter((r) => r.method !== "GET" && r.method !== "HEAD");

    // the same files again (a CI retry): nothing to do, nothing sent, success
    let before = lab.store.requests.length;
    const same = await cli(["publish", spec, "-o", out, "--json"]);
    expect(same.code).toBe(0);
    expect(same.stderr).toMatch(/already published .* with the same files .*nothing was sent/);
    expect(JSON.parse(same.stdout)).toMatchObject({ unchanged: true, replaced: false });
    expect(writes(before)).toEqual([]);

    // a rebuilt image under the same version: refused
    const rebuilt = await writeImage(out, "0.1.0", 2 * MiB);
    before = lab.store.requests.length;
    const again = await cli(["publish", spec, "-o", out]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(
      /k8s-ha-ubuntu-20\.04 0\.1\.0 is already published .* with other files; nothing was sent/,
    );
    expect(again.stderr).toMatch(/hint: .*bump spec\.image\.version.*--force/);
    expect(writes(before)).toEqual([]);
    expect(await digest(await lab.store.get(bucket, catalogueKeyOf()))).toBe(index);

    // --force replaces the files and the catalogue entry
    const forced = await cli(["publish", spec, "-o", out, "--force", "--json"]);
    expect(forced.code).toBe(0);
    expect(JSON.parse(forced.stdout).replaced).toBe(true);
    const entry = (await catalogue(bucket)).versions[0];
    expect(entry.files).toContainEqual({
      file: OVA("0.1.0"),
      role: "image",
      size: rebuilt.size,
      sha256: rebuilt.sha256,
    });
    expect(sha256((await lab.store.get(bucket, await listedKeyOf(lab.store, bucket, "0.1.0", OVA("0.1.0"))))!)).toBe(
      rebuilt.sha256,
    );
  });

  it("objects left by a publish that did not finish block nothing and are never listed; images gc removes them", async () => {
    const { bucket, out, spec, record } = await setup();
    const leftovers = [
      `${PREFIX}${IMAGE_NAME}/0.1.0/${"a".repeat(12)}-${"b".repeat(16)}/${OVA("0.1.0")}`,
      `${PREFIX}${IMAGE_NAME}/0.1.0/${OVA("0.1.0")}`,
    ];
    for (const Key of leftovers)
      await lab.store.client().send(new PutObjectCommand({ Bucket: bucket, Key, Body: "half" }));
    expect((await cli(["publish", spec, "-o", out])).code).toBe(0);
    const listed = [
      await listedKeyOf(lab.store, bucket, "0.1.0", OVA("0.1.0")),
      await listedKeyOf(lab.store, bucket, "0.1.0", RECORD("0.1.0")),
    ];
    expect(listed.some((k) => leftovers.includes(k))).toBe(false);
    for (const key of leftovers) expect((await lab.store.get(bucket, key))?.toString()).toBe("half"); // untouched

    const dry = await cli(["images", "gc", spec, "--min-age", "0", "--dry-run"]);
    expect(dry.code).toBe(0);
    for (const key of leftovers) expect(dry.stderr).toContain(`would remove s3://${bucket}/${key}`);
    const young = await cli(["images", "gc", spec]); // default --min-age 24: a publish may be uploading them
    expect(young.code).toBe(0);
    expect(young.stderr).toMatch(/kept 2 unlisted object\(s\) younger than 24 h/);
    expect((await keysOf(lab.store, bucket)).sort()).toEqual([...leftovers, ...listed, catalogueKeyOf()].sort());

    const gc = await cli(["images", "gc", spec, "--min-age", "0", "--json"]);
    expect(gc.code).toBe(0);
    expect(JSON.parse(gc.stdout).removed.sort()).toEqual(leftovers.map((k) => `s3://${bucket}/${k}`).sort());
    expect(await keysOf(lab.store, bucket)).toEqual([...listed, catalogueKeyOf()].sort());
    const pulled = join(lab.dir, "pulled");
    expect((await cli(["images", "pull", spec, `${IMAGE_NAME}@0.1.0`, "-o", pulled])).code).toBe(0);
    expect(await digest(join(pulled, "images", OVA("0.1.0")))).toBe(record.sha256);

    const bad = await cli(["images", "gc", spec, "--min-age", "soon"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--min-age soon is not a number of hours/);
  });

  it("images list hides a listed version whose objects are gone, and says so", async () => {
    const { bucket, out, spec } = await setup();
    expect((await cli(["publish", spec, "-o", out])).code).toBe(0);
    const second = await setup({ version: "0.2.0", bucket, size: 1024 });
    expect((await cli(["publish", second.spec, "-o", second.out])).code).toBe(0);
    await lab.store
      .client()
      .send(
        new DeleteObjectCommand({ Bucket: bucket, Key: await listedKeyOf(lab.store, bucket, "0.2.0", OVA("0.2.0")) }),
      );
    const listed = await cli(["images", "list", spec, "--json"]);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toMatchObject({
      latest: "0.1.0",
      versions: [{ version: "0.1.0" }],
      damaged: ["0.2.0"],
    });
    expect(listed.stderr).toMatch(
      /warning: k8s-ha-ubuntu-20\.04 0\.2\.0 is listed in \S+ but not shown: \S+ is missing/,
    );
  });

  it("a spec without spec.publish.s3 is a finding (exit 1) for publish, list and pull", async () => {
    const out = join(lab.dir, "out");
    await writeImage(out, "0.1.0", 1024);
    const spec = await writeSpec(join(lab.dir, "k8s-ha.yaml"), { endpoint: lab.store.endpoint, publish: false });
    for (const args of [
      ["publish", spec, "-o", out],
      ["images", "list", spec],
      ["images", "pull", spec, `${IMAGE_NAME}@latest`, "-o", out],
    ]) {
      const result = await cli(args);
      expect(result.code).toBe(1);
      const finding = parseFindings(result.stderr).find((f) => f.path === "spec.publish.s3");
      expect(finding, result.stderr).toBeDefined();
      expect(finding!.line).toBeGreaterThan(0);
      expect(result.stderr).toMatch(/hint: add `publish: \{s3:/);
    }
  });

  it("no image built, or an OVA that is not the one recorded: exit 1 with a hint, nothing sent", async () => {
    const bucket = await freshBucket();
    const spec = await writeSpec(join(lab.dir, "k8s-ha.yaml"), { endpoint: lab.store.endpoint, bucket });
    const out = join(lab.dir, "out");
    const missing = await cli(["publish", spec, "-o", out]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no image record; nothing was published/);
    expect(missing.stderr).toMatch(/hint: run `k8s-ha build-image <spec> -o .*` first/);

    await writeImage(out, "0.1.0", 4096);
    await writeFile(join(out, "images", OVA("0.1.0")), Buffer.alloc(100));
    const changed = await cli(["publish", spec, "-o", out]);
    expect(changed.code).toBe(1);
    expect(changed.stderr).toMatch(/is 100 bytes, its record says 4096/);
    expect(await lab.store.get(bucket, catalogueKeyOf())).toBeUndefined();
  });

  it("an OVA whose bytes are not the recorded ones fails during the upload: nothing is stored", async () => {
    const { bucket, out, spec } = await setup({ size: 12 * MiB });
    const path = join(out, "images", OVA("0.1.0"));
    const bytes = await readFile(path);
    bytes[7 * MiB] ^= 0xff; // same size, other content: only the hash can tell
    await writeFile(path, bytes);
    const result = await cli(["publish", spec, "-o", out], { K8S_HA_S3_PART_SIZE_MIB: "5" });
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/sha256 mismatch/);
    expect(result.stderr).toMatch(/the catalogue .* is unchanged/);
    expect(await keysOf(lab.store, bucket)).toEqual([]);
    expect(await lab.store.get(bucket, catalogueKeyOf())).toBeUndefined();
  });

  it("--force that fails leaves the published version listed and intact: nothing is overwritten in place", async () => {
    const { bucket, out, spec, record } = await setup({ size: 6 * MiB });
    expect((await cli(["publish", spec, "-o", out])).code).toBe(0);
    const index = await digest(await lab.store.get(bucket, catalogueKeyOf()));
    const path = join(out, "images", OVA("0.1.0"));
    const bytes = await readFile(path);
    bytes[MiB] ^= 0xff; // not the recorded image any more
    await writeFile(path, bytes);
    const result = await cli(["publish", spec, "-o", out, "--force"], { K8S_HA_S3_PART_SIZE_MIB: "5" });
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/nothing was published: the catalogue s3:\/\/\S+ is unchanged/);
    expect(await digest(await lab.store.get(bucket, catalogueKeyOf()))).toBe(index);
    const pulled = join(lab.dir, "pulled");
    expect((await cli(["images", "pull", spec, `${IMAGE_NAME}@0.1.0`, "-o", pulled])).code).toBe(0);
    expect(await digest(join(pulled, "images", OVA("0.1.0")))).toBe(record.sha256);
  });

  it("pull: unknown versions and malformed references are usage errors", async () => {
    const { out, spec } = await setup();
    expect((await cli(["publish", spec, "-o", out])).code).toBe(0);
    const unknown = await cli(["images", "pull", spec, `${IMAGE_NAME}@9.9.9`, "-o", join(lab.dir, "p")]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/is not published .*\n.*hint: published versions: 0\.1\.0/);
    const malformed = await cli(["images", "pull", spec, IMAGE_NAME, "-o", join(lab.dir, "p")]);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toMatch(/is not NAME@VERSION/);
  });
});

describe("failures leave the catalogue consistent", () => {
  it("pull of a corrupted object: sha256 mismatch, exit 3, no file written", async () => {
    const { bucket, out, spec } = await setup({ size: 2 * MiB });
    expect((await cli(["publish", spec, "-o", out])).code).toBe(0);
    const stored = storedObjectPath(lab.store, bucket, await listedKeyOf(lab.store, bucket, "0.1.0", OVA("0.1.0")));
    const bytes = await readFile(stored);
    bytes[12345] ^= 0x01; // the store's copy rots; its size and metadata still look right
    await writeFile(stored, bytes);

    const pulled = join(lab.dir, "pulled");
    const result = await cli(["images", "pull", spec, `${IMAGE_NAME}@0.1.0`, "-o", pulled]);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/sha256 mismatch: expected [0-9a-f]{64}, got [0-9a-f]{64}/);
    expect(result.stderr).toMatch(/nothing was written/);
    expect(await listFiles(pulled)).toEqual([]);
  });

  it("wrong credentials: exit 3 with a hint, the key never printed, nothing written", async () => {
    const { bucket, out, spec } = await setup();
    const env = { AWS_ACCESS_KEY_ID: "AKIAWRONGKEY12345", AWS_SECRET_ACCESS_KEY: "wRoNg/SeCrEt+vAlUe" };
    for (const args of [
      ["publish", spec, "-o", out],
      ["images", "list", spec],
    ]) {
      const result = await cli(args, env);
      expect(result.code).toBe(3);
      expect(result.stderr).toMatch(/does not know this access key \(InvalidAccessKeyId\)/);
      expect(result.stderr).toMatch(/hint: credentials come from the standard AWS chain/);
      for (const secret of Object.values(env)) expect(result.stdout + result.stderr).not.toContain(secret);
    }
    expect(await lab.store.get(bucket, catalogueKeyOf())).toBeUndefined();
  });

  it("missing bucket: exit 3 naming the bucket, before anything is sent", async () => {
    const out = join(lab.dir, "out");
    await writeImage(out, "0.1.0", 1024);
    const spec = await writeSpec(join(lab.dir, "k8s-ha.yaml"), {
      endpoint: lab.store.endpoint,
      bucket: "no-such-bucket",
    });
    for (const args of [
      ["publish", spec, "-o", out],
      ["images", "list", spec],
    ]) {
      const result = await cli(args);
      expect(result.code).toBe(3);
      expect(result.stderr).toMatch(
        /bucket "no-such-bucket" does not exist at http:\/\/127\.0\.0\.1:\d+ \(NoSuchBucket\)/,
      );
      expect(result.stderr).toMatch(/hint: create it/);
    }
  });

  it("the server dies mid-upload: a clear error, exit 3, the catalogue unchanged", async () => {
    const own = tempDir("k8s-ha-s3rver-dies-");
    let dying: TestStore | undefined = await startStore(own.dir);
    let revived: TestStore | undefined;
    try {
      const first = await setup({ version: "0.1.0", size: 1024, target: dying });
      expect((await cli(["publish", first.spec, "-o", first.out])).code).toBe(0);
      const index = await digest(await dying.get(first.bucket, catalogueKeyOf()));
      expect(index).toBeDefined();

      const second = await setup({ version: "0.2.0", size: 24 * MiB, bucket: first.bucket, target: dying });
      const server = dying;
      server.onRequest((request) => {
        if (/[?&]partNumber=3\b/.test(request.url ?? "")) server.kill();
      });
      const result = await cli(["publish", second.spec, "-o", second.out], {
        K8S_HA_S3_PART_SIZE_MIB: "5",
        K8S_HA_S3_CONCURRENCY: "1",
      });
      expect(result.code).toBe(3);
      expect(result.stderr).toMatch(
        /k8s-ha: uploading .*: cannot reach http:\/\/127\.0\.0\.1:\d+ \((ECONNRESET|ECONNREFUSED|EPIPE)\)/,
      );
      expect(result.stderr).toMatch(/nothing was published: the catalogue s3:\/\/\S+ is unchanged/);
      expect(result.stderr).toMatch(
        /warning: multipart upload \S+ of s3:\/\/\S+: could not abort it .*abort-multipart-upload/,
      );
      expect(result.stderr).not.toMatch(/internal error/);

      await dying.stop();
      dying = undefined;
      revived = await startStore(own.dir); // same files, new port
      expect(await digest(await revived.get(first.bucket, catalogueKeyOf()))).toBe(index);
      expect((await keysOf(revived, first.bucket)).filter((k) => k.includes("/0.2.0/"))).toEqual([]);
    } finally {
      await dying?.stop();
      await revived?.stop();
      own.cleanup();
    }
  });

  it("Ctrl-C mid-upload: the upload is aborted, exit 130, nothing published", async () => {
    const { bucket, out, spec } = await setup({ size: 24 * MiB });
    const { child, done } = spawnCli(
      ["publish", spec, "-o", out],
      s3Env(lab.dir, { K8S_HA_S3_PART_SIZE_MIB: "5", K8S_HA_S3_CONCURRENCY: "1" }),
    );
    let signalled = false;
    lab.store.onRequest((request) => {
      if (!signalled && request.url?.startsWith(`/${bucket}/`) && /[?&]partNumber=2\b/.test(request.url)) {
        signalled = true;
        child.kill("SIGINT");
      }
    });
    const result = await done;
    expect(signalled).toBe(true);
    expect(result.code).toBe(130);
    expect(result.stderr).toMatch(/SIGINT: stopping; aborting the upload/);
    expect(result.stderr).toMatch(/k8s-ha: interrupted: nothing was published; the catalogue s3:\/\/\S+ is unchanged/);
    // s3rver cannot abort a multipart upload (405): we say so, with the command for real S3
    expect(result.stderr).toMatch(/does not support aborting multipart uploads \(MethodNotAllowed\)/);
    expect(lab.store.requests.some((r) => r.method === "DELETE" && r.url.includes("uploadId="))).toBe(true);
    expect(await keysOf(lab.store, bucket)).toEqual([]);
    expect(await lab.store.get(bucket, catalogueKeyOf())).toBeUndefined();
  });
});

describe("start-up", () => {
  it("the bin and what a command that needs no S3 loads (render) hold no AWS SDK code", async () => {
    // every file Node loads while `k8s-ha render` runs, recorded by wrapping Module._load
    const out = join(lab.dir, "render-out");
    const script = `
      const Module = require("node:module");
      const loaded = new Set();
      const load = Module._load;
      Module._load = function (request, parent, isMain) {
        loaded.add(Module._resolveFilename(request, parent, isMain));
        return load.apply(this, arguments);
      };
      process.on("exit", () => process.stderr.write("LOADED " + JSON.stringify([...loaded]) + "\\n"));
      process.argv = [process.execPath, ${JSON.stringify(BIN)}, "render", ${JSON.stringify(join(ROOT, "examples/two-masters.yaml"))}, "-o", ${JSON.stringify(out)}];
      import(${JSON.stringify(pathToFileURL(BIN).href)});`;
    const result = spawnSync(process.execPath, ["-e", script], {
      encoding: "utf8",
      env: { ...process.env, K8S_HA_VRRP_PASS: "s3cret" },
    });
    expect(result.status, result.stderr).toBe(0);
    const loaded: string[] = JSON.parse(/^LOADED (.*)$/m.exec(result.stderr)![1]!);
    const ours = [BIN, ...loaded.filter((file) => file.startsWith(dirname(BIN)))];
    expect(ours.map((file) => basename(file))).toEqual(
      expect.arrayContaining(["k8s-ha.cjs", "cli.cjs", "command-render.cjs"]),
    );
    for (const file of ours) expect(await readFile(file, "utf8"), file).not.toMatch(/S3Client|@aws-sdk/);
  });
});

async function listFiles(root: string): Promise<string[]> {
  if (!existsSync(root)) return [];
  const found: string[] = [];
  const walk = async (d: string) => {
    for (const entry of await readdir(d, { withFileTypes: true })) {
      if (entry.isDirectory()) await walk(join(d, entry.name));
      else found.push(join(d, entry.name));
    }
  };
  await walk(root);
  return found;
}

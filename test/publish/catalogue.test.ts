// The catalogue (index.json): version order, "latest", parsing what another tool or a newer
// k8s-ha wrote, and the conditional read-modify-write that s3rver cannot exercise (it ignores
// If-Match and If-None-Match): a fake store that honours them, races us, or answers 501.
import { GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { describe, expect, it } from "vitest";
import { ExternalError } from "../../src/errors.js";
import {
  compareVersions,
  emptyCatalogue,
  latestVersion,
  parseCatalogue,
  serializeCatalogue,
  updateCatalogue,
  withoutVersion,
  withVersion,
  type Catalogue,
  type CatalogueVersion,
} from "../../src/publish/catalogue.js";
import { catalogueKey, parseImageRef } from "../../src/publish/layout.js";

const NAME = "k8s-ha-ubuntu-20.04";
const S3 = { bucket: "golden", prefix: "k8s-ha/" };
const KEY = catalogueKey(S3, NAME);

function entry(version: string): CatalogueVersion {
  return {
    version,
    builtAt: "2026-01-02T03:04:05Z",
    publishedAt: "2026-01-03T00:00:00Z",
    specSha256: "0".repeat(64),
    files: [{ file: `${NAME}-${version}.ova`, role: "image", size: 1, sha256: "a".repeat(64) }],
  };
}

describe("versions", () => {
  it.each([
    ["0.1.0", "0.2.0", -1],
    ["0.10.0", "0.9.0", 1],
    ["1.0.0", "1.0.0", 0],
    ["1.0.0-rc.1", "1.0.0", -1],
    ["1.0.0-rc.2", "1.0.0-rc.10", -1],
    ["1.0.0-alpha", "1.0.0-alpha.1", -1],
    ["1.0.0-beta", "1.0.0-alpha.9", 1],
    ["1.0.0-1", "1.0.0-alpha", -1],
  ])("compareVersions(%s, %s) = %i", (a, b, expected) => {
    expect(compareVersions(a, b)).toBe(expected);
    expect(compareVersions(b, a)).toBe(-expected || 0);
  });

  it("latest is the highest release; a pre-release only when there is no release", () => {
    const c = (...versions: string[]) => ({ versions: versions.map(entry) });
    expect(latestVersion(c("0.1.0", "0.3.0-rc.1", "0.2.0"))?.version).toBe("0.2.0");
    expect(latestVersion(c("0.1.0-rc.1", "0.1.0-rc.2"))?.version).toBe("0.1.0-rc.2");
    expect(latestVersion(c())).toBeUndefined();
  });

  it("withVersion keeps the newest first and replaces an entry of the same version", () => {
    let catalogue = emptyCatalogue(NAME);
    for (const v of ["0.2.0", "0.10.0", "0.1.0"]) catalogue = withVersion(catalogue, entry(v));
    expect(catalogue.versions.map((v) => v.version)).toEqual(["0.10.0", "0.2.0", "0.1.0"]);
    catalogue = withVersion(catalogue, { ...entry("0.2.0"), publishedAt: "later" });
    expect(catalogue.versions.map((v) => v.publishedAt)).toEqual(["2026-01-03T00:00:00Z", "later", "2026-01-03T00:00:00Z"]);
    expect(withoutVersion(catalogue, "0.2.0").versions.map((v) => v.version)).toEqual(["0.10.0", "0.1.0"]);
  });
});

describe("parseCatalogue", () => {
  it("round-trips, and keeps fields a newer k8s-ha added", () => {
    const catalogue = { ...withVersion(emptyCatalogue(NAME), { ...entry("0.1.0"), signedBy: "team-a" }), mirror: "x" } as Catalogue;
    const parsed = parseCatalogue(serializeCatalogue(catalogue), NAME);
    expect(parsed).toEqual(catalogue);
  });

  it.each([
    ["not json", /not JSON/],
    ["{}", /not a k8s-ha image catalogue \(apiVersion/],
    [JSON.stringify({ ...emptyCatalogue(NAME), versions: [{ version: "x" }] }), /versions\.0\.version/],
    [JSON.stringify(emptyCatalogue("other")), /catalogues "other", not "k8s-ha-ubuntu-20.04"/],
  ])("refuses %s", (text, message) => {
    const parsed = parseCatalogue(text, NAME);
    expect("error" in parsed && parsed.error).toMatch(message);
  });
});

describe("parseImageRef", () => {
  it.each([
    ["k8s-ha-ubuntu-20.04@0.1.0", { name: "k8s-ha-ubuntu-20.04", version: "0.1.0" }],
    ["lab.golden@latest", { name: "lab.golden", version: "latest" }],
    ["x@1.2.3-rc.1", { name: "x", version: "1.2.3-rc.1" }],
  ])("%s", (text, ref) => expect(parseImageRef(text)).toEqual(ref));

  it.each([["k8s-ha-ubuntu-20.04"], ["@0.1.0"], ["name@"], ["Name@0.1.0"], ["name@v1"], ["a/b@0.1.0"]])("refuses %s", (text) => {
    expect(parseImageRef(text)).toHaveProperty("error");
  });
});

/** An S3 that honours If-Match / If-None-Match on PUT (as AWS does since 2024), or not. */
class FakeStore {
  body: string | undefined;
  etag = 0;
  puts: Record<string, unknown>[] = [];
  /** Runs between our GET and our PUT: another publisher. */
  racer: (() => void) | undefined;

  constructor(private readonly mode: "conditional" | "501" = "conditional") {}

  write(catalogue: Catalogue): void {
    this.body = serializeCatalogue(catalogue);
    this.etag++;
  }

  async send(command: unknown): Promise<unknown> {
    if (command instanceof GetObjectCommand) {
      expect(command.input.Key).toBe(KEY);
      if (this.body === undefined) throw Object.assign(new Error("NoSuchKey"), { name: "NoSuchKey", $metadata: { httpStatusCode: 404 } });
      const body = this.body;
      return { Body: { transformToString: async () => body }, ETag: `"${this.etag}"`, ContentLength: body.length };
    }
    if (command instanceof PutObjectCommand) {
      const input = command.input;
      this.puts.push({ IfMatch: input.IfMatch, IfNoneMatch: input.IfNoneMatch });
      const conditional = input.IfMatch !== undefined || input.IfNoneMatch !== undefined;
      if (this.mode === "501" && conditional) {
        throw Object.assign(new Error("not implemented"), { name: "NotImplemented", $metadata: { httpStatusCode: 501 } });
      }
      this.racer?.();
      const failed =
        (input.IfNoneMatch === "*" && this.body !== undefined) || (input.IfMatch !== undefined && input.IfMatch !== `"${this.etag}"`);
      if (failed) throw Object.assign(new Error("precondition"), { name: "PreconditionFailed", $metadata: { httpStatusCode: 412 } });
      this.body = String(input.Body);
      this.etag++;
      expect(input.CacheControl).toBe("no-cache");
      return {};
    }
    throw new Error(`unexpected command ${String(command)}`);
  }
}

const update = (store: FakeStore, version: string, warnings: string[] = []) =>
  updateCatalogue(store as never, S3, NAME, (c) => withVersion(c, entry(version)), { warn: (w) => warnings.push(w) });

describe("updateCatalogue", () => {
  it("creates with If-None-Match: *, then updates with If-Match on the ETag read", async () => {
    const store = new FakeStore();
    await update(store, "0.1.0");
    await update(store, "0.2.0");
    expect(store.puts).toEqual([
      { IfMatch: undefined, IfNoneMatch: "*" },
      { IfMatch: '"1"', IfNoneMatch: undefined },
    ]);
    expect(JSON.parse(store.body!).versions.map((v: CatalogueVersion) => v.version)).toEqual(["0.2.0", "0.1.0"]);
  });

  it("loses a race to another publisher, reads again, and keeps both versions", async () => {
    const store = new FakeStore();
    store.write(withVersion(emptyCatalogue(NAME), entry("0.1.0")));
    store.racer = () => {
      store.racer = undefined;
      store.write(withVersion(JSON.parse(store.body!), entry("0.1.5")));
    };
    await update(store, "0.2.0");
    expect(store.puts).toHaveLength(2);
    expect(JSON.parse(store.body!).versions.map((v: CatalogueVersion) => v.version)).toEqual(["0.2.0", "0.1.5", "0.1.0"]);
  });

  it("gives up after 5 lost races with a clear error", async () => {
    const store = new FakeStore();
    store.write(emptyCatalogue(NAME));
    const racer = () => {
      store.write(JSON.parse(store.body!));
      store.racer = racer;
    };
    store.racer = racer;
    await expect(update(store, "0.2.0")).rejects.toThrow(ExternalError);
    await expect(update(store, "0.2.0")).rejects.toThrow(/kept changing while it was updated/);
  });

  it("a store that rejects conditional writes (501) gets an unconditional PUT and a warning", async () => {
    const store = new FakeStore("501");
    const warnings: string[] = [];
    await update(store, "0.1.0", warnings);
    expect(store.puts).toEqual([
      { IfMatch: undefined, IfNoneMatch: "*" },
      { IfMatch: undefined, IfNoneMatch: undefined },
    ]);
    expect(warnings).toEqual([expect.stringMatching(/does not support conditional writes \(501\)/)]);
    expect(JSON.parse(store.body!).versions).toHaveLength(1);
  });

  it("refuses to overwrite an index.json that is not a catalogue", async () => {
    const store = new FakeStore();
    store.body = '{"hello": "world"}';
    await expect(update(store, "0.1.0")).rejects.toThrow(/s3:\/\/golden\/k8s-ha\/k8s-ha-ubuntu-20\.04\/index\.json is not a k8s-ha image catalogue.*nothing was changed/);
    expect(store.puts).toEqual([]);
  });
});

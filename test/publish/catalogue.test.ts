// The catalogue (index.json): version order, "latest", parsing what another tool or a newer
// k8s-ha wrote, and the commit point (commit.ts) in each of its modes against an in-memory store
// that honours If-Match / If-None-Match, ignores them, or answers 501, with a racer that writes
// between our GET and our PUT or during the read-back wait. Real races against s3rver and against
// a conditional front over it: race.test.ts.
import { GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { describe, expect, it } from "vitest";
import { ExternalError } from "../../src/errors.js";
import {
  compareVersions,
  emptyCatalogue,
  latestVersion,
  parseCatalogue,
  serializeCatalogue,
  withVersion,
  type Catalogue,
  type CatalogueVersion,
} from "../../src/publish/catalogue.js";
import { commitVersion } from "../../src/publish/commit.js";
import { catalogueKey, parseImageRef } from "../../src/publish/layout.js";

const NAME = "k8s-ha-ubuntu-20.04";
const S3 = { bucket: "golden", prefix: "k8s-ha/" };
const KEY = catalogueKey(S3, NAME);

function entry(version: string, revision = `${"0".repeat(12)}-${"1".repeat(16)}`): CatalogueVersion {
  return {
    version,
    revision,
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
    expect(catalogue.versions.map((v) => v.publishedAt)).toEqual([
      "2026-01-03T00:00:00Z",
      "later",
      "2026-01-03T00:00:00Z",
    ]);
  });
});

describe("parseCatalogue", () => {
  it("round-trips, and keeps fields a newer k8s-ha added", () => {
    const catalogue = {
      ...withVersion(emptyCatalogue(NAME), { ...entry("0.1.0"), signedBy: "team-a" }),
      mirror: "x",
    } as Catalogue;
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

  it.each([["k8s-ha-ubuntu-20.04"], ["@0.1.0"], ["name@"], ["Name@0.1.0"], ["name@v1"], ["a/b@0.1.0"]])(
    "refuses %s",
    (text) => {
      expect(parseImageRef(text)).toHaveProperty("error");
    },
  );
});

/** An S3 that honours If-Match / If-None-Match on PUT (as AWS does since 2024), ignores them (s3rver), or answers 501. */
class FakeStore {
  body: string | undefined;
  etag = 0;
  puts: Record<string, unknown>[] = [];
  /** Runs between our GET and our PUT: another publisher. */
  racer: (() => void) | undefined;
  /** Runs while commitVersion waits before its read-back. */
  settle: (() => void) | undefined;

  constructor(private readonly mode: "conditional" | "ignores" | "501" = "conditional") {}

  write(catalogue: Catalogue): void {
    this.body = serializeCatalogue(catalogue);
    this.etag++;
  }

  current(): Catalogue {
    return JSON.parse(this.body!);
  }

  async send(command: unknown): Promise<unknown> {
    if (command instanceof GetObjectCommand) {
      expect(command.input.Key).toBe(KEY);
      if (this.body === undefined)
        throw Object.assign(new Error("NoSuchKey"), { name: "NoSuchKey", $metadata: { httpStatusCode: 404 } });
      const body = this.body;
      return { Body: { transformToString: async () => body }, ETag: `"${this.etag}"`, ContentLength: body.length };
    }
    if (command instanceof PutObjectCommand) {
      const input = command.input;
      this.puts.push({ IfMatch: input.IfMatch, IfNoneMatch: input.IfNoneMatch });
      const conditional = input.IfMatch !== undefined || input.IfNoneMatch !== undefined;
      if (this.mode === "501" && conditional) {
        throw Object.assign(new Error("not implemented"), {
          name: "NotImplemented",
          $metadata: { httpStatusCode: 501 },
        });
      }
      this.racer?.();
      const failed =
        this.mode === "conditional" &&
        ((input.IfNoneMatch === "*" && this.body !== undefined) ||
          (input.IfMatch !== undefined && input.IfMatch !== `"${this.etag}"`));
      if (failed)
        throw Object.assign(new Error("precondition"), {
          name: "PreconditionFailed",
          $metadata: { httpStatusCode: 412 },
        });
      this.body = String(input.Body);
      this.etag++;
      expect(input.CacheControl).toBe("no-cache");
      return {};
    }
    throw new Error(`unexpected command ${String(command)}`);
  }
}

const OTHER = `${"9".repeat(12)}-${"8".repeat(16)}`;

const commit = (
  store: FakeStore,
  version: string,
  options: { conditional?: boolean; replacing?: string; warnings?: string[] } = {},
) =>
  commitVersion({
    client: store as never,
    s3: S3,
    name: NAME,
    entry: entry(version),
    replacing: options.replacing,
    conditional: options.conditional ?? true,
    warn: (w) => options.warnings?.push(w),
    sleep: async () => store.settle?.(),
  });

const versions = (store: FakeStore) => store.current().versions.map((v) => `${v.version} ${v.revision?.slice(0, 1)}`);

describe("commitVersion on a store that honours conditional writes", () => {
  it("creates with If-None-Match: *, then updates with If-Match on the ETag read", async () => {
    const store = new FakeStore();
    expect(await commit(store, "0.1.0")).toMatchObject({ won: true });
    expect(await commit(store, "0.2.0")).toMatchObject({ won: true });
    expect(store.puts).toEqual([
      { IfMatch: undefined, IfNoneMatch: "*" },
      { IfMatch: '"1"', IfNoneMatch: undefined },
    ]);
    expect(versions(store)).toEqual(["0.2.0 0", "0.1.0 0"]);
  });

  it("loses a race to a publisher of another version, reads again, and keeps both versions", async () => {
    const store = new FakeStore();
    store.write(withVersion(emptyCatalogue(NAME), entry("0.1.0")));
    store.racer = () => {
      store.racer = undefined;
      store.write(withVersion(store.current(), entry("0.1.5")));
    };
    expect(await commit(store, "0.2.0")).toMatchObject({ won: true });
    expect(store.puts).toHaveLength(2);
    expect(versions(store)).toEqual(["0.2.0 0", "0.1.5 0", "0.1.0 0"]);
  });

  it("loses a race for the same version: the winner stays, and the loser knows it was never listed", async () => {
    const store = new FakeStore();
    store.racer = () => {
      store.racer = undefined;
      store.write(withVersion(emptyCatalogue(NAME), entry("0.1.0", OTHER)));
    };
    expect(await commit(store, "0.1.0")).toMatchObject({ won: false, certain: true, holder: { revision: OTHER } });
    expect(versions(store)).toEqual(["0.1.0 9"]);
  });

  it("--force replaces the revision it saw listed, not one published meanwhile", async () => {
    const store = new FakeStore();
    store.write(withVersion(emptyCatalogue(NAME), entry("0.1.0", OTHER)));
    expect(await commit(store, "0.1.0", { replacing: OTHER })).toMatchObject({ won: true });
    expect(versions(store)).toEqual(["0.1.0 0"]);
    store.write(withVersion(emptyCatalogue(NAME), entry("0.1.0", OTHER)));
    expect(await commit(store, "0.1.0", { replacing: `${"7".repeat(12)}-${"7".repeat(16)}` })).toMatchObject({
      won: false,
    });
  });

  it("gives up after 5 lost races with a clear error", async () => {
    const store = new FakeStore();
    store.write(emptyCatalogue(NAME));
    const racer = () => {
      store.write(store.current());
      store.racer = racer;
    };
    store.racer = racer;
    await expect(commit(store, "0.2.0")).rejects.toThrow(ExternalError);
    await expect(commit(store, "0.2.0")).rejects.toThrow(/kept changing while it was updated/);
  });

  it("refuses to overwrite an index.json that is not a catalogue", async () => {
    const store = new FakeStore();
    store.body = '{"hello": "world"}';
    await expect(commit(store, "0.1.0")).rejects.toThrow(
      /s3:\/\/golden\/k8s-ha\/k8s-ha-ubuntu-20\.04\/index\.json is not a k8s-ha image catalogue.*nothing was changed/,
    );
    expect(store.puts).toEqual([]);
  });
});

describe("commitVersion on a store without conditional writes: write, wait, read back", () => {
  it("a store that rejects them (501) gets an unconditional PUT and a warning", async () => {
    const store = new FakeStore("501");
    const warnings: string[] = [];
    expect(await commit(store, "0.1.0", { warnings })).toMatchObject({ won: true });
    expect(store.puts).toEqual([
      { IfMatch: undefined, IfNoneMatch: "*" },
      { IfMatch: undefined, IfNoneMatch: undefined },
    ]);
    expect(warnings).toEqual([expect.stringMatching(/rejects conditional writes \(501\)/)]);
    expect(store.current().versions).toHaveLength(1);
  });

  it("another publisher of the version overwrites ours before the read-back: we lose, unsure whether we were read", async () => {
    const store = new FakeStore("ignores");
    store.settle = () => {
      store.settle = undefined;
      store.write(withVersion(emptyCatalogue(NAME), entry("0.1.0", OTHER)));
    };
    expect(await commit(store, "0.1.0", { conditional: false })).toMatchObject({
      won: false,
      certain: false,
      holder: { revision: OTHER },
    });
    expect(store.puts).toEqual([{ IfMatch: undefined, IfNoneMatch: undefined }]);
  });

  it("a stale write of another version drops ours: we write it again", async () => {
    const store = new FakeStore("ignores");
    store.settle = () => {
      store.settle = undefined;
      store.write(withVersion(emptyCatalogue(NAME), entry("0.2.0", OTHER)));
    };
    expect(await commit(store, "0.1.0", { conditional: false })).toMatchObject({ won: true });
    expect(store.puts).toHaveLength(2);
    expect(versions(store)).toEqual(["0.2.0 9", "0.1.0 0"]);
  });
});

// Random file sets round-trip through libarchive (bsdtar) and libisofs (xorriso): every name
// exact, every byte equal. Sizes favour block edges (0, 2048·k, 2048·k ± 1); a fixed seed keeps
// the run repeatable. Names use what seeds use: lowercase, digits, '-', '_', '.'.
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { writeIso, type IsoFile } from "../../src/iso/index.js";
import { haveTools } from "../helpers/tools.js";
import { DATE, diffTree, ok, pattern, readTree, tempDir } from "./helpers.js";

const BLOCK = 2048;
const edge = fc.tuple(fc.integer({ min: 1, max: 1200 }), fc.constantFrom(-1, 0, 1)).map(([k, d]) => k * BLOCK + d);
const size = fc.oneof(
  fc.constant(0),
  fc.integer({ min: 1, max: 4096 }),
  edge,
  fc.integer({ min: 0, max: 3 * 1024 * 1024 }),
);
const part = fc.stringMatching(/^[a-z0-9._-]{1,64}$/).filter((s) => s !== "." && s !== "..");
// At most one level of subdirectory, as seeds use ("files/keepalived.conf").
const name = fc.oneof(
  { weight: 3, arbitrary: part },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom("files", "d.1", "x"), part).map(([d, p]) => `${d}/${p}`) },
);

/** Drops files whose name is also a directory of another file (both cannot exist). */
function consistent(names: string[]): string[] {
  const dirs = new Set(names.filter((n) => n.includes("/")).map((n) => n.split("/")[0]));
  return names.filter((n) => !dirs.has(n));
}

const fileSets = fc
  .uniqueArray(fc.tuple(name, size), { minLength: 1, maxLength: 8, selector: ([n]) => n })
  .map((entries) => {
    const keep = new Set(consistent(entries.map(([n]) => n)));
    return entries.filter(([n]) => keep.has(n)).map(([n, s], i): IsoFile => ({ name: n, source: pattern(s, i + 1) }));
  })
  .filter((files) => files.length > 0);

const have = haveTools("bsdtar", "xorriso");
const dir = tempDir();
afterAll(() => dir.cleanup());

describe("property: random file sets read back exactly", () => {
  it.skipIf(!have)(
    "through bsdtar and xorriso",
    async () => {
      let run = 0;
      await fc.assert(
        fc.asyncProperty(fileSets, async (files) => {
          const base = join(dir.dir, `run-${run++}`);
          ok("mkdir", ["-p", `${base}/bsdtar`]);
          const iso = `${base}/seed.iso`;
          await writeIso(iso, files, { volumeId: "cidata", date: DATE });
          ok("bsdtar", ["-xf", iso, "-C", `${base}/bsdtar`]);
          ok("xorriso", ["-osirrox", "on", "-indev", iso, "-extract", "/", `${base}/xorriso`]);
          expect(diffTree(readTree(`${base}/bsdtar`), files), "bsdtar").toBe("");
          expect(diffTree(readTree(`${base}/xorriso`), files), "xorriso").toBe("");
          ok("rm", ["-rf", base]);
        }),
        { seed: 20240102, numRuns: 40 },
      );
    },
    120_000,
  );
});

// Issue 18: N publishers of one name@version at the same moment, as the built CLI, against
// s3rver (which ignores conditional writes: the write-wait-read-back commit) and against a
// front over s3rver that honours them as AWS S3 does (front.ts). A barrier in the front holds the
// publishers' first catalogue reads until all have arrived, so every round is a real race.
// Each round: exactly one publisher exits 0, the others exit 3 saying someone else published;
// the catalogue parses and lists the winner's revision; the winner's image pulls byte for byte;
// and no object is left that the catalogue does not name (the losers removed theirs, or
// `images gc` removes them).
import { copyFile, mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parseCatalogue } from "../../src/publish/catalogue.js";
import { runCli } from "../helpers/cli.js";
import { startFront, type Front } from "./front.js";
import {
  catalogueKeyOf,
  IMAGE_NAME,
  keysOf,
  listedKeyOf,
  s3Env,
  sha256,
  spawnCli,
  useStoreAndTempDir,
  writeImage,
  writeSpec,
} from "./helpers.js";

const PUBLISHERS = 3;
const ROUNDS = Number(process.env.RACE_ROUNDS ?? 3);
const VERSION = "0.1.0";
const OVA = `${IMAGE_NAME}-${VERSION}.ova`;
const RECORD = `${IMAGE_NAME}-${VERSION}.json`;

const lab = useStoreAndTempDir("k8s-ha-race-");
let front: Front | undefined;
let buckets = 0;
afterEach(async () => {
  await front?.stop();
  front = undefined;
});

async function race(options: { conditional: boolean; identical: boolean }) {
  const bucket = `race-${++buckets}`;
  await lab.store.createBucket(bucket);
  front = await startFront(lab.store.endpoint, { conditional: options.conditional, barrier: PUBLISHERS });
  const env = s3Env(lab.dir, { K8S_HA_S3_PART_SIZE_MIB: "5" });
  const round = join(lab.dir, bucket);
  const publishers = [];
  for (let i = 0; i < PUBLISHERS; i++) {
    const out = join(round, `out-${i}`);
    if (i > 0 && options.identical) {
      await mkdir(join(out, "images"), { recursive: true });
      for (const file of [OVA, RECORD]) await copyFile(join(round, "out-0", "images", file), join(out, "images", file));
    } else {
      await writeImage(out, VERSION, 1024 * 1024 + i);
    }
    const spec = await writeSpec(join(round, `spec-${i}.yaml`), { endpoint: front.endpoint, bucket, version: VERSION });
    const image = sha256(await readFile(join(out, "images", OVA)));
    publishers.push({ out, spec, image });
  }
  const results = await Promise.all(publishers.map((p) => spawnCli(["publish", p.spec, "-o", p.out], env).done));
  const log = results.map((r, i) => `--- publisher ${i} exit ${r.code}\n${r.stderr}`).join("\n");

  // Every publisher ends in one of four ways. The barrier in front.ts holds the first catalogue
  // reads together, but a loser's read may still be served after the winner's commit (a busy or an
  // idle machine alike): then it stops before uploading anything, with exit 2 (other files) or 0
  // (the very same files: nothing to do). Otherwise it raced the winner's commit and exits 3.
  const outcome = (r: { code: number | null; stderr: string }) =>
    r.code === 0 && /already published in .* with the same files .*nothing was sent/.test(r.stderr)
      ? "unchanged"
      : r.code === 0
        ? "committed"
        : r.code === 2 &&
            /k8s-ha-ubuntu-20\.04 0\.1\.0 is already published in .* with other files; nothing was sent/.test(r.stderr)
          ? "refused"
          : r.code === 3 &&
              /k8s-ha-ubuntu-20\.04 0\.1\.0 was published by someone else while this upload ran .*this build was not published/.test(
                r.stderr,
              )
            ? "raced"
            : "unexpected";
  const outcomes = results.map(outcome);
  expect(outcomes, log).not.toContain("unexpected");
  const winners = outcomes.flatMap((o, i) => (o === "committed" ? [i] : []));
  // With conditional writes exactly one commit succeeds. Without them (s3rver) the write-wait-read
  // check assumes a catalogue write lands within 1.5 s of its read; on a starved machine two
  // publishers can both see their own entry (docs/publish.md): the catalogue then lists one of
  // them, the other's objects are unlisted, and nothing published is destroyed — checked below.
  if (options.conditional) expect(winners, log).toHaveLength(1);
  else expect(winners.length, log).toBeGreaterThanOrEqual(1);
  const raced = results.filter((_, i) => outcomes[i] === "raced");
  const parsed = parseCatalogue((await lab.store.get(bucket, catalogueKeyOf()))!.toString("utf8"), IMAGE_NAME);
  if ("error" in parsed) throw new Error(parsed.error);
  expect(parsed.versions.map((v) => v.version)).toEqual([VERSION]);
  const listedImage = parsed.versions[0]!.files.find((f) => f.role === "image")!.sha256;
  const winner = winners.map((i) => publishers[i]!).find((p) => p.image === listedImage);
  expect(winner, `${log}\nlisted image ${listedImage}`).toBeDefined();

  const pulled = join(round, "pulled");
  const pull = await runCli(["images", "pull", winner!.spec, `${IMAGE_NAME}@${VERSION}`, "-o", pulled], { env });
  expect(pull.code, pull.stderr).toBe(0);
  expect(sha256(await readFile(join(pulled, "images", OVA)))).toBe(winner!.image);

  const listed = [
    await listedKeyOf(lab.store, bucket, VERSION, OVA),
    await listedKeyOf(lab.store, bucket, VERSION, RECORD),
    catalogueKeyOf(),
  ].sort();
  if (options.conditional) {
    // 412 proved the losers' entries were never listed: they removed their own objects
    expect(front.refused, log).toBeGreaterThan(0);
  } else {
    for (const r of raced) expect(r.stderr).toMatch(/stay until `k8s-ha images gc` removes them/);
    const gc = await runCli(["images", "gc", winner!.spec, "--min-age", "0"], { env });
    expect(gc.code, gc.stderr).toBe(0);
  }
  expect(await keysOf(lab.store, bucket)).toEqual(listed);
}

describe.each([
  ["s3rver, which ignores conditional writes", false],
  ["a front over s3rver that honours conditional writes like AWS S3", true],
])(`${PUBLISHERS} publishers of one version at once, ${ROUNDS} rounds, on %s`, (_store, conditional) => {
  it(
    "different builds: exactly one wins, the others exit 3, nothing published is destroyed",
    { timeout: 300_000 },
    async () => {
      for (let i = 0; i < ROUNDS; i++) await race({ conditional, identical: false });
    },
  );

  it(
    "identical builds: exactly one wins, the others exit 3, no object is left unlisted",
    { timeout: 300_000 },
    async () => {
      for (let i = 0; i < ROUNDS; i++) await race({ conditional, identical: true });
    },
  );
});

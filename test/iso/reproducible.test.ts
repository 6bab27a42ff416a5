// Same inputs, same bytes: input order, in-memory vs on-disk sources and repeated runs do not
// change the image; only options.date (and the files) do, and blkid's UUID follows the date.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { isoToBuffer, writeIso, type IsoFile } from "../../src/iso/index.js";
import { haveTools } from "../helpers/tools.js";
import { DATE, ok, pattern, sha256, tempDir, text } from "./helpers.js";

const FILES: IsoFile[] = [
  { name: "user-data", source: text("#cloud-config\n") },
  { name: "meta-data", source: text("instance-id: a\n") },
  { name: "network-config", source: text("version: 2\n") },
  { name: "files/haproxy.cfg", source: pattern(5000, 7), mode: 0o644 },
  { name: "files/check_apiserver.sh", source: text("#!/bin/sh\n"), mode: 0o755 },
];
const OPTIONS = { volumeId: "cidata", date: DATE };

const dir = tempDir();
afterAll(() => dir.cleanup());

describe("reproducible output", () => {
  it("does not depend on the input order", () => {
    const a = isoToBuffer(FILES, OPTIONS);
    const b = isoToBuffer([...FILES].reverse(), OPTIONS);
    const c = isoToBuffer([FILES[3], FILES[0], FILES[4], FILES[2], FILES[1]] as IsoFile[], OPTIONS);
    expect(sha256(b)).toBe(sha256(a));
    expect(sha256(c)).toBe(sha256(a));
  });

  it("writeIso twice, and isoToBuffer, give identical bytes", async () => {
    const first = join(dir.dir, "first.iso");
    const second = join(dir.dir, "second.iso");
    await writeIso(first, FILES, OPTIONS);
    await writeIso(second, [...FILES].reverse(), OPTIONS);
    expect(sha256(readFileSync(second))).toBe(sha256(readFileSync(first)));
    expect(sha256(readFileSync(first))).toBe(sha256(isoToBuffer(FILES, OPTIONS)));
  });

  it("streams on-disk sources (larger than the 1 MiB chunk) to the same bytes as in memory", async () => {
    const big = pattern(3 * 1024 * 1024 + 1, 9);
    const path = join(dir.dir, "big.bin");
    writeFileSync(path, big);
    const out = join(dir.dir, "streamed.iso");
    const { size } = await writeIso(out, [...FILES, { name: "big.bin", source: { path, size: big.length } }], OPTIONS);
    const memory = isoToBuffer([...FILES, { name: "big.bin", source: big }], OPTIONS);
    expect(size).toBe(memory.length);
    expect(sha256(readFileSync(out))).toBe(sha256(memory));
  });

  it("changes when the date changes, and only the date fields change", () => {
    const a = Buffer.from(isoToBuffer(FILES, OPTIONS));
    const b = Buffer.from(isoToBuffer(FILES, { ...OPTIONS, date: new Date(DATE.getTime() + 1000) }));
    expect(a.length).toBe(b.length);
    expect(a.equals(b)).toBe(false);
    const differing = [...a.keys()].filter((i) => a[i] !== b[i]);
    // Volume dates (seconds digits) and the seconds byte of records and TF stamps, nothing else.
    expect(differing.every((i) => b[i] === (a[i] as number) + 1)).toBe(true);
  });

  it("keeps a known digest (update only after checking every reader)", () => {
    // A change here means the bytes of every seed change: intended format changes only.
    expect(sha256(isoToBuffer(FILES, OPTIONS))).toBe(
      "61b8d407c5c54b080a85dc24af85f0e390e76479656d1c497cf06b3b4c0ad089",
    );
  });

  it.skipIf(!haveTools("blkid"))("blkid's UUID is the volume modification date", async () => {
    const out = join(dir.dir, "uuid.iso");
    await writeIso(out, FILES, { ...OPTIONS, date: new Date(Date.UTC(2031, 11, 30, 23, 59, 58, 990)) });
    expect(ok("blkid", ["-p", "-s", "UUID", "-o", "value", out]).toString().trim()).toBe("2031-12-30-23-59-58-99");
  });
});

// Bad input is refused with every problem named, before anything is written; a failure while
// writing leaves neither a half-written image nor a temp file behind.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { IsoError, isoToBuffer, writeIso, type IsoFile, type IsoOptions } from "../../src/iso/index.js";
import { DATE, tempDir, text } from "./helpers.js";

const OPTIONS: IsoOptions = { volumeId: "cidata", date: DATE };
const file = (name: string, extra: Partial<IsoFile> = {}): IsoFile => ({ name, source: text("x"), ...extra });

const dir = tempDir();
afterAll(() => dir.cleanup());

const BAD: { what: string; files: IsoFile[]; options?: Partial<IsoOptions>; message: RegExp }[] = [
  { what: "empty name", files: [file("")], message: /empty name/ },
  { what: "NUL", files: [file("user\0data")], message: /NUL in name/ },
  { what: "leading slash", files: [file("/user-data")], message: /empty path component/ },
  { what: "trailing slash", files: [file("dir/")], message: /empty path component/ },
  { what: "double slash", files: [file("a//b")], message: /empty path component/ },
  { what: "dot component", files: [file("a/./b")], message: /'\.' and '\.\.'/ },
  { what: "dot-dot component", files: [file("../etc")], message: /'\.' and '\.\.'/ },
  { what: "Joliet-forbidden character", files: [file("what?")], message: /cannot be stored in Joliet/ },
  { what: "colon", files: [file("a:b")], message: /cannot be stored in Joliet/ },
  { what: "outside the BMP", files: [file("seed-😀")], message: /Basic Multilingual Plane/ },
  { what: "65-character name", files: [file("n".repeat(65))], message: /longer than 64 characters/ },
  {
    what: "path over 255 bytes",
    files: [file(`${"d".repeat(60)}/`.repeat(4) + "f".repeat(16))],
    message: /longer than 255 bytes/,
  },
  { what: "9 levels", files: [file("1/2/3/4/5/6/7/8/f")], message: /deeper than 7 directories/ },
  { what: "duplicate", files: [file("user-data"), file("user-data")], message: /given twice/ },
  { what: "file and directory", files: [file("files"), file("files/x")], message: /both a file and a directory/ },
  { what: "case-only difference", files: [file("User-Data"), file("user-data")], message: /differ only in case/ },
  { what: "mode with type bits", files: [file("x", { mode: 0o100644 })], message: /mode must be permission bits/ },
  { what: "fractional mode", files: [file("x", { mode: 1.5 })], message: /mode must be permission bits/ },
  {
    what: "negative size",
    files: [{ name: "x", source: { path: "/nonexistent", size: -1 } }],
    message: /non-negative integer/,
  },
  {
    what: "file over 4 GiB - 1",
    files: [{ name: "huge.img", source: { path: "/nonexistent", size: 2 ** 32 } }],
    message:
      /"huge\.img": 4294967296 bytes is larger than 4294967295 bytes \(4 GiB - 1\).*multi-extent files are not supported/,
  },
  {
    what: "uppercase volume id too long",
    files: [file("x")],
    options: { volumeId: "A".repeat(17) },
    message: /1 to 16 characters/,
  },
  { what: "empty volume id", files: [file("x")], options: { volumeId: "" }, message: /volume id ""/ },
  { what: "volume id with a space", files: [file("x")], options: { volumeId: "ci data" }, message: /volume id/ },
  { what: "invalid date", files: [file("x")], options: { date: new Date(NaN) }, message: /not a valid Date/ },
  { what: "year 2156", files: [file("x")], options: { date: new Date(Date.UTC(2156, 0, 1)) }, message: /year 2156/ },
];

describe("invalid input", () => {
  it.each(BAD)("rejects $what with IsoError, writing nothing", async ({ files, options, message }) => {
    const out = join(dir.dir, "bad.iso");
    const opts = { ...OPTIONS, ...options };
    expect(() => isoToBuffer(files, opts)).toThrow(IsoError);
    expect(() => isoToBuffer(files, opts)).toThrow(message);
    await expect(writeIso(out, files, opts)).rejects.toThrow(message);
    expect(readdirSync(dir.dir)).toEqual([]);
  });

  it("reports every problem at once", () => {
    try {
      isoToBuffer([file(""), file("a?"), file("x", { mode: -1 })], { volumeId: "", date: DATE });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(IsoError);
      expect((error as IsoError).problems).toHaveLength(4);
    }
  });

  it("accepts 64-character names, 7 directory levels and a 4 GiB - 1 declared size", () => {
    expect(() => isoToBuffer([file("n".repeat(64)), file("1/2/3/4/5/6/7/f")], OPTIONS)).not.toThrow();
    expect(() => isoToBuffer([{ name: "big", source: { path: "/x", size: 2 ** 32 - 1 } }], OPTIONS)).toThrow(
      /needs in-memory sources/,
    );
  });
});

describe("atomic writes", () => {
  it("leaves the old image and no temp file when a source has changed size", async () => {
    const src = join(dir.dir, "src.bin");
    const out = join(dir.dir, "seed.iso");
    writeFileSync(src, "12345");
    writeFileSync(out, "previous image");
    const files: IsoFile[] = [{ name: "user-data", source: { path: src, size: 4 } }];
    await expect(writeIso(out, files, OPTIONS)).rejects.toThrow(/has 5 bytes, but 4 were declared/);
    expect(readFileSync(out, "utf8")).toBe("previous image");
    expect(readdirSync(dir.dir).sort()).toEqual(["seed.iso", "src.bin"]);
  });

  it("leaves nothing when a source is missing", async () => {
    const out = join(dir.dir, "missing.iso");
    await expect(
      writeIso(out, [{ name: "x", source: { path: join(dir.dir, "nope"), size: 1 } }], OPTIONS),
    ).rejects.toThrow(/ENOENT/);
    expect(readdirSync(dir.dir).filter((n) => n.includes("missing"))).toEqual([]);
  });
});

// Every reader a seed meets hands back every file byte for byte, with its exact name:
// genisoimage's isoinfo (Rock Ridge, Joliet and plain), xorriso, libarchive's bsdtar, 7-Zip and
// blkid. The Linux kernel reads Rock Ridge the way isoinfo -R and xorriso do (SP, ER via CE, NM).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeIso, type IsoFile } from "../../src/iso/index.js";
import { haveTools } from "../helpers/tools.js";
import { DATE, diffTree, ok, pattern, readTree, run, tempDir, text } from "./helpers.js";

// The NoCloud trio, plus what stresses the format: a script with mode 0755, a private file,
// sizes at block boundaries, an empty file, two names that collide in Level 1 (USER_DAT),
// a subdirectory, and a UTF-8 name too long for its record (its NM moves to a CE area).
const FILES: IsoFile[] = [
  { name: "user-data", source: text("#cloud-config\nhostname: master01\n") },
  { name: "meta-data", source: text("instance-id: lab-master01\nlocal-hostname: master01\n") },
  { name: "network-config", source: text("version: 2\nethernets:\n  enp0s3:\n    addresses: [10.0.2.10/24]\n") },
  { name: "user_data", source: text("collides with user-data in ISO 9660 Level 1\n") },
  { name: "empty", source: new Uint8Array(0) },
  { name: "block-2047", source: pattern(2047, 1) },
  { name: "block-2048", source: pattern(2048, 2) },
  { name: "block-2049", source: pattern(2049, 3) },
  { name: "files/check_apiserver.sh", source: text("#!/bin/sh\nexit 0\n"), mode: 0o755 },
  { name: "files/keepalived.conf", source: text("global_defs {}\n"), mode: 0o640 },
  { name: "files/näme-wïth-ünïcödé-thät-ïs-löng-énöügh-tö-nééd-ä-cöntïnüätïön", source: text("ce\n") },
];
const ROOT_NAMES = [
  "block-2047",
  "block-2048",
  "block-2049",
  "empty",
  "files",
  "meta-data",
  "network-config",
  "user-data",
  "user_data",
];

const has = {
  isoinfo: haveTools("isoinfo"),
  xorriso: haveTools("xorriso"),
  bsdtar: haveTools("bsdtar"),
  sevenZip: haveTools("7z"),
  blkid: haveTools("blkid"),
};

let dir: ReturnType<typeof tempDir>;
let iso: string;

beforeAll(async () => {
  dir = tempDir();
  iso = join(dir.dir, "seed.iso");
  await writeIso(iso, FILES, { volumeId: "cidata", date: DATE });
});
afterAll(() => dir.cleanup());

/** Names in an `ls -l`-style listing (last column), without "." and "..". */
function listedNames(listing: string): string[] {
  return listing
    .split("\n")
    .map((line) => /\]\s+(.*?)\s*$/.exec(line)?.[1] ?? "")
    .filter((name) => name !== "" && name !== "." && name !== "..");
}

describe("isoinfo (genisoimage)", () => {
  it.skipIf(!has.isoinfo)("-d finds volume id cidata, Joliet level 3 and Rock Ridge", () => {
    const out = ok("isoinfo", ["-d", "-i", iso]).toString();
    expect(out).toMatch(/^Volume id: cidata$/m);
    expect(out).toContain("Joliet with UCS level 3 found");
    expect(out).toContain("Rock Ridge signatures version 1 found");
    expect(out).toMatch(/^Logical block size is: 2048$/m);
  });

  it.skipIf(!has.isoinfo)("-l -R lists the real names and the Rock Ridge modes", () => {
    const out = ok("isoinfo", ["-l", "-R", "-i", iso]).toString();
    const [root, files] = out.split("Directory listing of /files/");
    // Listed in record order, which sorts the Level 1 ids: USER_DA1 (user_data) comes first.
    expect(listedNames(root ?? "").sort()).toEqual(ROOT_NAMES);
    expect(listedNames(files ?? "").sort()).toEqual(
      FILES.filter((f) => f.name.startsWith("files/"))
        .map((f) => f.name.slice(6))
        .sort(),
    );
    expect(out).toMatch(/^-rwxr-xr-x\s+1\s+0\s+0\s+\d+ .*check_apiserver\.sh\s*$/m);
    expect(out).toMatch(/^-rw-r-----\s+1\s+0\s+0\s+\d+ .*keepalived\.conf\s*$/m);
    expect(out).toMatch(/^-rw-r--r--\s+1\s+0\s+0\s+\d+ .* user-data\s*$/m);
  });

  it.skipIf(!has.isoinfo)("-l -J lists the real names from Joliet", () => {
    const out = ok("isoinfo", ["-l", "-J", "-i", iso]).toString("latin1");
    const [root] = out.split("Directory listing of /files/");
    expect(listedNames(root ?? "")).toEqual(ROOT_NAMES);
  });

  it.skipIf(!has.isoinfo)("plain ISO 9660 names are Level 1 d-characters, collisions numbered", () => {
    const out = ok("isoinfo", ["-l", "-i", iso]).toString();
    const [root] = out.split("Directory listing of /FILES/");
    expect(listedNames(root ?? "")).toEqual([
      "BLOCK_20.;1",
      "BLOCK_21.;1",
      "BLOCK_22.;1",
      "EMPTY.;1",
      "FILES",
      "META_DAT.;1",
      "NETWORK_.;1",
      "USER_DA1.;1",
      "USER_DAT.;1",
    ]);
  });

  it.skipIf(!has.isoinfo)("-R -x and -J -x extract every file byte for byte", () => {
    for (const file of FILES) {
      const want = Buffer.from(file.source as Uint8Array);
      expect(Buffer.compare(ok("isoinfo", ["-R", "-x", `/${file.name}`, "-i", iso]), want), `-R ${file.name}`).toBe(0);
      // isoinfo turns Joliet names into Latin-1 and cannot match a UTF-8 path; 7z covers those.
      if (/^[\x20-\x7e]*$/.test(file.name)) {
        expect(Buffer.compare(ok("isoinfo", ["-J", "-x", `/${file.name}`, "-i", iso]), want), `-J ${file.name}`).toBe(
          0,
        );
      }
    }
  });

  it.skipIf(!haveTools("isovfy"))("isovfy finds no structural error", () => {
    expect(ok("isovfy", [iso]).toString()).toContain("No errors found");
  });
});

describe("xorriso (libisofs)", () => {
  it.skipIf(!has.xorriso)("-lsl shows names and Rock Ridge modes without complaints", () => {
    const r = run("xorriso", ["-indev", iso, "-lsl", "/", "/files"]);
    expect(r.code).toBe(0);
    expect(r.stderr).not.toMatch(/WARNING|SORRY|FAILURE|MISHAP/);
    expect(r.stderr).toContain("Volume id    : 'cidata'");
    const out = r.stdout.toString();
    for (const name of ROOT_NAMES) expect(out).toContain(`'${name}'`);
    expect(out).toMatch(/^-rwxr-xr-x\s+1 0\s+0\s+\d+ .*'check_apiserver\.sh'$/m);
    expect(out).toMatch(/^-rw-r-----\s+1 0\s+0\s+\d+ .*'keepalived\.conf'$/m);
  });

  it.skipIf(!has.xorriso)("-osirrox on -extract restores every file byte for byte", () => {
    const out = join(dir.dir, "xorriso-out");
    ok("xorriso", ["-osirrox", "on", "-indev", iso, "-extract", "/", out]);
    expect(diffTree(readTree(out), FILES)).toBe("");
  });
});

describe("bsdtar (libarchive)", () => {
  it.skipIf(!has.bsdtar)("-tf lists the real names", () => {
    const names = ok("bsdtar", ["-tf", iso])
      .toString()
      .split("\n")
      .filter((n) => n !== "" && n !== ".");
    expect(names.sort()).toEqual([...FILES.map((f) => f.name), "files"].sort());
  });

  it.skipIf(!has.bsdtar)("-xOf extracts each file; -xf the whole tree", () => {
    for (const file of FILES) {
      expect(
        Buffer.compare(ok("bsdtar", ["-xOf", iso, file.name]), Buffer.from(file.source as Uint8Array)),
        file.name,
      ).toBe(0);
    }
    const out = join(dir.dir, "bsdtar-out");
    ok("mkdir", [out]);
    ok("bsdtar", ["-xf", iso, "-C", out]);
    expect(diffTree(readTree(out), FILES)).toBe("");
  });

  it.skipIf(!has.bsdtar)("-tvf shows Rock Ridge modes", () => {
    const out = ok("bsdtar", ["-tvf", iso]).toString();
    expect(out).toMatch(/^-rwxr-xr-x .* files\/check_apiserver\.sh$/m);
    expect(out).toMatch(/^-rw-r--r-- .* user-data$/m);
  });
});

describe("7z (p7zip, reads Joliet like Windows)", () => {
  it.skipIf(!has.sevenZip)("l lists the real names; x -so extracts each file", () => {
    const out = ok("7z", ["l", "-ba", iso]).toString();
    const names = out
      .split("\n")
      .map((l) => l.slice(53).trim())
      .filter(Boolean);
    expect(names.sort()).toEqual([...FILES.map((f) => f.name), "files"].sort());
    for (const file of FILES) {
      expect(
        Buffer.compare(ok("7z", ["x", "-so", iso, file.name]), Buffer.from(file.source as Uint8Array)),
        file.name,
      ).toBe(0);
    }
  });
});

describe("blkid (util-linux, what cloud-init uses to find the seed)", () => {
  it.skipIf(!has.blkid)("-p shows LABEL=cidata, TYPE=iso9660 and a UUID from the volume date", () => {
    const out = ok("blkid", ["-p", iso]).toString();
    expect(out).toContain('LABEL="cidata"');
    expect(out).toContain('TYPE="iso9660"');
    expect(out).toContain('UUID="2024-01-02-03-04-05-06"');
  });
});

it("writes the seed's size as a whole number of 2048-byte blocks", async () => {
  const small = join(dir.dir, "small.iso");
  writeFileSync(small, "old contents");
  const { size } = await writeIso(small, FILES.slice(0, 3), { volumeId: "cidata", date: DATE });
  expect(size % 2048).toBe(0);
  expect(readTree(dir.dir).get("small.iso")?.length).toBe(size);
});

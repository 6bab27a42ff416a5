// The pure pieces of `seed`, in-process: the date rule, the seeds built from rendered files, the
// seed bundle (tar-stream; read back by GNU tar, bsdtar and Python's tarfile) and the printed VBoxManage lines.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { UsageError } from "../../src/errors.js";
import { renderNodes } from "../../src/render/index.js";
import { bundleArtifact } from "../../src/seed/bundle.js";
import { sha256 } from "../../src/write/hash.js";
import { blkidUuid, derivedSeedDate, MAX_EPOCH_SECONDS, parseSourceDateEpoch } from "../../src/seed/date.js";
import { buildSeeds, seedArtifacts } from "../../src/seed/seed-artifacts.js";
import { commandLine, quoteArg, showVmInfoArgs, storageAttachArgs } from "../../src/seed/vbox.js";
import { examplePlan, planOf } from "../helpers/plan.js";
import { haveTools } from "../helpers/tools.js";
import { ok } from "../iso/helpers.js";

const work = mkdtempSync(join(tmpdir(), "k8s-ha-seed-units-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("SOURCE_DATE_EPOCH", () => {
  it.each([
    [undefined, undefined],
    ["", undefined],
    ["0", "1970-01-01T00:00:00.000Z"],
    ["1700000000", "2023-11-14T22:13:20.000Z"],
    [String(MAX_EPOCH_SECONDS), "2155-12-31T23:59:59.000Z"],
  ])("%j → %s", (value, iso) => {
    expect(parseSourceDateEpoch(value)?.toISOString()).toBe(iso);
  });

  it.each(["yesterday", "1.5", "-1", "+1", " 1", "1 ", "1e9", "0x10", String(MAX_EPOCH_SECONDS + 1), "9".repeat(30)])(
    "%j is a UsageError with a hint",
    (value) => {
      expect(() => parseSourceDateEpoch(value)).toThrow(UsageError);
      try {
        parseSourceDateEpoch(value);
      } catch (error) {
        expect((error as UsageError).hint).toContain("seconds since 1970");
      }
    },
  );
});

describe("derived seed dates", () => {
  it("are whole seconds from 2020-01-01 within five years, stable per instance-id", () => {
    for (const id of ["lab-master01-e93dc742c6c0", "lab-master02-f9b924f78a55", "x", ""]) {
      const date = derivedSeedDate(id);
      expect(date.getTime()).toBe(derivedSeedDate(id).getTime());
      expect(date.getTime() % 1000).toBe(0);
      expect(date.getTime()).toBeGreaterThanOrEqual(Date.UTC(2020, 0, 1));
      expect(date.getTime()).toBeLessThan(Date.UTC(2025, 0, 1));
    }
    expect(derivedSeedDate("a").getTime()).not.toBe(derivedSeedDate("b").getTime());
  });

  it("blkidUuid formats a date the way blkid shows an ISO's UUID", () => {
    expect(blkidUuid(new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 60)))).toBe("2024-01-02-03-04-05-06");
  });
});

describe("buildSeeds", () => {
  const plan = examplePlan("two-masters.yaml");
  const rendered = renderNodes(plan);

  it("uses the instance-id that meta-data carries, and a new one (so a new UUID) when a node changes", () => {
    const seeds = buildSeeds(plan, rendered);
    for (const seed of seeds) {
      const metaData = rendered.find((a) => a.path === `nodes/${seed.node}/meta-data`)!.contents as string;
      expect(metaData).toContain(`instance-id: ${seed.instanceId}\n`);
      expect(seed.date.getTime()).toBe(derivedSeedDate(seed.instanceId).getTime());
    }
    const changed = planOf((s) => (s.spec.vip = "10.0.2.101"));
    const [before] = buildSeeds(planOf(), renderNodes(planOf()));
    const [after] = buildSeeds(changed, renderNodes(changed));
    expect(after!.instanceId).not.toBe(before!.instanceId);
    expect(blkidUuid(after!.date)).not.toBe(blkidUuid(before!.date));
  });

  it.skipIf(!haveTools("isoinfo"))("puts exactly the rendered bytes in the ISO (isoinfo -R)", () => {
    const [seed] = seedArtifacts(buildSeeds(plan, rendered, { nodes: ["master02"] }));
    expect(seed!.path).toBe("nodes/master02/seed.iso");
    expect(seed!.mode).toBe(0o644);
    const iso = join(work, "seed.iso");
    writeFileSync(iso, seed!.contents);
    for (const name of ["user-data", "meta-data", "network-config"]) {
      const want = rendered.find((a) => a.path === `nodes/master02/${name}`)!.contents as string;
      expect(ok("isoinfo", ["-R", "-i", iso, "-x", `/${name}`]).toString("utf8")).toBe(want);
    }
  });

  it("one date for all seeds with SOURCE_DATE_EPOCH; unknown --node names are a UsageError", () => {
    const date = new Date(Date.UTC(2023, 10, 14));
    expect(buildSeeds(plan, rendered, { date }).map((s) => s.date)).toEqual([date, date]);
    expect(() => buildSeeds(plan, rendered, { nodes: ["master03"] })).toThrow(
      /no node named "master03" in cluster lab/,
    );
  });
});

describe("the seed bundle", () => {
  const date = new Date(Date.UTC(2020, 0, 1));
  const files = [
    { path: "manifest.json", contents: "{}\n", mode: 0o644 },
    { path: "empty", contents: new Uint8Array(0), mode: 0o600 },
    { path: "script.sh", contents: "#!/bin/sh\necho hi\n", mode: 0o755 },
    { path: "block", contents: new Uint8Array(512).fill(7), mode: 0o644 },
    // longer than ustar's 100-byte name field
    { path: `${"d".repeat(90)}/${"f".repeat(60)}.txt`, contents: "long\n", mode: 0o644 },
  ];
  /** Every entry of the bundle of `files`, in archive order: directories first, then by path. */
  const names = [
    "lab-seeds/",
    "lab-seeds/block",
    `lab-seeds/${"d".repeat(90)}/`,
    `lab-seeds/${"d".repeat(90)}/${"f".repeat(60)}.txt`,
    "lab-seeds/empty",
    "lab-seeds/manifest.json",
    "lab-seeds/script.sh",
  ];

  it.skipIf(!haveTools("tar", "bsdtar", "python3"))(
    "reads back with GNU tar, bsdtar and Python's tarfile: names, modes, owners, mtime, bytes",
    async () => {
      const file = join(work, "t.tar");
      writeFileSync(file, gunzipSync((await bundleArtifact("lab", files, date)).contents as Uint8Array));
      expect(ok("tar", ["-tf", file]).toString().trim().split("\n")).toEqual(names);
      expect(ok("bsdtar", ["-tf", file]).toString().trim().split("\n")).toEqual(names);
      expect(ok("tar", ["--utc", "-tvf", file]).toString()).toMatch(
        /^-rwxr-xr-x root\/root +18 2020-01-01 00:00 lab-seeds\/script\.sh$/m,
      );
      const py = execFileSync("python3", [
        "-c",
        "import sys,tarfile,json;t=tarfile.open(sys.argv[1]);print(json.dumps([[m.name,m.mode,m.uid,m.gid,m.uname,m.gname,m.mtime,m.isdir(),(t.extractfile(m).read().hex() if m.isfile() else None)] for m in t]))",
        file,
      ]).toString();
      const members = JSON.parse(py) as [
        string,
        number,
        number,
        number,
        string,
        string,
        number,
        boolean,
        string | null,
      ][];
      expect(members.map((m) => m[0])).toEqual(names.map((n) => n.replace(/\/$/, "")));
      for (const m of members) {
        const source = files.find((f) => `lab-seeds/${f.path}` === m[0]);
        expect(m.slice(1, 8)).toEqual([
          source?.mode ?? 0o755,
          0,
          0,
          "root",
          "root",
          date.getTime() / 1000,
          source === undefined,
        ]);
        if (source) expect(m[8]).toBe(Buffer.from(source.contents).toString("hex"));
      }
    },
  );

  it("refuses absolute and parent paths", async () => {
    await expect(bundleArtifact("lab", [{ path: "/etc/x", contents: "", mode: 0o644 }])).rejects.toThrow(
      /plain relative/,
    );
    await expect(bundleArtifact("lab", [{ path: "a/../x", contents: "", mode: 0o644 }])).rejects.toThrow(
      /plain relative/,
    );
  });

  it("bundles sort directories before their files, take the date as mtime, and are the same bytes in any input order", async () => {
    const files = [
      { path: "nodes/b/seed.iso", contents: new Uint8Array([1]), mode: 0o644 },
      { path: "manifest.json", contents: "{}\n", mode: 0o644 },
      { path: "nodes/a-b/seed.iso", contents: new Uint8Array([2]), mode: 0o644 },
    ];
    const bundle = await bundleArtifact("lab", files, new Date(Date.UTC(2023, 10, 14)));
    expect(bundle.path).toBe("lab-seeds.tar.gz");
    const tar = gunzipSync(bundle.contents as Uint8Array);
    const file = join(work, "b.tar");
    writeFileSync(file, tar);
    if (haveTools("tar")) {
      expect(ok("tar", ["-tf", file]).toString().trim().split("\n")).toEqual([
        "lab-seeds/",
        "lab-seeds/manifest.json",
        "lab-seeds/nodes/",
        "lab-seeds/nodes/a-b/",
        "lab-seeds/nodes/a-b/seed.iso",
        "lab-seeds/nodes/b/",
        "lab-seeds/nodes/b/seed.iso",
      ]);
    }
    const again = await bundleArtifact("lab", [...files].reverse(), new Date(Date.UTC(2023, 10, 14)));
    expect(Buffer.compare(again.contents as Buffer, bundle.contents as Buffer)).toBe(0);
    // and a pinned digest: a library update that changes a byte must show up here, not on a user's machine
    expect(sha256(bundle.contents)).toBe("e3ecb74c9163912fe0e61130439bae1a483210cf6316fbde91246b3586788b6d");
  });
});

describe("VBoxManage lines", () => {
  it("attach the seed to port 0, device 0 of the controller they are given", () => {
    expect(
      commandLine(storageAttachArgs("master01", "/srv/k8s ha/out/nodes/master01/seed.iso", "IDE Controller")),
    ).toBe(
      'VBoxManage storageattach master01 --storagectl "IDE Controller" --port 0 --device 0 --type dvddrive --medium "/srv/k8s ha/out/nodes/master01/seed.iso"',
    );
    expect(commandLine(storageAttachArgs("master01", "/iso", "IDE"))).toBe(
      "VBoxManage storageattach master01 --storagectl IDE --port 0 --device 0 --type dvddrive --medium /iso",
    );
    expect(commandLine(showVmInfoArgs("master01"))).toBe("VBoxManage showvminfo master01 --machinereadable");
  });

  it.each([
    ["plain/path-1.iso", "plain/path-1.iso"],
    ["C:\\Users\\ops\\out\\seed.iso", '"C:\\Users\\ops\\out\\seed.iso"'],
    ["with space", '"with space"'],
    ["it's $HOME", `'it'\\''s $HOME'`],
    ["", '""'],
  ])("quotes %j as %s", (arg, quoted) => {
    expect(quoteArg(arg)).toBe(quoted);
  });
});

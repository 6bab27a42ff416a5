// `k8s-ha seed` as users run it (the built CLI): every node's ISO read back by every reader
// equals the rendered files, labelled cidata; the manifest lists the seeds; two runs give the
// same bytes; SOURCE_DATE_EPOCH, --node, --bundle and --json do what the README says.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { EXAMPLES, runCli, tempDir, tree } from "../helpers/cli.js";
import { EXAMPLE_ENV } from "../helpers/plan.js";
import { haveTools } from "../helpers/tools.js";
import { ok, readTree } from "../iso/helpers.js";
import { sha256 } from "../../src/write/hash.js";

const EXAMPLE_NODES: Record<string, string[]> = {
  "two-masters.yaml": ["master01", "master02"],
  "three-node-unicast.yaml": ["cp1", "cp2", "cp3"],
};
const SEED_FILES = ["user-data", "meta-data", "network-config"];

const has = {
  isoinfo: haveTools("isoinfo"),
  xorriso: haveTools("xorriso"),
  bsdtar: haveTools("bsdtar"),
  blkid: haveTools("blkid"),
  tar: haveTools("tar"),
};

let dir: string;
let cleanup: () => void;
beforeEach(async () => ({ dir, cleanup } = tempDir("k8s-ha-seed-")));
afterEach(async () => cleanup());

async function seed(example: string, out: string, extra: string[] = [], env: Record<string, string> = {}) {
  const result = await runCli(["seed", join(EXAMPLES, example), "-o", out, ...extra], {
    env: { ...EXAMPLE_ENV, ...env },
  });
  return result;
}

interface ManifestEntry {
  path: string;
  sha256: string;
  size: number;
  mode: string;
}

async function manifestOf(out: string): Promise<ManifestEntry[]> {
  return (JSON.parse(await readFile(join(out, "manifest.json"), "utf8")) as { artifacts: ManifestEntry[] }).artifacts;
}

describe.each(Object.keys(EXAMPLE_NODES))("seed examples/%s", (example) => {
  const nodes = EXAMPLE_NODES[example]!;

  it("writes every node's seed.iso (0644) and lists it in the manifest", async () => {
    const out = join(dir, "out");
    const result = await seed(example, out);
    expect(result.code, result.stderr).toBe(0);
    const manifest = await manifestOf(out);
    for (const node of nodes) {
      const path = `nodes/${node}/seed.iso`;
      const data = await readFile(join(out, path));
      expect(((await stat(join(out, path))).mode & 0o777).toString(8)).toBe("644");
      expect(manifest.find((e) => e.path === path)).toEqual({
        path,
        sha256: sha256(data),
        size: data.length,
        mode: "0644",
      });
    }
    // Everything render writes is there too, and the directory holds exactly the manifest's files.
    const files = await tree(out);
    expect(Object.keys(files).sort()).toEqual([...manifest.map((e) => e.path), "manifest.json"].sort());
    for (const entry of manifest) expect(files[entry.path], entry.path).toBe(entry.sha256);
  });

  it.skipIf(!(has.isoinfo && has.xorriso && has.bsdtar))(
    "every reader lists exactly the rendered user-data, meta-data and network-config",
    async () => {
      const out = join(dir, "out");
      expect((await seed(example, out)).code).toBe(0);
      for (const node of nodes) {
        const iso = join(out, "nodes", node, "seed.iso");
        const want = new Map(
          await Promise.all(SEED_FILES.map(async (f) => [f, await readFile(join(out, "nodes", node, f))] as const)),
        );
        // isoinfo: Rock Ridge (what the Linux kernel, and so cloud-init, reads) and Joliet
        for (const flag of ["-R", "-J"]) {
          const listing = ok("isoinfo", ["-f", flag, "-i", iso]).toString().split("\n").filter(Boolean).sort();
          expect(listing, `${node} isoinfo ${flag}`).toEqual(SEED_FILES.map((f) => `/${f}`).sort());
          for (const [name, data] of want) {
            expect(
              ok("isoinfo", [flag, "-i", iso, "-x", `/${name}`]).equals(data),
              `${node} isoinfo ${flag} ${name}`,
            ).toBe(true);
          }
        }
        // xorriso and bsdtar extract the whole tree
        for (const [reader, args] of [
          ["xorriso", (to: string) => ["-osirrox", "on", "-indev", iso, "-extract", "/", to]],
          ["bsdtar", (to: string) => ["-xf", iso, "-C", to]],
        ] as const) {
          const to = join(dir, `${reader}-${node}`);
          await mkdir(to);
          ok(reader, args(to));
          const got = readTree(to);
          expect([...got.keys()].sort(), `${node} ${reader}`).toEqual([...SEED_FILES].sort());
          for (const [name, data] of want) expect(got.get(name)?.equals(data), `${node} ${reader} ${name}`).toBe(true);
        }
      }
    },
  );

  it.skipIf(!has.blkid)("blkid -p finds label cidata and the UUID that --json reports", async () => {
    const out = join(dir, "out");
    const result = await seed(example, out, ["--json"]);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as {
      seeds: { node: string; absolutePath: string; blkidUuid: string; sha256: string }[];
    };
    expect(report.seeds.map((s) => s.node)).toEqual(nodes);
    for (const s of report.seeds) {
      const probe = ok("blkid", ["-p", "-o", "export", s.absolutePath]).toString();
      expect(probe).toMatch(/^LABEL=cidata$/m);
      expect(probe).toMatch(/^TYPE=iso9660$/m);
      expect(probe).toContain(`UUID=${s.blkidUuid}\n`);
      expect(sha256(await readFile(s.absolutePath))).toBe(s.sha256);
    }
    // Every node version has its own date, so no two seeds share a UUID.
    expect(new Set(report.seeds.map((s) => s.blkidUuid)).size).toBe(nodes.length);
  });
});

describe("seed", () => {
  const example = "three-node-unicast.yaml";

  it("gives byte-identical output, bundle included, on two runs in different places", async () => {
    const a = join(dir, "a");
    const b = join(dir, "nested", "b");
    expect((await seed(example, a, ["--bundle"])).code).toBe(0);
    expect(
      (await runCli(["seed", join(EXAMPLES, example), "-o", b, "--bundle"], { cwd: dir, env: EXAMPLE_ENV })).code,
    ).toBe(0);
    const first = await tree(a);
    expect(Object.keys(first)).toContain("rack1-seeds.tar.gz");
    expect(await tree(b)).toEqual(first);
  });

  it("prints, per node, the VBoxManage command that attaches its seed, as data on stdout", async () => {
    const out = join(dir, "out dir");
    const result = await seed(example, out);
    expect(result.code).toBe(0);
    for (const node of EXAMPLE_NODES[example]!) {
      const iso = join(out, "nodes", node, "seed.iso");
      // the attach commands are data: stdout; the rest is prose on stderr
      expect(result.stdout).toContain(
        `VBoxManage storageattach ${node} --storagectl "IDE Controller" --port 0 --device 0 --type dvddrive --medium "${iso}"\n`,
      );
      expect(result.stderr).toContain(`VBoxManage showvminfo ${node} --machinereadable\n`);
    }
    expect(result.stderr).toContain('storage controller "IDE Controller" assumed (no image record at');
    expect(result.stderr).not.toContain("VBoxManage storageattach");
  });

  it("uses the storage controller that build-image recorded for the OVA", async () => {
    const out = join(dir, "out");
    const first = await seed(example, out, ["--json"]);
    const { storageController } = JSON.parse(first.stdout) as {
      storageController: { name: string; from: string; record: string };
    };
    expect(storageController).toMatchObject({ name: "IDE Controller", from: "default" });
    mkdirSync(dirname(storageController.record), { recursive: true });
    const stem = basename(storageController.record, ".json");
    const record = {
      name: stem.replace(/-[^-]+$/, ""),
      version: stem.replace(/^.*-/, ""),
      file: `${stem}.ova`,
      size: 1,
      sha256: "b".repeat(64),
      specSha256: "c".repeat(64),
      templateFingerprint: "d".repeat(64),
      packerVersion: "1.6.6",
      storageController: "IDE",
      builtAt: "2026-11-30T00:00:00.000Z",
      buildSeconds: 1,
    };
    writeFileSync(storageController.record, JSON.stringify(record));
    const second = await seed(example, out);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain(`storage controller "IDE" as recorded in ${storageController.record}:`);
    for (const node of EXAMPLE_NODES[example]!) {
      expect(second.stdout).toContain(
        `VBoxManage storageattach ${node} --storagectl IDE --port 0 --device 0 --type dvddrive`,
      );
    }
  });

  it("honours SOURCE_DATE_EPOCH: every seed and the bundle carry that date", async () => {
    const out = join(dir, "out");
    const epoch = 1700000000; // 2023-11-14T22:13:20Z
    const result = await seed(example, out, ["--bundle", "--json"], { SOURCE_DATE_EPOCH: String(epoch) });
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as { seeds: { date: string; blkidUuid: string; absolutePath: string }[] };
    for (const s of report.seeds) {
      expect(s.date).toBe("2023-11-14T22:13:20.000Z");
      expect(s.blkidUuid).toBe("2023-11-14-22-13-20-00");
      if (has.blkid)
        expect(ok("blkid", ["-p", "-o", "export", s.absolutePath]).toString()).toContain(
          "UUID=2023-11-14-22-13-20-00\n",
        );
    }
    if (has.tar) {
      const listing = ok("tar", ["--utc", "-tvzf", join(out, "rack1-seeds.tar.gz")])
        .toString()
        .trim()
        .split("\n");
      for (const line of listing) expect(line).toContain("2023-11-14 22:13");
    }
    // A different epoch changes the bytes; the same one does not.
    const again = join(dir, "again");
    expect((await seed(example, again, ["--bundle"], { SOURCE_DATE_EPOCH: String(epoch) })).code).toBe(0);
    expect(await tree(again)).toEqual(await tree(out));
    const other = join(dir, "other");
    expect((await seed(example, other, [], { SOURCE_DATE_EPOCH: String(epoch + 1) })).code).toBe(0);
    expect((await tree(other))["nodes/cp1/seed.iso"]).not.toBe((await tree(out))["nodes/cp1/seed.iso"]);
  });

  // the full table of bad values is in seed-units.test.ts
  it.each(["yesterday", "99999999999"])(
    "rejects SOURCE_DATE_EPOCH=%j with exit 2 and writes nothing",
    async (value) => {
      const out = join(dir, "out");
      const result = await seed(example, out, [], { SOURCE_DATE_EPOCH: value });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain("SOURCE_DATE_EPOCH");
      expect(result.stderr).toContain("hint:");
      expect(existsSync(out)).toBe(false);
    },
  );

  it("--node rewrites only that node's files and seed; other nodes' seeds stay, and the manifest lists every node", async () => {
    const out = join(dir, "out");
    expect((await seed(example, out)).code).toBe(0);
    const full = await tree(out);
    const result = await seed(example, out, ["--node", "cp2", "--json"]);
    expect(result.code, result.stderr).toBe(0);
    expect((JSON.parse(result.stdout) as { seeds: { node: string }[] }).seeds.map((s) => s.node)).toEqual(["cp2"]);
    // the same spec: every file as before, the manifest too
    expect(await tree(out)).toEqual(full);
    expect((await manifestOf(out)).filter((e) => e.path.endsWith("seed.iso")).map((e) => e.path)).toEqual([
      "nodes/cp1/seed.iso",
      "nodes/cp2/seed.iso",
      "nodes/cp3/seed.iso",
    ]);
    // only the rewritten node's attach command (with --json it is in the document, as an argument list)
    const attach = (JSON.parse(result.stdout) as { seeds: { node: string; attach: string[] }[] }).seeds.map((s) =>
      s.attach.slice(0, 3).join(" "),
    );
    expect(attach).toEqual(["VBoxManage storageattach cp2"]);
  });

  it("after a spec change, --node renews one node; the others' files stay but leave the manifest, named on stderr", async () => {
    const out = join(dir, "out");
    expect((await seed(example, out)).code).toBe(0);
    const before = await tree(out);
    const changed = join(dir, "changed.yaml");
    const text = await readFile(join(EXAMPLES, example), "utf8");
    await writeFile(changed, text.replace(/loadBalancer:\n(\s+)port: \d+/, "loadBalancer:\n$1port: 9443"));
    const result = await runCli(["seed", changed, "-o", out, "--node", "cp2"], { env: EXAMPLE_ENV });
    expect(result.code, result.stderr).toBe(0);
    const after = await tree(out);
    expect(after["nodes/cp1/seed.iso"]).toBe(before["nodes/cp1/seed.iso"]);
    expect(after["nodes/cp3/user-data"]).toBe(before["nodes/cp3/user-data"]);
    expect(after["nodes/cp2/seed.iso"]).not.toBe(before["nodes/cp2/seed.iso"]);
    const listed = (await manifestOf(out)).map((e) => e.path);
    expect(listed).toContain("nodes/cp2/seed.iso");
    expect(listed).not.toContain("nodes/cp1/seed.iso");
    expect(listed).not.toContain("nodes/cp1/user-data");
    expect(result.stderr).toMatch(/left nodes\/cp1\/seed\.iso as it is: it was made from another spec/);
    // every file the manifest lists is on disk with its sha256
    for (const entry of await manifestOf(out)) expect(after[entry.path], entry.path).toBe(entry.sha256);
  });

  it("a plain render after seed keeps every seed ISO (the media attached to the VMs) in place and in the manifest", async () => {
    const out = join(dir, "out");
    expect((await seed(example, out, ["--bundle"])).code).toBe(0);
    const before = await tree(out);
    const rendered = await runCli(["render", join(EXAMPLES, example), "-o", out], { env: EXAMPLE_ENV });
    expect(rendered.code, rendered.stderr).toBe(0);
    expect(await tree(out)).toEqual(before);
    expect((await manifestOf(out)).filter((e) => e.path.endsWith("seed.iso"))).toHaveLength(3);
  });

  it("--node with an unknown name exits 2, lists the nodes and writes nothing", async () => {
    const out = join(dir, "out");
    const result = await seed(example, out, ["--node", "cp9"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('no node named "cp9" in cluster rack1');
    expect(result.stderr).toContain("cp1, cp2, cp3");
    expect(existsSync(out)).toBe(false);
  });

  it.skipIf(!(has.tar && has.bsdtar))(
    "--bundle writes <cluster>-seeds.tar.gz with the manifest and every seed, outside the manifest",
    async () => {
      const out = join(dir, "out");
      const result = await seed(example, out, ["--bundle"]);
      expect(result.code, result.stderr).toBe(0);
      const bundle = join(out, "rack1-seeds.tar.gz");
      const listing = ok("tar", ["-tzf", bundle]).toString().trim().split("\n");
      expect(listing).toEqual([
        "rack1-seeds/",
        "rack1-seeds/manifest.json",
        "rack1-seeds/nodes/",
        "rack1-seeds/nodes/cp1/",
        "rack1-seeds/nodes/cp1/seed.iso",
        "rack1-seeds/nodes/cp2/",
        "rack1-seeds/nodes/cp2/seed.iso",
        "rack1-seeds/nodes/cp3/",
        "rack1-seeds/nodes/cp3/seed.iso",
      ]);
      expect(ok("tar", ["-tvzf", bundle]).toString()).toMatch(
        /^-rw-r--r-- root\/root +\d+ \S+ \S+ rack1-seeds\/manifest\.json$/m,
      );
      // gzip header: no timestamp (bytes 4-7), Unix OS byte
      const gz = await readFile(bundle);
      expect(gz.readUInt32LE(4)).toBe(0);
      expect(gz[9]).toBe(3);
      // extracted (by another reader), the files are the ones in the output directory
      const to = join(dir, "unpacked");
      await mkdir(to);
      ok("bsdtar", ["-xzf", bundle, "-C", to]);
      const unpacked = await tree(join(to, "rack1-seeds"));
      const written = await tree(out);
      for (const [path, hash] of Object.entries(unpacked)) expect(written[path], path).toBe(hash);
      // the manifest describes the output; the bundle, which contains it, is not in it
      expect((await manifestOf(out)).map((e) => e.path)).not.toContain("rack1-seeds.tar.gz");
      expect(result.stderr).toContain(`rack1-seeds.tar.gz  sha256 ${sha256(gz)}`);
    },
  );

  it("leaves a bundle of an earlier run alone when --bundle is not given", async () => {
    const out = join(dir, "out");
    expect((await seed(example, out, ["--bundle"])).code).toBe(0);
    const bundle = await readFile(join(out, "rack1-seeds.tar.gz"));
    expect((await seed(example, out)).code).toBe(0);
    expect(await readFile(join(out, "rack1-seeds.tar.gz"))).toEqual(bundle);
  });

  it("refuses an Ignition target (Fedora CoreOS) with exit 2 and writes nothing", async () => {
    const out = join(dir, "out");
    const result = await runCli(["seed", join(EXAMPLES, "fcos.yaml"), "-o", out]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("does not read NoCloud seed ISOs");
    expect(result.stderr).toContain("config.ign");
    expect(existsSync(out)).toBe(false);
  });

  it("exits 1 on an invalid spec and writes nothing", async () => {
    const out = join(dir, "out");
    const result = await runCli(["seed", join(EXAMPLES, example), "-o", out], { env: { K8S_HA_VRRP_PASS: "" } });
    expect(result.code).toBe(1);
    expect(existsSync(out)).toBe(false);
  });
});

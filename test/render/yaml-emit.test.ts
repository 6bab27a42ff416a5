// yaml-emit.ts must write what the `yaml` package writes, byte for byte, or leave the value to it.
// Generated values mix what render emits (cloud-config, netplan, kubeadm) with what a YAML 1.1
// reader takes for another type (on, 0640, 1:20, ~, 2001-12-14), indicators, quotes, multi-line
// text with leading, trailing and blank lines, and characters that force quoting.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Document, parse } from "yaml";
import { emitYaml, OTHER_TYPE_FIRST, type EmitStyle } from "../../src/render/yaml-emit.js";
import { packageCloudYaml, packageManifestYaml, toCloudYaml } from "../../src/render/yaml.js";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const GOLDEN = join(import.meta.dirname, "golden");

const CLOUD: EmitStyle = { flowScalarLists: true };
const MANIFEST: EmitStyle = { flowScalarLists: false };

const tricky = fc.constantFrom(
  "",
  " ",
  "on",
  "Off",
  "yes",
  "n",
  "~",
  "null",
  "NULL",
  "true",
  "0640",
  "0x1F",
  "0b101",
  "1_000",
  "1:20",
  "190:20:30",
  ".inf",
  "-.Inf",
  ".nan",
  "1e3",
  "3.14",
  "2001-12-14",
  "2001-12-14t21:59:43.10-05:00",
  "<<",
  "=",
  "-",
  "?",
  "- a",
  "? a",
  "a: b",
  "a:b",
  "a #b",
  "a#b",
  "#x",
  "&a",
  "*a",
  "!tag",
  "%YAML",
  "---",
  "--- x",
  "...",
  "@x",
  "`x`",
  "|",
  ">",
  "[a]",
  "{a}",
  "a,b",
  'say "hi"',
  "it's",
  `"both" 'quotes'`,
  "back\\slash",
  "tab\there",
  "trail ",
  "trail:",
  "ünïcödé — ok",
  "emoji 😀",
  "ALL=(ALL) NOPASSWD:ALL",
  "/etc/keepalived/keepalived.conf",
  "192.168.56.10/24",
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMQOqA/g+Q2Og5yWI588HYHVroOOL/NjApqNbKN/deM4 ops@laptop",
);
const lines = fc.array(fc.oneof(tricky, fc.string({ maxLength: 12 })), { maxLength: 5 });
const multiLine = fc
  .tuple(
    fc.constantFrom("", " ", "  ", "\n", "\n\n", " \n"),
    lines,
    fc.constantFrom("", "\n", "\n\n", " ", " \n", "\t"),
  )
  .map(([head, body, tail]) => `${head}${body.join("\n")}${tail}`);
const text = fc.oneof(
  { weight: 4, arbitrary: tricky },
  { weight: 2, arbitrary: fc.string({ maxLength: 16 }) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 8 }) },
  { weight: 2, arbitrary: multiLine },
);
const scalar = fc.oneof(
  { weight: 6, arbitrary: text },
  { weight: 2, arbitrary: fc.integer({ min: -100000, max: 100000 }) },
  { weight: 1, arbitrary: fc.constantFrom(0.5, -0, 1e21, 2 ** 60, Number.NaN, Infinity) },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constant(null) },
);
const key = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom("hostname", "write_files", "runcmd", "instance-id", "enp0s8", "a b", "x.y") },
  { weight: 1, arbitrary: tricky },
  { weight: 1, arbitrary: fc.string({ maxLength: 6 }) },
);
const { value } = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: "small", withCrossShrink: true }, scalar, tie("list"), tie("map")),
  list: fc.array(fc.oneof(tie("value"), fc.constant(undefined)), { maxLength: 4 }),
  map: fc.dictionary(key, fc.oneof({ weight: 8, arbitrary: tie("value") }, fc.constant(undefined)), { maxKeys: 5 }),
}));
const anyDocument = fc.dictionary(key, value, { maxKeys: 6 });
/** Keys and values that the emitter writes itself, so that most documents are compared. */
const ordinaryScalar = fc.oneof(tricky, multiLine, fc.integer(), fc.boolean(), fc.constant(null));
const ordinaryKey = fc.constantFrom("hostname", "write_files", "runcmd", "instance-id", "enp0s8", "a b", "x.y");
const { ordinary } = fc.letrec((tie) => ({
  ordinary: fc.oneof({ depthSize: "small" }, ordinaryScalar, tie("list"), tie("map")),
  list: fc.array(tie("ordinary"), { maxLength: 4 }),
  map: fc.dictionary(ordinaryKey, tie("ordinary"), { maxKeys: 5 }),
}));
const document = fc.oneof(anyDocument, fc.dictionary(ordinaryKey, ordinary, { maxKeys: 6 }));

describe("the YAML emitter", () => {
  it("tries the package's YAML 1.1 resolvers only on texts that start as one of them can", () => {
    const resolvers = new Document(null, { version: "1.1" }).schema.tags.filter(
      (tag) => tag.default === true && tag.tag !== "tag:yaml.org,2002:str" && tag.test,
    );
    const readsAsOtherType = (text: string) => resolvers.some((tag) => tag.test!.test(text));
    // each tricky value, and each with its first character swapped for every other printable one
    const samples = fc.sample(tricky, 500).concat(fc.sample(fc.string({ maxLength: 12 }), 2000));
    let others = 0;
    for (const value of samples) {
      for (let code = 0x20; code < 0x7f; code++) {
        const first = String.fromCharCode(code);
        for (const text of [first + value, first + value.slice(1)]) {
          if (!readsAsOtherType(text)) continue;
          others++;
          expect(OTHER_TYPE_FIRST, JSON.stringify(text)).toContain(first);
        }
      }
    }
    expect(others).toBeGreaterThan(1000); // the samples reach every resolver
  });

  it.each([
    ["cloud-config", CLOUD, packageCloudYaml],
    ["manifest", MANIFEST, packageManifestYaml],
  ] as const)("writes what the yaml package writes, or leaves the value to it (%s)", (_, style, reference) => {
    let emitted = 0;
    fc.assert(
      fc.property(document, (doc) => {
        const ours = emitYaml(doc, style);
        if (ours === undefined) return;
        emitted++;
        expect(ours).toBe(reference(doc));
      }),
      { numRuns: 3000 },
    );
    expect(emitted).toBeGreaterThan(1000); // the comparison is not vacuous
  });

  it("round-trips: YAML 1.1 reads back the value written", () => {
    fc.assert(
      fc.property(document, (doc) => {
        const ours = emitYaml(doc, CLOUD);
        if (ours !== undefined) expect(parse(ours, { version: "1.1" })).toEqual(JSON.parse(JSON.stringify(doc)));
      }),
      { numRuns: 1000 },
    );
  });

  it("writes every YAML file of the golden renders itself, without the package", () => {
    const files = readdirSync(GOLDEN, { recursive: true, encoding: "utf8" }).filter((f) => f.includes("nodes/"));
    const checked = files.filter((file) => {
      const cloud = /\/(user-data|network-config|meta-data)$/.test(file);
      if (!cloud && !/\.yaml$/.test(file)) return false;
      const body = readFileSync(join(GOLDEN, file), "utf8").replace(/^(#.*\n)+/, "");
      for (const doc of body.split(/^---\n/m))
        expect(emitYaml(parse(doc, { version: "1.1" }), cloud ? CLOUD : MANIFEST), file).toBe(doc);
      return true;
    });
    expect(checked.length).toBeGreaterThan(30);
  });

  it("leaves to the package what it does not write itself, and toCloudYaml still writes it", () => {
    for (const doc of [
      { a: "x\u0007y" },
      { on: 1 },
      { "<<": 0 }, // a merge key in YAML 1.1: never written by the emitter, so never read back wrong
      { a: "kept\n\n" },
      { a: 0.5 },
      { a: new Date(0) },
      ["root list"],
    ]) {
      expect(emitYaml(doc, CLOUD)).toBeUndefined();
      if (!Array.isArray(doc)) expect(toCloudYaml(doc)).toBe(packageCloudYaml(doc));
    }
  });
});

// The HCL writer: escaping by table, and by property against Packer's own HCL parser (Packer
// 1.6.6 `packer console`), which is what will read the template.
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  attr,
  blank,
  block,
  comment,
  escapeHclString,
  expr,
  hclString,
  renderHcl,
  template,
} from "../../src/packer/hcl.js";
import { haveTools } from "../helpers/tools.js";
import { packerTestEnv, tempDir } from "./helpers.js";

describe("hclString", () => {
  const cases: [string, string, string][] = [
    ["plain text", "plain", '"plain"'],
    ["double quote", 'say "hi"', '"say \\"hi\\""'],
    ["backslash", "C:\\dir", '"C:\\\\dir"'],
    ["interpolation", "${var.x}", '"$${var.x}"'],
    ["directive", "%{ if true }", '"%%{ if true }"'],
    ["lone $ and %", "100% $5", '"100% $5"'],
    ["$$ before {", "$${x}", '"$$${x}"'],
    ["newline, CR, tab", "a\nb\rc\td", '"a\\nb\\rc\\td"'],
    ["other control characters", "a\u0001b\u007f", '"a\\u0001b\\u007f"'],
    ["non-ASCII stays", "é—✓", '"é—✓"'],
    ["Go template of Packer", "{{ .HTTPIP }}", '"{{ .HTTPIP }}"'],
  ];
  it.each(cases)("%s", (_name, input, expected) => {
    expect(hclString(input)).toBe(expected);
  });

  it("never leaves a template sequence or an unescaped quote", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (s) => {
        const body = escapeHclString(s);
        // Every `${`/`%{` is preceded by its doubled escape, and every `"` by a backslash.
        expect(body.replace(/\$\$\{|%%\{/g, "")).not.toMatch(/[$%]\{/);
        expect(body.replace(/\\\\/g, "").replace(/\\"/g, "")).not.toContain('"');
        expect(body).not.toMatch(/[\n\r]/);
      }),
    );
  });
});

describe("renderHcl", () => {
  it("aligns runs of single-line attributes like packer fmt, and lets multi-line values stand alone", () => {
    const text = renderHcl([
      comment("header"),
      blank,
      block(
        "source",
        ["null", "x"],
        [
          attr("a", 1),
          attr("longer_name", true),
          attr("list", ["x", "y"]),
          attr("long_list", ["a".repeat(30), "b".repeat(30), "c".repeat(30), "d"]),
          attr("after", expr("var.x")),
          attr("path", template([expr("path.root"), "/http"])),
        ],
      ),
    ]);
    expect(text).toBe(
      [
        "# header",
        "",
        'source "null" "x" {',
        "  a           = 1",
        "  longer_name = true",
        '  list        = ["x", "y"]',
        "  long_list = [",
        `    "${"a".repeat(30)}",`,
        `    "${"b".repeat(30)}",`,
        `    "${"c".repeat(30)}",`,
        '    "d",',
        "  ]",
        "  after = var.x",
        '  path  = "${path.root}/http"',
        "}",
        "",
      ].join("\n"),
    );
  });

  it("refuses names that are not identifiers", () => {
    expect(() => attr("bad name", 1)).toThrow(/identifier/);
    expect(() => block("a{", [], [])).toThrow(/identifier/);
  });
});

describe("round trip through Packer's HCL parser", { timeout: 60_000 }, () => {
  const have = haveTools("packer");

  it.skipIf(!have)("packer console reads back every string (in NFC)", () => {
    const samples = fc.sample(fc.string({ unit: "grapheme", maxLength: 24 }), { numRuns: 150, seed: 4 });
    samples.push("${x}", "%{y}", '"\\', "$${", "%%{", "a\nb\r\tc", "\u0001\u001f\u007f", "{{ .Name }}", "$", "%");
    const dir = tempDir("hcl");
    try {
      const file = join(dir.dir, "strings.pkr.hcl");
      writeFileSync(
        file,
        renderHcl([
          ...samples.map((s, i) => block("variable", [`v${i}`], [attr("type", expr("string")), attr("default", s)])),
          block("source", ["null", "n"], [attr("communicator", "none")]),
          block("build", [], [attr("sources", ["source.null.n"])]),
        ]),
      );
      // One expression: packer console of 1.6.6 answers only one line of its input.
      const expression = `jsonencode([${samples.map((_, i) => `var.v${i}`).join(", ")}])`;
      const output = execFileSync("packer", ["console", file], {
        input: `${expression}\n`,
        env: packerTestEnv(dir.dir),
        cwd: dir.dir,
        encoding: "utf8",
        timeout: 60_000,
      });
      // HCL normalises string literals to Unicode NFC; spec values are ASCII anyway.
      expect(JSON.parse(output.trim())).toEqual(samples.map((s) => s.normalize("NFC")));
    } finally {
      dir.cleanup();
    }
  });
});

// Golden files: the whole rendered output of each example, byte for byte. Refresh deliberately
// with `npx vitest run test/render/golden.test.ts -u` and review the diff; CI never writes them.
import { readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { EXAMPLES } from "../helpers/cli.js";
import { exampleArtifacts } from "../helpers/plan.js";

const examples = readdirSync(EXAMPLES)
  .filter((f) => f.endsWith(".yaml"))
  .sort();

describe.each(examples)("golden output of examples/%s", (example) => {
  it("matches the reviewed files", async () => {
    const artifacts = await exampleArtifacts(example);
    const name = example.replace(/\.yaml$/, "");
    for (const artifact of artifacts) {
      await expect(
        typeof artifact.contents === "string" ? artifact.contents : Buffer.from(artifact.contents).toString("base64"),
      ).toMatchFileSnapshot(join("golden", name, artifact.path));
    }
    expect(artifacts.map((a) => a.path)).toContain("manifest.json");
    // and nothing else: a golden file that is no longer rendered is a file users no longer get
    const goldenDir = join(import.meta.dirname, "golden", name);
    const golden = readdirSync(goldenDir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => relative(goldenDir, join(e.parentPath, e.name)))
      .sort();
    expect(golden).toEqual(artifacts.map((a) => a.path).sort());
  });
});

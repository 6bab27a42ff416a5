// The version matrix: every rendered haproxy.cfg and keepalived.conf handed to each haproxy and
// keepalived release at or above the one its target ships (haproxy 2.0 → 3.5-dev, keepalived
// 2.0.19 → 2.3.4, built by scripts/build-matrix.sh), through the same checks as
// `validate --matrix`. A failure names the release.
import { chmod, mkdir, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { stringify } from "yaml";
import { describe, expect, it } from "vitest";
import { planCluster, type ClusterPlan } from "../../src/plan/plan.js";
import type { Artifact } from "../../src/render/artifact.js";
import { renderNodes } from "../../src/render/index.js";
import { atLeast, haproxyKeywordsBeyond } from "../../src/spec/releases.js";
import { checkSpecText } from "../../src/spec/index.js";
import { UsageError } from "../../src/errors.js";
import { findMatrix, matrixFor, runMatrixChecks, type MatrixBinary } from "../../src/tools/matrix.js";
import type { ToolVerdict } from "../../src/tools/file-checks.js";
import { pool } from "../../src/tools/run-checks.js";
import { EXAMPLES, runCli, tempDir } from "../helpers/cli.js";
import { loadMatrix, MATRIX_DIR } from "../helpers/matrix.js";
import { EXAMPLE_ENV, examplePlan, exampleArtifacts } from "../helpers/plan.js";
import { randomSpec } from "../helpers/random-spec.js";

const MATRIX = await loadMatrix();
const EXAMPLE_FILES = (await readdir(EXAMPLES)).filter((f) => f.endsWith(".yaml")).sort();
/** A handful of random specs × the whole matrix: each check is a process, the matrix has ~9 releases. */
const RANDOM_SPECS = 6;

const label = (v: ToolVerdict) => `${v.node}: ${v.command}\n${v.output}`;

/** Every release in `binaries` has a verdict for every node, and every verdict names its release. */
function expectCoverage(plan: ClusterPlan, binaries: readonly MatrixBinary[], verdicts: readonly ToolVerdict[]): void {
  expect(verdicts).toHaveLength(plan.nodes.length * binaries.length);
  for (const b of binaries) {
    const mine = verdicts.filter((v) => v.tool === b.tool && v.release === b.version);
    expect(mine.map((v) => v.node).sort(), `${b.tool} ${b.version}`).toEqual(plan.nodes.map((n) => n.name).sort());
    for (const v of mine) expect(v.command).toContain(`${b.tool} ${b.version} `);
  }
}

describe("findMatrix", () => {
  it("finds DIR/<tool>-<version>/bin/<tool> executables only, by release, and refuses a folder without any", async () => {
    const tmp = await tempDir("k8s-ha-matrix-layout-");
    try {
      const put = async (entry: string, tool: string, mode: number) => {
        await mkdir(join(tmp.dir, entry, "bin"), { recursive: true });
        await writeFile(join(tmp.dir, entry, "bin", tool), "#!/bin/sh\n");
        await chmod(join(tmp.dir, entry, "bin", tool), mode);
      };
      await expect(findMatrix(tmp.dir)).rejects.toThrow(UsageError);
      await put("haproxy-2.10.0", "haproxy", 0o755);
      await put("haproxy-2.4.0", "haproxy", 0o755);
      await put("keepalived-2.2.8", "keepalived", 0o644); // not executable
      await put("haproxy-latest", "haproxy", 0o755); // no version
      await put("nginx-1.2.3", "nginx", 0o755); // not a matrix tool
      const found = await findMatrix(tmp.dir);
      expect(found.map((b) => `${b.tool} ${b.version}`)).toEqual(["haproxy 2.4.0", "haproxy 2.10.0"]);
      expect(found[0]!.path).toBe(join(tmp.dir, "haproxy-2.4.0", "bin", "haproxy"));
      await expect(findMatrix(join(tmp.dir, "absent"))).rejects.toThrow(/--matrix .*absent: cannot read the folder/);
    } finally {
      await tmp.cleanup();
    }
  });

  it("skips releases older than the target's own: debian-12 (haproxy 2.6) is not held to haproxy 2.4", () => {
    const binaries: MatrixBinary[] = ["2.0.0", "2.4.0", "2.8.0", "3.5-dev5"].map((version) => ({
      tool: "haproxy",
      version,
      path: `/x/${version}`,
    }));
    const ubuntu = matrixFor(examplePlan("two-masters.yaml"), binaries);
    expect(ubuntu.older).toEqual([]);
    const plan = examplePlan("two-masters.yaml");
    const debian = matrixFor(
      { ...plan, target: { ...plan.target, releases: { haproxy: "2.6", keepalived: "2.2.7" } } },
      binaries,
    );
    expect(debian.older.map((b) => b.version)).toEqual(["2.0.0", "2.4.0"]);
    expect(debian.applies.map((b) => b.version)).toEqual(["2.8.0", "3.5-dev5"]);
  });
});

describe.skipIf(!MATRIX)("version matrix", () => {
  const matrix = MATRIX!;

  for (const example of EXAMPLE_FILES) {
    it(`examples/${example}: every release at or above its target's accepts haproxy.cfg and keepalived.conf`, async () => {
      const plan = examplePlan(example);
      const { applies } = matrixFor(plan, matrix);
      // every target is held to at least the newest haproxy and keepalived
      expect(new Set(applies.map((b) => b.tool))).toEqual(new Set(["haproxy", "keepalived"]));
      const verdicts = await runMatrixChecks(plan, await exampleArtifacts(example), applies);
      expectCoverage(plan, applies, verdicts);
      for (const v of verdicts) expect(v.ok, label(v)).toBe(true);
    }, 120_000);
  }

  it(`${RANDOM_SPECS} random valid specs pass every release (ubuntu-20.04: haproxy 2.0 up, keepalived 2.0.19 up)`, async () => {
    const runs = await pool(
      Array.from({ length: RANDOM_SPECS }, (_, i) => async () => {
        const seed = 1000 + i;
        const checked = checkSpecText(`random-${seed}.yaml`, stringify(randomSpec(seed)), {});
        if (!checked.spec) throw new Error(`random spec ${seed} is invalid`);
        const plan = planCluster(checked.spec, {});
        expect(matrixFor(plan, matrix).older).toEqual([]);
        return { seed, plan, verdicts: await runMatrixChecks(plan, renderNodes(plan), matrix) };
      }),
      2,
    );
    for (const { seed, plan, verdicts } of runs) {
      expectCoverage(plan, matrix, verdicts);
      for (const v of verdicts) expect(v.ok, `random spec seed ${seed}, ${label(v)}`).toBe(true);
    }
  }, 300_000);

  it("a keyword haproxy 2.0 lacks (http-check send, 2.2+) fails the matrix for ubuntu-20.04 on 2.0 only, naming the release", async () => {
    const plan = examplePlan("two-masters.yaml");
    expect(plan.target.os).toBe("ubuntu-20.04");
    const target = "nodes/master01/files/haproxy.cfg";
    const artifacts = (await exampleArtifacts("two-masters.yaml")).map((a): Artifact =>
      a.path === target
        ? {
            ...a,
            contents: String(a.contents).replace(
              "    option httpchk GET /healthz\n",
              "    option httpchk\n    http-check send meth GET uri /healthz\n",
            ),
          }
        : a,
    );
    const broken = String(artifacts.find((a) => a.path === target)!.contents);
    expect(broken).toContain("http-check send");
    // the renderer's own gate (spec/releases.ts) knows the keyword is beyond the target's haproxy
    expect(haproxyKeywordsBeyond(broken, plan.target.releases.haproxy).map((k) => k.keyword)).toEqual([
      "http-check send",
    ]);

    const haproxies = matrix.filter((b) => b.tool === "haproxy");
    const verdicts = await runMatrixChecks(plan, artifacts, haproxies);
    expectCoverage(plan, haproxies, verdicts);
    const failed = verdicts.filter((v) => !v.ok);
    expect(failed.map((v) => `${v.node} ${v.release}`)).toEqual(
      haproxies.filter((b) => b.version.startsWith("2.0.")).map((b) => `master01 ${b.version}`),
    );
    expect(failed[0]!.command).toMatch(/^haproxy 2\.0\.\d+ -c -f files\/haproxy\.cfg$/);
    expect(failed[0]!.output).toMatch(/http-check/);
  }, 120_000);

  it("the recipe's backend named like its frontend fails haproxy 3.2 (a warning, -dW) and 3.3+ (refused), not older releases", async () => {
    const plan = examplePlan("two-masters.yaml");
    const target = "nodes/master02/files/haproxy.cfg";
    const artifacts = (await exampleArtifacts("two-masters.yaml")).map((a): Artifact =>
      a.path === target ? { ...a, contents: String(a.contents).replace(/apiserverbackend/g, "apiserver") } : a,
    );
    expect(String(artifacts.find((a) => a.path === target)!.contents)).toMatch(/^backend apiserver$/m);
    const haproxies = matrix.filter((b) => b.tool === "haproxy");
    const verdicts = await runMatrixChecks(plan, artifacts, haproxies);
    const failed = verdicts.filter((v) => !v.ok);
    expect(failed.map((v) => `${v.node} ${v.release}`)).toEqual(
      haproxies.filter((b) => atLeast(b.version, "3.2")).map((b) => `master02 ${b.version}`),
    );
    expect(failed.length).toBeGreaterThan(0);
    for (const v of failed) expect(v.output, label(v)).toMatch(/same name as frontend/);
  }, 120_000);

  it("validate --matrix DIR checks with every release and names each; a missing DIR is a usage error (exit 2)", async () => {
    const spec = join(EXAMPLES, "two-masters.yaml");
    const result = await runCli(["validate", spec, "--matrix", MATRIX_DIR, "--format", "json"], { env: EXAMPLE_ENV });
    expect(result.code, result.stderr).toBe(0);
    const doc = JSON.parse(result.stdout);
    expect(doc.valid).toBe(true);
    expect(doc.tools.ran).toBe(false); // --tools off: only the matrix ran
    expect(doc.matrix.checked.map((b: MatrixBinary) => `${b.tool} ${b.version}`)).toEqual(
      matrix.map((b) => `${b.tool} ${b.version}`),
    );
    expect(doc.matrix.verdicts).toHaveLength(2 * matrix.length);
    for (const v of doc.matrix.verdicts) expect(v, JSON.stringify(v)).toMatchObject({ ok: true, output: "" });

    const text = await runCli(["validate", spec, "--matrix", MATRIX_DIR], { env: EXAMPLE_ENV });
    expect(text.code, text.stderr).toBe(0);
    for (const b of matrix)
      expect(text.stderr).toMatch(new RegExp(`^ok +master01 +${b.tool} ${b.version.replace(/\./g, "\\.")} `, "m"));

    const missing = await runCli(["validate", spec, "--matrix", join(MATRIX_DIR, "no-such-folder")], {
      env: EXAMPLE_ENV,
    });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--matrix .*no-such-folder: cannot read the folder/);
    expect(missing.stderr).toMatch(/hint: expected DIR\/<tool>-<version>\/bin\/<tool>/);
    expect(missing.stderr).not.toMatch(/\n\s+at /);
  }, 120_000);
});

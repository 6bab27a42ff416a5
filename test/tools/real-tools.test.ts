// The rendered files handed to the programs that will read them: haproxy, keepalived, shellcheck
// and cloud-init. For both examples through the CLI, and for 200 random valid specs.
import { execFile } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clusterArtifacts } from "../../src/pipeline/artifacts.js";
import { loadPackerAssets } from "../../src/packer/assets.js";
import type { PackerAssets } from "../../src/packer/render.js";
import { planCluster } from "../../src/plan/plan.js";
import type { Artifact } from "../../src/render/artifact.js";
import { checkSpecText } from "../../src/spec/index.js";
import { applicableChecks, FILE_CHECKS } from "../../src/tools/file-checks.js";
import { pool, runFileChecks } from "../../src/tools/run-checks.js";
import { EXAMPLES, runCli, tempDir } from "../helpers/cli.js";
import { EXAMPLE_ENV, examplePlan, exampleArtifacts } from "../helpers/plan.js";
import { randomSpec } from "../helpers/random-spec.js";
import { haveTools } from "../helpers/tools.js";

const run = promisify(execFile);

/** cloud-init's own Python (its script's #! line), which has the cloudinit package. */
async function cloudInitPython(script: string, input: string): Promise<string> {
  const { stdout: where } = await run("sh", ["-c", "command -v cloud-init"]);
  const shebang = (await readFile(where.trim(), "utf8")).split("\n")[0]!;
  const python = shebang.replace(/^#!\s*/, "").split(/\s+/)[0]!;
  return new Promise((resolve, reject) => {
    const child = execFile(python, [script], { maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) =>
      error ? reject(new Error(`${python} ${script} failed: ${stderr.slice(-2000)}`)) : resolve(stdout),
    );
    child.stdin!.end(input);
  });
}
const TOOLS = haveTools("haproxy", "keepalived", "shellcheck", "cloud-init", "packer", "ufw");

describe.skipIf(!TOOLS)("real tools", () => {
  for (const example of ["two-masters.yaml", "three-node-unicast.yaml"]) {
    it(`validate --tools required passes every check for examples/${example}`, async () => {
      const result = await runCli(["validate", join(EXAMPLES, example), "--tools", "required", "--format", "json"], {
        env: EXAMPLE_ENV,
      });
      expect(result.code, result.stdout + result.stderr).toBe(0);
      const doc = JSON.parse(result.stdout);
      const nodes = examplePlan(example).nodes.length;
      expect(doc.tools.missing).toEqual([]);
      const checks = applicableChecks(examplePlan(example), FILE_CHECKS);
      const perNode = checks.filter((c) => c.scope === "node").length;
      expect(doc.tools.verdicts).toHaveLength(nodes * perNode + checks.length - perNode);
      for (const v of doc.tools.verdicts) expect(v, JSON.stringify(v)).toMatchObject({ ok: true, output: "" });
    }, 180_000); // ufw starts Python once per rule: slow on a busy 2-core machine
  }

  // Each adapter must be able to fail: feed it a broken file and expect its program's complaint.
  const breakages: Array<[string, string, (text: string) => string, RegExp]> = [
    [
      "haproxy",
      "files/haproxy.cfg",
      (t) => t.replace("option httpchk GET /healthz", "option forwardfor"),
      /haproxy|forwardfor|Warning/i,
    ],
    [
      "keepalived",
      "files/keepalived.conf",
      (t) => t.replace("    advert_int 1", "    advert_int 1\n    bogus_keyword 3"),
      /Unknown keyword 'bogus_keyword'/,
    ],
    [
      "shellcheck",
      "files/check_apiserver.sh",
      (t) => t.replace('"https://localhost:${LB_PORT}/healthz"', "https://localhost:$LB_PORT/$1"),
      /SC2/,
    ],
    [
      "cloud-init",
      "user-data",
      (t) => t.replace("manage_etc_hosts: true", "manage_etc_hosts: [1, 2]"),
      /manage_etc_hosts/,
    ],
    [
      "cloud-init",
      "network-config",
      (t) =>
        t.replace(
          "addresses: [ 192.168.56.10/24 ]",
          "addresses: [ 192.168.56.10/24 ]\n    routes: [ { to: default, via: 192.168.56.1 } ]",
        ),
      /default is not a valid ip/,
    ],
    // ufw --dry-run parses a rule as first boot will (ufw 0.36: "ERROR: Bad port")
    ["ufw", "user-data", (t) => t.replace("[ ufw, allow, 1644/tcp,", "[ ufw, allow, 70000/tcp,"), /ERROR: Bad port/],
    ["packer", "packer/k8s-ha.pkr.hcl", (t) => t.replace(/format(\s+)= "ova"/, 'format$1= "vmdk-please"'), /format/],
  ];
  for (const [tool, file, mutate, complaint] of breakages) {
    it(`the ${tool} check rejects a broken ${file}`, async () => {
      const target = file.startsWith("packer/") ? file : `nodes/master01/${file}`;
      const artifacts = (await exampleArtifacts("two-masters.yaml")).map((a) =>
        a.path === target ? { ...a, contents: mutate(String(a.contents)) } : a,
      );
      expect(artifacts.find((a) => a.path === target)!.contents).not.toBe(
        (await exampleArtifacts("two-masters.yaml")).find((a) => a.path === target)!.contents,
      );
      // every check reads the shipped bytes (keepalived's only with the interface and script path moved)
      const checks = FILE_CHECKS.filter((c) => c.tool === tool && c.file === file);
      const { verdicts } = await runFileChecks(examplePlan("two-masters.yaml"), artifacts, checks);
      const failed = verdicts.filter((v) => !v.ok);
      expect(failed.map((v) => v.node)).toEqual([tool === "packer" ? "cluster" : "master01"]);
      expect(failed[0]!.output).toMatch(complaint);
    });
  }

  describe("200 random valid specs", () => {
    const SPECS = 200;
    let root: ReturnType<typeof tempDir>;
    const rendered: Array<{ seed: number; artifacts: Artifact[]; plan: ReturnType<typeof planCluster> }> = [];

    let assets: { packer: PackerAssets };

    beforeAll(async () => {
      root = tempDir("k8s-ha-random-");
      assets = { packer: await loadPackerAssets() };
      for (let seed = 1; seed <= SPECS; seed++) {
        const text = stringify(randomSpec(seed));
        const checked = checkSpecText(`random-${seed}.yaml`, text, {});
        if (!checked.spec)
          throw new Error(`random spec ${seed} is invalid: ${checked.findings.map((f) => f.message).join("; ")}`);
        const plan = planCluster(checked.spec, {});
        const artifacts = clusterArtifacts({
          file: "r",
          spec: checked.spec,
          plan,
          sha256: checked.sha256,
          findings: [],
          assets,
        });
        rendered.push({ seed, artifacts, plan });
        for (const a of artifacts) {
          const target = join(root.dir, String(seed), a.path);
          await mkdir(join(target, ".."), { recursive: true });
          await writeFile(target, a.contents, { mode: a.mode });
        }
      }
    });
    afterAll(async () => root.cleanup());

    it("render the same bytes twice", () => {
      for (const { seed } of rendered.slice(0, 50)) {
        const text = stringify(randomSpec(seed));
        const checked = checkSpecText(`random-${seed}.yaml`, text, {});
        const again = clusterArtifacts({
          file: "r",
          spec: checked.spec!,
          plan: planCluster(checked.spec!, {}),
          sha256: checked.sha256,
          findings: [],
          assets,
        });
        expect(again).toEqual(rendered[seed - 1]!.artifacts);
      }
    });

    it("haproxy -c -dW and keepalived -t accept every node's config", async () => {
      const checks = FILE_CHECKS.filter((c) => c.tool === "haproxy" || c.tool === "keepalived");
      let count = 0;
      // a few specs at once keep both cores busy: each check is a short-lived process
      const runs = await pool(
        rendered.map(
          ({ plan, artifacts }) =>
            () =>
              runFileChecks(plan, artifacts, checks),
        ),
        4,
      );
      runs.forEach(({ verdicts }, i) => {
        for (const v of verdicts)
          expect(v.ok, `spec seed ${rendered[i]!.seed}, node ${v.node}: ${v.command}\n${v.output}`).toBe(true);
        count += verdicts.length;
      });
      expect(count).toBe(rendered.reduce((n, r) => n + r.plan.nodes.length * 2, 0));
    }, 300_000);

    it("shellcheck passes every check script", async () => {
      const scripts = rendered.flatMap(({ seed, plan }) =>
        plan.nodes.map((n) => join(root.dir, String(seed), `nodes/${n.name}/files/check_apiserver.sh`)),
      );
      const result = await run("shellcheck", ["-s", "sh", "-f", "gcc", ...scripts], {
        maxBuffer: 64 * 1024 * 1024,
      }).catch((e) => e);
      expect(result.stdout ?? "", result.stderr).toBe("");
      expect(scripts.length).toBeGreaterThan(SPECS);
    }, 120_000);

    it("cloud-init accepts every user-data and network-config", async () => {
      const files = rendered.flatMap(({ seed, plan }) =>
        plan.nodes.flatMap((n) =>
          ["user-data", "network-config"].map((f) => join(root.dir, String(seed), `nodes/${n.name}/${f}`)),
        ),
      );
      const stdout = await cloudInitPython(join(import.meta.dirname, "cloud-init-batch.py"), files.join("\n"));
      const results = stdout
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line) as { file: string; ok: boolean; error?: string });
      expect(results).toHaveLength(files.length);
      for (const r of results) expect(r.ok, `${r.file}: ${r.error}`).toBe(true);
    }, 300_000);
  });
});

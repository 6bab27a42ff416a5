#!/usr/bin/env node
// Benchmark (issue 3, item 6): `k8s-ha seed` of a 3-node spec against three `cloud-localds` runs
// on the same user-data, meta-data and network-config — the way a user makes the same seeds
// without k8s-ha. Both sides are whole programs started from here, the way a user runs them:
//   k8s-ha:        node dist/k8s-ha.cjs seed examples/three-node-unicast.yaml -o DIR
//                  (loads and checks the spec, renders every file, writes 3 ISOs + manifest)
//   cloud-localds: cloud-localds -N network-config seed.iso user-data meta-data, once per node
//                  (genisoimage underneath; the files were rendered beforehand, not timed)
// Rounds alternate which side goes first. The ratio (k8s-ha / cloud-localds; < 1 means k8s-ha
// is faster) is the median of each round's own ratio: the machine's speed drifts within a run,
// and a round's two runs, back to back, see the same speed.
// A second ratio isolates the seed-making itself: the in-process ISO writer (buildSeeds on the
// already rendered files, then each ISO written to disk) against the same three cloud-localds
// runs; the CLI's number is mostly Node.js starting and loading the spec checker.
//
// Usage: npm run build && node bench/seed.mjs [--rounds N] [--json] [--max-ratio R]
// (the in-process part is bundled from src/ with esbuild, a devDependency)
// Needs cloud-localds (Debian: cloud-image-utils, which brings genisoimage).
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const BIN = join(ROOT, "dist/k8s-ha.cjs");
const SPEC = join(ROOT, "examples/three-node-unicast.yaml");
const ENV = { ...process.env, K8S_HA_VRRP_PASS: "s3cret" };

function option(name, fallback) {
  const i = process.argv.indexOf(name);
  return i === -1 ? fallback : process.argv[i + 1];
}
const rounds = Number(option("--rounds", "15"));
const maxRatio = option("--max-ratio", undefined);
const asJson = process.argv.includes("--json");

function run(program, args) {
  const result = spawnSync(program, args, { env: ENV, encoding: "utf8" });
  if (result.error) throw new Error(`${program}: ${result.error.message} (Debian: apt-get install cloud-image-utils)`);
  if (result.status !== 0) throw new Error(`${program} ${args.join(" ")} exited ${result.status}: ${result.stderr}`);
}

function timed(fn) {
  const start = performance.now();
  fn();
  return performance.now() - start;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

const work = mkdtempSync(join(tmpdir(), "k8s-ha-bench-seed-"));
try {
  // The inputs cloud-localds gets: the very files k8s-ha renders.
  const rendered = join(work, "rendered");
  run(process.execPath, [BIN, "render", SPEC, "-o", rendered]);
  const nodes = ["cp1", "cp2", "cp3"];

  const k8sHa = () => run(process.execPath, [BIN, "seed", SPEC, "-o", join(work, "k8s-ha")]);
  const localds = () => {
    for (const node of nodes) {
      const dir = join(rendered, "nodes", node);
      run("cloud-localds", [
        "-N",
        join(dir, "network-config"),
        join(work, `${node}-localds.iso`),
        join(dir, "user-data"),
        join(dir, "meta-data"),
      ]);
    }
  };

  // In-process: compile and render once, then time only making the three ISOs and writing them.
  // dist/ is one esbuild bundle, so the pieces are bundled here from src/ the same way.
  const { build } = await import("esbuild");
  const entry = join(work, "in-process.mjs");
  await build({
    absWorkingDir: ROOT,
    stdin: {
      contents: [
        'export { loadSpec } from "./src/spec/index.ts";',
        'export { planCluster } from "./src/plan/plan.ts";',
        'export { renderNodes } from "./src/render/index.ts";',
        'export { buildSeeds } from "./src/seed/seed-artifacts.ts";',
      ].join("\n"),
      resolveDir: ROOT,
      loader: "ts",
    },
    outfile: entry,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    banner: { js: 'import { createRequire as __r } from "node:module"; const require = __r(import.meta.url);' },
    logLevel: "warning",
  });
  const { loadSpec, planCluster, renderNodes, buildSeeds } = await import(entry);
  const checked = await loadSpec(SPEC, ENV);
  const plan = planCluster(checked.spec, ENV);
  const rendering = renderNodes(plan);
  const inProcessDir = join(work, "in-process");
  mkdirSync(inProcessDir);
  const inProcess = () => {
    for (const seed of buildSeeds(plan, rendering))
      writeFileSync(join(inProcessDir, `${seed.node}.iso`), seed.contents);
  };

  k8sHa();
  localds();
  inProcess(); // warm-up: page cache, JIT
  const times = { k8sHa: [], localds: [], inProcess: [], ratio: [] };
  for (let i = 0; i < rounds; i++) {
    let ours, theirs;
    if (i % 2 === 0) {
      ours = timed(k8sHa);
      theirs = timed(localds);
    } else {
      theirs = timed(localds);
      ours = timed(k8sHa);
    }
    times.k8sHa.push(ours);
    times.localds.push(theirs);
    // each round's own ratio: the machine's speed drifts within a run, a round's two runs see the same
    times.ratio.push(ours / theirs);
    times.inProcess.push(timed(inProcess));
  }
  const result = {
    rounds,
    medianMs: {
      k8sHaSeedCli: +median(times.k8sHa).toFixed(1),
      cloudLocaldsX3: +median(times.localds).toFixed(1),
      seedsInProcess: +median(times.inProcess).toFixed(2),
    },
    ratio: +median(times.ratio).toFixed(3),
    ratioInProcess: +(median(times.inProcess) / median(times.localds)).toFixed(4),
  };
  if (asJson) {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } else {
    const m = result.medianMs;
    process.stdout.write(
      `seed, 3 nodes, ${rounds} rounds (medians)\n` +
        `  k8s-ha seed (CLI, render + 3 ISOs + manifest)  ${m.k8sHaSeedCli.toFixed(1)} ms\n` +
        `  cloud-localds x3 (genisoimage)                ${m.cloudLocaldsX3.toFixed(1)} ms\n` +
        `  seeds in process (3 ISOs made and written)    ${m.seedsInProcess.toFixed(2)} ms\n` +
        `  ratio CLI / cloud-localds                     ${result.ratio.toFixed(3)}  (goal: <= 1)\n` +
        `  ratio in-process / cloud-localds              ${result.ratioInProcess.toFixed(4)}\n`,
    );
  }
  if (maxRatio !== undefined && result.ratio > Number(maxRatio)) {
    process.stderr.write(`bench/seed: ratio ${result.ratio} is above --max-ratio ${maxRatio}\n`);
    process.exitCode = 1;
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

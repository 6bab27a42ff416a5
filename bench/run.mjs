#!/usr/bin/env node
// Benchmarks of issues 2 and 13, reported as ratios against baselines measured in the same run:
//   render / validate (no tools)  vs  `node -e 0` (a bare Node start)      goal (render): <= 2.0
//   validate --tools auto         vs  the same tool commands run one by one by hand   goal: <= 0.6
// "The same": every command validate --tools runs for three-node-unicast, 5 per node
// (haproxy, keepalived, shellcheck, cloud-init schema, net-convert), `ufw --dry-run` for each
// allow rule of each node's runcmd, and `packer validate` once.
// k8s-ha's runs are after the first (the warm-up), as a user's are: V8's compile cache is filled.
// Usage: npm run bench [-- --rounds N]. Needs `npm run build` first; the tools for the last row.
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parse } from "yaml";

const root = resolve(import.meta.dirname, "..");
const bin = join(root, "dist/k8s-ha.cjs");
const roundsArg = process.argv.indexOf("--rounds");
const rounds = roundsArg > 0 ? Number(process.argv[roundsArg + 1]) : 15;
const work = mkdtempSync(join(tmpdir(), "k8s-ha-bench-"));
const env = { ...process.env, K8S_HA_VRRP_PASS: "s3cret" };

function time(argv, options = {}) {
  const start = process.hrtime.bigint();
  const result = spawnSync(argv[0], argv.slice(1), { env, stdio: ["ignore", "ignore", "pipe"], ...options });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0 && !options.allowFailure)
    throw new Error(`${argv.join(" ")} exited ${result.status}: ${result.stderr}`);
  return ms;
}

/** The middle of the samples (the upper one of an even count). */
const middle = (samples) => [...samples].sort((a, b) => a - b)[Math.floor(samples.length / 2)];

/** The `ufw allow …` commands of a node's runcmd, which validate --tools dry-runs. */
function ufwRules(userData) {
  const runcmd = parse(readFileSync(userData, "utf8")).runcmd ?? [];
  return runcmd.filter((c) => Array.isArray(c) && c[0] === "ufw" && c[1] === "allow");
}

function row(name, ms, ratio) {
  console.log(`${name.padEnd(68)} ${ms.toFixed(1).padStart(8)} ms   ${ratio.toFixed(2)}x`);
}

/**
 * `ours` against `baseline`, run in turn (one of each per round, after a warm-up of each). The
 * ratio is the median of each round's ratio, not the ratio of the two medians: this machine's
 * speed drifts by 20 % within a minute (a bare `node -e 0` took 104-154 ms within one run), and
 * a round's two runs, taken back to back, see the same speed. Returns the medians and the ratio.
 */
function paired(n, baseline, ours) {
  baseline();
  ours();
  const pairs = Array.from({ length: n }, () => {
    const base = baseline();
    return { base, ours: ours() };
  });
  return {
    base: middle(pairs.map((p) => p.base)),
    ours: middle(pairs.map((p) => p.ours)),
    ratio: middle(pairs.map((p) => p.ours / p.base)),
  };
}

const bareNode = () => time([process.execPath, "-e", "0"]);

/** A row: `fn` against a bare `node -e 0`, paired round by round. */
function againstNode(name, n, fn) {
  const { base, ours, ratio } = paired(n, bareNode, fn);
  row(`${name} vs node -e 0 (${base.toFixed(1)} ms)`, ours, ratio);
}

try {
  console.log(
    `rounds: ${rounds} (median); load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(" ")}\n`,
  );
  for (const example of ["two-masters.yaml", "three-node-unicast.yaml"]) {
    const spec = join(root, "examples", example);
    // again into the same folder (the edit-render loop: unchanged files are left as they are) and
    // into a new folder each time (every file written, through the staging folder)
    againstNode(`render ${example}`, rounds, () =>
      time([process.execPath, bin, "render", spec, "-o", join(work, "out")]),
    );
    let fresh = 0;
    againstNode(`render ${example}, new folder`, rounds, () =>
      time([process.execPath, bin, "render", spec, "-o", join(work, `new-${fresh++}`)]),
    );
    againstNode(`validate ${example}`, rounds, () => time([process.execPath, bin, "validate", spec]));
  }

  // validate --tools auto against the same programs run one after another, as a person would
  const spec = join(root, "examples", "three-node-unicast.yaml");
  const out = join(work, "by-hand");
  execFileSync(process.execPath, [bin, "render", spec, "-o", out], { env, stdio: "ignore" });
  const byHand = () => {
    let total = 0;
    for (const node of ["cp1", "cp2", "cp3"]) {
      const dir = join(out, "nodes", node);
      // keepalived -t needs an existing interface and a private script folder, as validate arranges
      const lab = mkdtempSync(join(work, "ka-"));
      cpSync(join(dir, "files/check_apiserver.sh"), join(lab, "check.sh"));
      const conf = execFileSync("sed", [
        "-e",
        "s/enp0s8/lo/",
        "-e",
        `s|/etc/keepalived/check_apiserver.sh|${lab}/check.sh|`,
        join(dir, "files/keepalived.conf"),
      ]);
      writeFileSync(join(lab, "k.conf"), conf);
      total += time(["haproxy", "-c", "-dW", "-f", join(dir, "files/haproxy.cfg")]);
      total += time(["keepalived", "-t", "-l", "-n", "-f", join(lab, "k.conf")], { allowFailure: true });
      total += time(["shellcheck", "-s", "sh", join(dir, "files/check_apiserver.sh")]);
      total += time(["cloud-init", "schema", "-c", join(dir, "user-data")]);
      total += time([
        "cloud-init",
        "devel",
        "net-convert",
        "-p",
        join(dir, "network-config"),
        "-k",
        "yaml",
        "-d",
        join(lab, "net"),
        "-D",
        "ubuntu",
        "-O",
        "networkd",
      ]);
      for (const rule of ufwRules(join(dir, "user-data"))) total += time(["ufw", "--dry-run", ...rule.slice(1)]);
      rmSync(lab, { recursive: true, force: true });
    }
    total += time(["packer", "validate", join(out, "packer/k8s-ha.pkr.hcl")], {
      env: { ...env, CHECKPOINT_DISABLE: "1" },
    });
    return total;
  };
  const commands =
    1 + ["cp1", "cp2", "cp3"].reduce((n, node) => n + 5 + ufwRules(join(out, "nodes", node, "user-data")).length, 0);
  const toolRounds = Math.max(5, Math.floor(rounds / 3));
  const tools = paired(toolRounds, byHand, () => time([process.execPath, bin, "validate", spec, "--tools", "auto"]));
  console.log(
    `\nbaseline: the ${commands} tool commands of validate --tools for three-node-unicast, one by one: ${tools.base.toFixed(1)} ms (median of ${toolRounds})`,
  );
  row("validate --tools auto three-node-unicast vs by hand", tools.ours, tools.ratio);
} finally {
  rmSync(work, { recursive: true, force: true });
}

// Hands every node's rendered files to the real programs that will read them, in parallel, from
// a private temp folder that is always removed.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { ClusterPlan } from "../plan/plan.js";
import type { Artifact } from "../render/artifact.js";
import { nodeDir } from "../render/paths.js";
import { startCloudInitBatch, type StartedBatch } from "./cloud-init-batch.js";
import { applicableChecks, FILE_CHECKS, toolTimeoutMs, type FileCheck, type ToolVerdict } from "./file-checks.js";
import { run, which, type RunResult } from "./run.js";

export interface ToolRun {
  verdicts: ToolVerdict[];
  /** Programs that were not found (their checks did not run). */
  missing: string[];
  /** Programs found, with their paths. */
  found: Record<string, string>;
}

/**
 * Runs `jobs` with at most `limit` at once; keeps their order in the result. After a failure or an
 * aborted `signal` (Ctrl-C) it starts no more jobs, waits for those running (their tools got the
 * signal, and the temp folder they read must outlive them), then throws.
 */
export async function pool<T>(
  jobs: ReadonlyArray<() => Promise<T>>,
  limit: number,
  signal?: AbortSignal,
): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (next < jobs.length && !failure && !signal?.aborted) {
      const i = next++;
      try {
        results[i] = await jobs[i]!();
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
  if (failure) throw failure.error;
  signal?.throwIfAborted();
  return results;
}

/** A program given by path with its release (a version-matrix binary), instead of the one on PATH. */
export interface ReleaseBinary {
  path: string;
  release: string;
}

/**
 * Runs the checks whose file the plan renders (no cloud-init checks for an Ignition target, no
 * ignition-validate for Ubuntu): a program that no file needs is neither looked for nor missing.
 * `binaries` names programs to run from a given path instead of PATH (validate --matrix).
 */
export async function runFileChecks(
  plan: ClusterPlan,
  artifacts: readonly Artifact[],
  requested: readonly FileCheck[] = FILE_CHECKS,
  binaries: Readonly<Record<string, ReleaseBinary>> = {},
  signal?: AbortSignal,
): Promise<ToolRun> {
  const checks = applicableChecks(plan, requested);
  const found: Record<string, string> = {};
  const missing: string[] = [];
  const isRoot = process.getuid?.() === 0;
  for (const program of [...new Set(checks.map((c) => c.program))]) {
    const path = await which(binaries[program]?.path ?? program);
    if (path && !isRoot && checks.some((c) => c.program === program && c.needsRoot))
      missing.push(`${program} (needs root)`);
    else if (path) found[program] = path;
    else missing.push(program);
  }
  const shared = new Map<string, Promise<RunResult>>();
  let batch: StartedBatch | undefined;
  const runShared: typeof run = async (binary, args, options) => {
    const answer = await batch?.answer(binary, args);
    if (answer) return answer;
    const key = JSON.stringify([binary, args]);
    if (!shared.has(key)) shared.set(key, run(binary, args, options));
    return shared.get(key)!;
  };
  const root = await mkdtemp(join(tmpdir(), "k8s-ha-validate-"));
  try {
    const nodeJobs: Array<() => Promise<ToolVerdict>> = [];
    const clusterJobs: Array<() => Promise<ToolVerdict>> = [];
    const batchCommands: string[][] = [];
    const stage = async (dir: string, files: readonly Artifact[], strip: string) => {
      for (const artifact of files) {
        const target = join(dir, artifact.path.slice(strip.length));
        await mkdir(dirname(target), { recursive: true, mode: 0o700 });
        await writeFile(target, artifact.contents, { mode: artifact.mode });
      }
    };
    for (const node of plan.nodes) {
      const dir = join(root, "nodes", node.name);
      const prefix = `${nodeDir(node.name)}/`;
      await stage(
        dir,
        artifacts.filter((a) => a.path.startsWith(prefix)),
        prefix,
      );
      for (const check of checks.filter((c) => c.scope === "node")) {
        const binary = found[check.program];
        if (!binary) continue;
        const ctx = { plan, node, dir, binary, release: binaries[check.program]?.release, runShared };
        if (check.batchArgs && check.program === "cloud-init") batchCommands.push(check.batchArgs(ctx));
        nodeJobs.push(() => check.check(ctx));
      }
    }
    const clusterChecks = checks.filter((c) => c.scope === "cluster");
    if (clusterChecks.length > 0) {
      const dir = join(root, "cluster");
      await stage(
        dir,
        artifacts.filter((a) => !a.path.startsWith("nodes/")),
        "",
      );
      for (const check of clusterChecks) {
        const binary = found[check.program];
        if (binary) clusterJobs.push(() => check.check({ plan, dir, binary }));
      }
    }
    // cloud-init's commands run in one interpreter beside the pool, from the start: its CPU is
    // spent while the pool's two workers run the other tools
    if (batchCommands.length > 0) {
      batch = startCloudInitBatch(found["cloud-init"]!, batchCommands, {
        timeoutMs: toolTimeoutMs() * batchCommands.length,
      });
    }
    // The cluster's checks start first, reported last: `packer validate` is the longest single job,
    // and queued last it ran alone at the end while the other worker had nothing left to do.
    const done = await pool([...clusterJobs, ...nodeJobs], Math.max(2, availableParallelism()), signal);
    const verdicts = [...done.slice(clusterJobs.length), ...done.slice(0, clusterJobs.length)];
    return { verdicts, missing, found };
  } finally {
    await batch?.settled;
    await rm(root, { recursive: true, force: true });
  }
}

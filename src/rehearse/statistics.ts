// `rehearse --runs N`: every scenario N times, each run in a fresh lab, summarised as p50, p95 and
// max per scenario. One sample says little about a timing on a shared machine; the tail does.
import type { RehearseOptions, RehearseResult } from "./index.js";
import type { ScenarioId } from "./scenarios.js";
import { stderr } from "../terminal.js";

export interface ScenarioStats {
  id: ScenarioId;
  title: string;
  runs: number;
  passed: number;
  failed: number;
  /** Seconds, over the runs that measured a time; undefined when none did. */
  p50?: number;
  p95?: number;
  max?: number;
}

export interface RunsResult {
  passed: boolean;
  runs: RehearseResult[];
  /** Runs that failed on a busy machine and were repeated once; the repeat is the one in `runs`. */
  retried: { run: number; failed: ScenarioId[]; maxGapMs: number }[];
  stats: ScenarioStats[];
}

/** A sampler gap this long means the machine was too busy to time anything (the sampler runs every 50 ms). */
export const BUSY_GAP_MS = 100;

/** Nearest-rank percentile of ascending `sorted` (p in 0..100). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) throw new Error("percentile of nothing");
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function summarize(results: readonly RehearseResult[]): ScenarioStats[] {
  const byId = new Map<ScenarioId, ScenarioStats & { times: number[] }>();
  for (const result of results) {
    for (const s of result.scenarios) {
      const stats = byId.get(s.id) ?? { id: s.id, title: s.title, runs: 0, passed: 0, failed: 0, times: [] };
      stats.runs++;
      if (s.verdict === "pass") stats.passed++;
      if (s.verdict === "fail") stats.failed++;
      if (s.seconds !== undefined && s.verdict !== "skip") stats.times.push(s.seconds);
      byId.set(s.id, stats);
    }
  }
  return [...byId.values()].map(({ times, ...stats }) => {
    const sorted = [...times].sort((a, b) => a - b);
    return sorted.length === 0
      ? stats
      : { ...stats, p50: percentile(sorted, 50), p95: percentile(sorted, 95), max: sorted.at(-1)! };
  });
}

/**
 * Runs rehearse `runs` times in fresh labs. A run that failed while the sampler saw the machine
 * stall (a gap over BUSY_GAP_MS: a CI runner sharing its cores with a VM boot) is repeated once,
 * and the repeat is reported as such: a real defect fails again, a starved timer does not.
 */
export async function rehearseRuns(
  rehearse: (options: RehearseOptions) => Promise<RehearseResult>,
  options: RehearseOptions,
  runs: number,
): Promise<RunsResult> {
  const log = options.log ?? ((line: string) => stderr.write(`${line}\n`));
  const results: RehearseResult[] = [];
  const retried: RunsResult["retried"] = [];
  for (let run = 1; run <= runs; run++) {
    if (runs > 1) log(`run ${run} of ${runs}`);
    let result = await rehearse(options);
    if (!result.passed && result.sampling.maxGapMs > BUSY_GAP_MS && !result.lab.kept) {
      const failed = result.scenarios.filter((s) => s.verdict === "fail").map((s) => s.id);
      log(
        `run ${run} failed (${failed.join(", ")}) while the machine was busy (sampler gap ${result.sampling.maxGapMs} ms): running it once more`,
      );
      retried.push({ run, failed, maxGapMs: result.sampling.maxGapMs });
      result = await rehearse(options);
    }
    results.push(result);
  }
  return { passed: results.every((r) => r.passed), runs: results, retried, stats: summarize(results) };
}

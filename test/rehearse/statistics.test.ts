// rehearse --runs: percentiles, the per-scenario summary, and the one retry a run gets when the
// machine stalled. The lab itself is real in examples.test.ts; here `rehearse` is a recorded list
// of results, so the arithmetic and the retry rule can be checked exactly.
import { describe, expect, it } from "vitest";
import type { RehearseResult } from "../../src/rehearse/index.js";
import type { ScenarioResult } from "../../src/rehearse/scenarios.js";
import { BUSY_GAP_MS, percentile, rehearseRuns, summarize } from "../../src/rehearse/statistics.js";
import { planOfFile } from "../helpers/plan.js";

function result(scenarios: Partial<ScenarioResult>[], maxGapMs = 60): RehearseResult {
  const full = scenarios.map(
    (s) => ({ id: "keepalived-stop", title: "t", verdict: "pass", detail: "", ...s }) as ScenarioResult,
  );
  return {
    cluster: "lab",
    passed: full.every((s) => s.verdict !== "fail"),
    scenarios: full,
    rewrites: [],
    sampling: { intervalMs: 50, samples: 100, maxGapMs, overlaps: [] },
    holders: [],
    lab: {
      id: "abc123",
      dir: "/tmp/x",
      namespaces: [],
      client: "10.0.2.254",
      url: "https://10.0.2.100:1644/healthz",
      kept: false,
    },
  };
}

describe("percentile (nearest rank)", () => {
  it("picks the value at ceil(p/100 × n)", () => {
    const twenty = Array.from({ length: 20 }, (_, i) => i + 1);
    expect(percentile(twenty, 50)).toBe(10);
    expect(percentile(twenty, 95)).toBe(19);
    expect(percentile(twenty, 100)).toBe(20);
    expect(percentile([3.2], 95)).toBe(3.2);
    expect(percentile([1, 2], 0)).toBe(1);
    expect(() => percentile([], 50)).toThrow();
  });
});

describe("summarize", () => {
  it("counts verdicts and takes p50/p95/max over the runs that measured a time", () => {
    const runs = [1.1, 0.7, 3.9, 0.8, 0.9].map((seconds) =>
      result([{ id: "keepalived-stop", seconds }, { id: "single-holder" }]),
    );
    runs.push(
      result([
        { id: "keepalived-stop", verdict: "fail", seconds: 9 },
        { id: "single-holder", verdict: "skip" },
      ]),
    );
    const [stop, single] = summarize(runs);
    expect(stop).toEqual({
      id: "keepalived-stop",
      title: "t",
      runs: 6,
      passed: 5,
      failed: 1,
      p50: 0.9,
      p95: 9,
      max: 9,
    });
    // no times: no percentiles rather than zeros
    expect(single).toEqual({ id: "single-holder", title: "t", runs: 6, passed: 5, failed: 0 });
  });
});

describe("rehearseRuns", () => {
  const script = (results: RehearseResult[]) => {
    let calls = 0;
    return { run: async () => results[calls++]!, calls: () => calls };
  };

  it("repeats a run once when it failed on a stalled machine, and reports it", async () => {
    const plan = await planOfFile("examples/two-masters.yaml");
    const stalled = result([{ id: "haproxy-stop", verdict: "fail" }], BUSY_GAP_MS + 50);
    const fake = script([result([{ seconds: 1 }]), stalled, result([{ seconds: 2 }])]);
    const all = await rehearseRuns(fake.run, { plan, log: () => {} }, 2);
    expect(fake.calls()).toBe(3);
    expect(all.passed).toBe(true);
    expect(all.retried).toEqual([{ run: 2, failed: ["haproxy-stop"], maxGapMs: BUSY_GAP_MS + 50 }]);
    expect(all.runs).toHaveLength(2);
  });

  it("does not repeat a failure on an idle machine: a real defect fails the runs", async () => {
    const plan = await planOfFile("examples/two-masters.yaml");
    const fake = script([result([{ id: "haproxy-stop", verdict: "fail" }], 60), result([{ seconds: 1 }])]);
    const all = await rehearseRuns(fake.run, { plan, log: () => {} }, 2);
    expect(fake.calls()).toBe(2);
    expect(all.passed).toBe(false);
    expect(all.retried).toEqual([]);
  });
});

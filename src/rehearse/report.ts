// The rehearsal's verdicts for people (a table on stdout) and for scripts (one JSON document).
import type { RehearseResult } from "./index.js";
import type { RunsResult } from "./statistics.js";

const time = (seconds: number | undefined) => (seconds === undefined ? "-" : `${seconds.toFixed(1)} s`);

export function formatTable(result: RehearseResult): string {
  const rows = result.scenarios.map((s) => [s.title, s.verdict.toUpperCase(), time(s.seconds)] as const);
  const width = Math.max("SCENARIO".length, ...rows.map(([title]) => title.length));
  const line = (a: string, b: string, c: string) => `${a.padEnd(width)}  ${b.padEnd(7)}  ${c}`;
  const out = [line("SCENARIO", "VERDICT", "TIME")];
  for (const [i, [title, verdict, seconds]] of rows.entries()) {
    out.push(line(title, verdict, seconds), `    ${result.scenarios[i]!.detail}`);
  }
  const counts = (["pass", "fail", "skip"] as const)
    .map((v) => [v, result.scenarios.filter((s) => s.verdict === v).length] as const)
    .filter(([, n]) => n > 0)
    .map(([v, n]) => `${n} ${v === "pass" ? "passed" : v === "fail" ? "failed" : "skipped"}`);
  out.push("", `cluster ${result.cluster}: ${result.scenarios.length} scenarios, ${counts.join(", ")}`);
  // paths shown relative to the lab folder: the same rewrite on every node then reads the same
  const dir = result.lab.dir;
  out.push("", `The lab ran the rendered files as they are, except these paths (LAB = ${dir}):`);
  for (const r of result.rewrites) out.push(`  ${r.node}  ${r.where}: ${r.vm}  →  ${r.lab.split(dir).join("LAB")}`);
  if (result.lab.kept) {
    out.push(
      "",
      `The lab is still up (--keep): namespaces ${result.lab.namespaces.join(", ")}; files in ${result.lab.dir}`,
      `  look around:   ip netns exec ${result.lab.namespaces[1]} ip -4 addr`,
      `  ask the VIP:   ip netns exec ${result.lab.namespaces[0]} curl -sk ${result.lab.url}`,
      `  fail an apiserver: echo fail > ${result.lab.dir}/<node>/apiserver-mode   (echo ok to heal)`,
      `  remove it:     sh ${result.lab.removeScript}`,
    );
  }
  return `${out.join("\n")}\n`;
}

/** The JSON document of `rehearse --json`. */
export function resultJson(result: RehearseResult, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...extra, ...result };
}

const stat = (value: number | undefined) => (value === undefined ? "-" : value.toFixed(1));

/** `rehearse --runs N`: one row per scenario, times in seconds over the runs that measured one. */
export function formatStats(result: RunsResult): string {
  const rows = result.stats.map((s) => [s.id, `${s.passed}/${s.runs}`, stat(s.p50), stat(s.p95), stat(s.max)]);
  const header = ["SCENARIO", "PASSED", "P50 s", "P95 s", "MAX s"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  const out = [line(header), ...rows.map(line)];
  out.push(
    "",
    `${result.runs.length} runs, each in a fresh lab: ${result.runs.filter((r) => r.passed).length} passed every scenario`,
  );
  for (const r of result.retried)
    out.push(
      `  run ${r.run} was repeated: it failed ${r.failed.join(", ")} while the machine stalled (sampler gap ${r.maxGapMs} ms)`,
    );
  const failures = result.runs.flatMap((run, i) =>
    run.scenarios.filter((s) => s.verdict === "fail").map((s) => `  run ${i + 1}: ${s.id}: ${s.detail}`),
  );
  if (failures.length > 0) out.push("", "Failures:", ...failures);
  return `${out.join("\n")}\n`;
}

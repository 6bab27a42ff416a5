// The rehearsal's verdicts for people (a table on stdout) and for scripts (one JSON document).
import type { RehearseResult } from "./index.js";

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

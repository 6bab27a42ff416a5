// rehearse: run the rendered keepalived and haproxy configs in network namespaces and prove that
// the VIP fails over. Exit 1 when a scenario fails, 3 when the machine lacks what a lab needs,
// 130 after Ctrl-C (the lab is removed first).
import { planCluster, type ClusterPlan } from "../../plan/plan.js";
import { hasErrors, type Finding } from "../../spec/findings.js";
import { loadSpec } from "../../spec/index.js";
import { EXIT, ExitError, UsageError } from "../../errors.js";
import { DEFAULT_SPEC } from "../defaults.js";
import { findingJson, printFindings, summary } from "../report.js";
import { stderr, stdout } from "../../terminal.js";

/** Enough for the statistics docs/rehearsal-faults.md asks for (30), bounded so a typo cannot run for days. */
const MAX_RUNS = 200;

function parseRuns(value: string | undefined, keep: boolean): number {
  const runs = value === undefined ? 1 : Number(value);
  if (!Number.isInteger(runs) || runs < 1 || runs > MAX_RUNS || !/^[0-9]+$/.test(value ?? "1")) {
    throw new UsageError(`--runs ${value}: not a whole number from 1 to ${MAX_RUNS}`, "e.g. --runs 30 for p95 figures");
  }
  if (runs > 1 && keep)
    throw new UsageError(
      "--keep keeps one lab: it cannot go with --runs above 1",
      "drop --keep, or run once with --keep to look around",
    );
  return runs;
}

export async function runRehearse(
  spec: string | undefined,
  options: { json?: boolean; keep?: boolean; acceptInvalid?: boolean; runs?: string },
): Promise<void> {
  const file = spec ?? DEFAULT_SPEC;
  const runs = parseRuns(options.runs, options.keep === true);
  const { plan, findings } = await planForRehearsal(file, options.acceptInvalid === true);
  // the lab module is loaded only now: it is the heaviest part of the CLI (STYLE.md 5)
  const { rehearse, rehearseRuns, formatStats, formatTable, resultJson } = await import("../../rehearse/index.js");

  const { watchInterrupts } = await import("../../tools/run.js");
  const interrupts = watchInterrupts({
    cleanup: "removing the lab",
    leftBehind: "the lab's namespaces may remain: run the remove-lab.sh named above",
  });
  try {
    const all = await rehearseRuns(rehearse, { plan, keep: options.keep === true, signal: interrupts.signal }, runs);
    const context = { file, findings: findings.map(findingJson), acceptedInvalid: hasErrors(findings) };
    const result = all.runs[0]!;
    if (options.json) {
      const document =
        runs === 1
          ? resultJson(result, { ...context, retried: all.retried })
          : { ...context, passed: all.passed, retried: all.retried, stats: all.stats, runs: all.runs };
      stdout.write(`${JSON.stringify(document, null, 2)}\n`);
    } else {
      stdout.write(runs === 1 ? formatTable(result) : formatStats(all));
    }
    if (!all.passed) {
      const failed = [
        ...new Set(all.runs.flatMap((r) => r.scenarios.filter((s) => s.verdict === "fail").map((s) => s.id))),
      ];
      throw new ExitError(
        EXIT.invalid,
        `${file}: failover rehearsal failed: ${failed.join(", ")}${runs > 1 ? ` (in ${all.runs.filter((r) => !r.passed).length} of ${runs} runs)` : ""}`,
      );
    }
  } finally {
    interrupts.dispose();
  }
}

/**
 * The plan of a valid spec; with acceptInvalid, also of one whose shape is right but which the
 * semantic checks reject (its findings are printed as warnings): rehearsing such a spec is how
 * to see that the checks are right, e.g. that the recipe's priorities never move the VIP.
 */
async function planForRehearsal(
  file: string,
  acceptInvalid: boolean,
): Promise<{ plan: ClusterPlan; findings: Finding[] }> {
  const checked = await loadSpec(file, process.env);
  const invalid = hasErrors(checked.findings);
  if (invalid && acceptInvalid && checked.parsed) {
    const asWarnings = checked.findings.map((f) => ({ ...f, severity: "warning" as const }));
    printFindings(asWarnings, "text");
    stderr.write(
      `k8s-ha: --accept-invalid: rehearsing ${file} although the checks reject it (${summary(checked.findings)})\n`,
    );
    try {
      return { plan: planCluster(checked.parsed, process.env), findings: checked.findings };
    } catch (error) {
      throw new ExitError(
        EXIT.invalid,
        `${file}: cannot be rehearsed even with --accept-invalid: ${(error as Error).message}`,
      );
    }
  }
  printFindings(checked.findings, "text");
  if (invalid || !checked.spec) {
    const hint = checked.parsed
      ? "--accept-invalid rehearses it anyway, to show what the findings mean in practice"
      : undefined;
    throw new ExitError(EXIT.invalid, `${file}: ${summary(checked.findings)}; nothing was rehearsed`, hint);
  }
  return { plan: planCluster(checked.spec, process.env), findings: checked.findings };
}

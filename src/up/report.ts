// The tables `up`, `status` and `up --rehearse` print, and their --json documents.
import type { FaultResult } from "./faults.js";
import type { NodeReport } from "./report-types.js";

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return (
    rows
      .map((r) =>
        r
          .map((cell, i) => cell.padEnd(widths[i]!))
          .join("  ")
          .trimEnd(),
      )
      .join("\n") + "\n"
  );
}

export function nodesTable(nodes: readonly NodeReport[], holder: string | undefined): string {
  return table([
    ["NODE", "STATE", "ADDRESS", "VIP", "READY AFTER", "THIS RUN"],
    ...nodes.map((n) => [
      n.node,
      n.state,
      n.address,
      n.node === holder ? "holder" : "-",
      n.readySeconds !== undefined ? `${n.readySeconds} s` : "-",
      n.action,
    ]),
  ]);
}

export function faultsTable(results: readonly FaultResult[]): string {
  return table([
    ["FAULT", "HOLDER", "NEW HOLDER", "FAILOVER", "HEALED AFTER", "VERDICT"],
    ...results.map((r) => [
      r.fault,
      r.holder,
      r.newHolder ?? "-",
      r.failoverSeconds !== undefined ? `${r.failoverSeconds} s` : "-",
      r.healSeconds !== undefined ? `${r.healSeconds} s` : "-",
      r.passed ? "pass" : "FAIL",
    ]),
  ]);
}

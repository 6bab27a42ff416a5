// A version matrix: the haproxy and keepalived releases in a folder (DIR/<tool>-<version>/bin/<tool>,
// the layout of the project's matrix build cache), each handed the same files as the one on PATH.
// A target's files must pass its own release and every newer one (users upgrade; `haproxy:latest`);
// releases older than the one the target ships are skipped, and said so.
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import type { ClusterPlan } from "../plan/plan.js";
import type { Artifact } from "../render/artifact.js";
import { atLeast } from "../spec/releases.js";
import { UsageError } from "../errors.js";
import { FILE_CHECKS, type ToolVerdict } from "./file-checks.js";
import { runFileChecks } from "./run-checks.js";
import { which } from "./run.js";

/** The programs a matrix holds releases of: the two that read the configs we render. */
export const MATRIX_TOOLS = ["haproxy", "keepalived"] as const;
export type MatrixTool = (typeof MATRIX_TOOLS)[number];

export interface MatrixBinary {
  tool: MatrixTool;
  version: string;
  path: string;
}

const ENTRY = /^(haproxy|keepalived)-(\d+\.\d+[0-9A-Za-z.-]*)$/;

/** Numeric parts first, so that 2.10 sorts after 2.4; a "-dev" release after its base name's peers. */
function byRelease(a: MatrixBinary, b: MatrixBinary): number {
  if (a.tool !== b.tool) return a.tool < b.tool ? -1 : 1;
  return a.version.localeCompare(b.version, "en", { numeric: true });
}

/** Every executable DIR/<tool>-<version>/bin/<tool>, by tool and release. Throws UsageError when there is none. */
export async function findMatrix(dir: string): Promise<MatrixBinary[]> {
  const layout = "expected DIR/<tool>-<version>/bin/<tool>, e.g. DIR/haproxy-2.8.0/bin/haproxy";
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (error) {
    throw new UsageError(
      `--matrix ${dir}: cannot read the folder (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
      layout,
    );
  }
  const found: MatrixBinary[] = [];
  for (const entry of entries) {
    const match = ENTRY.exec(entry);
    if (!match) continue;
    const tool = match[1] as MatrixTool;
    const path = await which(join(dir, entry, "bin", tool));
    if (path) found.push({ tool, version: match[2]!, path });
  }
  if (found.length === 0) throw new UsageError(`--matrix ${dir}: no haproxy or keepalived release found`, layout);
  return found.sort(byRelease);
}

/** Splits a matrix into the releases that must accept the plan's files and those older than its target's. */
export function matrixFor(
  plan: ClusterPlan,
  binaries: readonly MatrixBinary[],
): { applies: MatrixBinary[]; older: MatrixBinary[] } {
  const applies: MatrixBinary[] = [];
  const older: MatrixBinary[] = [];
  for (const binary of binaries)
    (atLeast(binary.version, plan.target.releases[binary.tool]) ? applies : older).push(binary);
  return { applies, older };
}

/** Hands the plan's haproxy.cfg and keepalived.conf to each release that applies; verdicts name the release. */
export async function runMatrixChecks(
  plan: ClusterPlan,
  artifacts: readonly Artifact[],
  binaries: readonly MatrixBinary[],
  signal?: AbortSignal,
): Promise<ToolVerdict[]> {
  const verdicts: ToolVerdict[] = [];
  for (const binary of binaries) {
    const checks = FILE_CHECKS.filter((c) => c.program === binary.tool);
    const run = await runFileChecks(
      plan,
      artifacts,
      checks,
      { [binary.tool]: { path: binary.path, release: binary.version } },
      signal,
    );
    verdicts.push(...run.verdicts);
  }
  return verdicts;
}

// validate: the spec's findings, then (with --tools) the verdicts of the real programs that will
// read each rendered file. Exit 1 when anything is invalid; 3 when --tools required finds a tool missing.
import { loadPackerAssets } from "../../packer/assets.js";
import { planCluster } from "../../plan/plan.js";
import { hasErrors } from "../../spec/findings.js";
import { loadSpec } from "../../spec/index.js";
import { runFileChecks, type ToolRun } from "../../tools/run-checks.js";
import { findMatrix, matrixFor, runMatrixChecks, type MatrixBinary } from "../../tools/matrix.js";
import { installHint } from "../../tools/run.js";
import { clusterArtifacts } from "../../pipeline/artifacts.js";
import { EXIT, ExitError } from "../../errors.js";
import { DEFAULT_SPEC } from "../defaults.js";
import { findingJson, formatFindingGithub, printFindings, summary, type Format } from "../report.js";

export interface ValidateOptions {
  tools: "auto" | "required" | "off";
  format: Format;
  /** A folder of haproxy/keepalived releases (DIR/<tool>-<version>/bin/<tool>) to check the configs with too. */
  matrix?: string;
}

/** What --matrix ran: the releases used, those skipped as older than the target's, their verdicts. */
interface MatrixRun {
  dir: string;
  checked: MatrixBinary[];
  older: MatrixBinary[];
  /** The releases the target ships (older ones are skipped). */
  shipped: Record<MatrixBinary["tool"], string>;
  run: ToolRun;
}

export async function runValidate(specPath: string | undefined, options: ValidateOptions): Promise<void> {
  const file = specPath ?? DEFAULT_SPEC;
  const binaries = options.matrix === undefined ? undefined : await findMatrix(options.matrix);
  const checked = await loadSpec(file, process.env);
  const specValid = !hasErrors(checked.findings);
  let tools: ToolRun | undefined;
  let matrix: MatrixRun | undefined;
  if (checked.spec && specValid) {
    const plan = planCluster(checked.spec, process.env);
    if (options.tools !== "off" || binaries) {
      const artifacts = clusterArtifacts({ plan, sha256: checked.sha256, assets: { packer: await loadPackerAssets() } });
      if (options.tools !== "off") tools = await runFileChecks(plan, artifacts);
      if (binaries) {
        const { applies, older } = matrixFor(plan, binaries);
        const verdicts = await runMatrixChecks(plan, artifacts, applies);
        matrix = { dir: options.matrix!, checked: applies, older, shipped: plan.target.releases, run: { verdicts, missing: [], found: {} } };
      }
    }
  }
  const toolsFailed = [...(tools?.verdicts ?? []), ...(matrix?.run.verdicts ?? [])].some((v) => !v.ok);
  const missingRequired = options.tools === "required" && (tools?.missing.length ?? 0) > 0;

  if (options.format === "json") {
    const document = {
      file,
      valid: specValid && !toolsFailed && !missingRequired,
      findings: checked.findings.map(findingJson),
      tools:
        options.tools === "off" || !tools
          ? { mode: options.tools, ran: false }
          : { mode: options.tools, ran: true, missing: tools.missing, verdicts: tools.verdicts },
      ...(matrix ? { matrix: { dir: matrix.dir, checked: matrix.checked, older: matrix.older, verdicts: matrix.run.verdicts } } : {}),
    };
    process.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
  } else {
    printFindings(checked.findings, options.format, options.format === "github" ? process.stdout : process.stderr);
    if (tools) printToolRun(tools, options);
    if (matrix) printMatrixRun(matrix, options);
  }

  if (!specValid) throw new ExitError(EXIT.invalid, options.format === "json" ? "" : `${file}: ${summary(checked.findings)}`);
  if (missingRequired) {
    const missing = tools!.missing;
    throw new ExitError(EXIT.external, `--tools required: ${missing.join(", ")} not found`, missing.map((m) => `${m}: ${installHint(m)}`).join("; "));
  }
  if (toolsFailed) throw new ExitError(EXIT.invalid, options.format === "json" ? "" : `${file}: a tool rejected a rendered file`);
  if (options.format === "text") {
    const ran = tools ? `; ${tools.verdicts.length} tool checks passed` : "";
    const releases = matrix ? `; ${matrix.run.verdicts.length} checks with ${matrix.checked.length} releases passed` : "";
    process.stderr.write(`${file}: valid (${summary(checked.findings)}${ran}${releases})\n`);
  }
}

function printToolRun(tools: ToolRun, options: ValidateOptions): void {
  for (const program of tools.missing) {
    const line = `${program} not found: its checks did not run (${installHint(program)})`;
    if (options.format === "github") {
      process.stdout.write(`::${options.tools === "required" ? "error" : "warning"} title=${program}::${line}\n`);
    } else process.stderr.write(`${options.tools === "required" ? "error" : "warning"}: ${line}\n`);
  }
  for (const v of tools.verdicts) {
    if (options.format === "github") {
      if (!v.ok) {
        process.stdout.write(
          `${formatFindingGithub({ severity: "error", file: `nodes/${v.node}/${v.file}`, line: 0, col: 0, path: [v.tool], message: `${v.command}: ${v.output}` })}\n`,
        );
      }
      continue;
    }
    process.stdout.write(`${v.ok ? "ok  " : "FAIL"}  ${v.node.padEnd(12)}  ${v.command}\n`);
    if (!v.ok) process.stdout.write(`${v.output.replace(/^/gm, "        ")}\n`);
  }
}

function printMatrixRun(matrix: MatrixRun, options: ValidateOptions): void {
  for (const b of matrix.older) {
    process.stderr.write(`note: ${b.tool} ${b.version} (${matrix.dir}) skipped: older than the ${b.tool} ${matrix.shipped[b.tool]} the target ships\n`);
  }
  printToolRun(matrix.run, options);
}

// validate: the spec's findings, then (with --tools) the verdicts of the real programs that will
// read each rendered file. Exit 1 when anything is invalid; 3 when a tool could not give a verdict
// (--tools required finds it missing, or it did not finish before its deadline).
import { loadPackerAssets } from "../../packer/assets.js";
import { planCluster } from "../../plan/plan.js";
import type { Env } from "../../spec/check.js";
import { hasErrors, type Finding } from "../../spec/findings.js";
import { checkLoaded, loadSpecFile, type CheckedSpec } from "../../spec/index.js";
import type { LoadedSpec } from "../../spec/load.js";
import { runFileChecks, type ToolRun } from "../../tools/run-checks.js";
import { findMatrix, matrixFor, runMatrixChecks, type MatrixBinary } from "../../tools/matrix.js";
import { installHint, watchInterrupts } from "../../tools/run.js";
import { clusterArtifacts } from "../../pipeline/artifacts.js";
import { EXIT, ExitError, ExternalError } from "../../errors.js";
import { DEFAULT_SPEC } from "../defaults.js";
import { findingJson, formatFindingGithub, printFindings, repoRelative, summary, type Format } from "../report.js";
import { stderr, stdout } from "../../terminal.js";

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

/**
 * A password validate checks with when spec.vrrp.authPassEnv names a variable this machine lacks
 * (a CI job without production secrets): 8 characters keepalived accepts. render and seed refuse
 * instead, since what they write would carry it.
 */
export const PLACEHOLDER_AUTH_PASS = "k8shaCI0";

export async function runValidate(specPath: string | undefined, options: ValidateOptions): Promise<void> {
  const binaries = options.matrix === undefined ? undefined : await findMatrix(options.matrix);
  const loaded = await loadSpecFile(specPath ?? DEFAULT_SPEC);
  const file = loaded.file;
  const { checked, env } = checkWithPlaceholder(loaded, process.env);
  const specValid = !hasErrors(checked.findings);
  let tools: ToolRun | undefined;
  let matrix: MatrixRun | undefined;
  if (checked.spec && specValid) {
    const plan = planCluster(checked.spec, env);
    if (options.tools !== "off" || binaries) {
      const artifacts = clusterArtifacts({
        plan,
        sha256: checked.sha256,
        assets: { packer: await loadPackerAssets() },
      });
      const interrupts = watchInterrupts({ cleanup: "stopping the checking tools and removing their temp folder" });
      try {
        if (options.tools !== "off") tools = await runFileChecks(plan, artifacts, undefined, {}, interrupts.signal);
        if (binaries) {
          const { applies, older } = matrixFor(plan, binaries);
          const verdicts = await runMatrixChecks(plan, artifacts, applies, interrupts.signal);
          matrix = {
            dir: options.matrix!,
            checked: applies,
            older,
            shipped: plan.target.releases,
            run: { verdicts, missing: [], found: {} },
          };
        }
      } finally {
        interrupts.dispose();
      }
    }
  }
  const allVerdicts = [...(tools?.verdicts ?? []), ...(matrix?.run.verdicts ?? [])];
  const timedOut = allVerdicts.filter((v) => v.timedOut);
  const toolsFailed = allVerdicts.some((v) => !v.ok && !v.timedOut);
  const missingRequired = options.tools === "required" && (tools?.missing.length ?? 0) > 0;

  if (options.format === "json") {
    const document = {
      file,
      valid: specValid && !toolsFailed && !missingRequired && timedOut.length === 0,
      findings: checked.findings.map(findingJson),
      tools:
        options.tools === "off" || !tools
          ? { mode: options.tools, ran: false }
          : { mode: options.tools, ran: true, missing: tools.missing, verdicts: tools.verdicts },
      ...(matrix
        ? { matrix: { dir: matrix.dir, checked: matrix.checked, older: matrix.older, verdicts: matrix.run.verdicts } }
        : {}),
    };
    stdout.write(`${JSON.stringify(document, null, 2)}\n`);
  } else {
    const findings = options.format === "github" ? await githubFiles(checked.findings) : checked.findings;
    printFindings(findings, options.format);
    if (tools) await printToolRun(tools, options, file);
    if (matrix) await printMatrixRun(matrix, options, file);
  }

  const quiet = options.format === "json";
  if (!specValid) throw new ExitError(EXIT.invalid, quiet ? "" : `${file}: ${summary(checked.findings)}`);
  if (timedOut.length > 0) {
    const which = timedOut.map((v) => `${v.tool} on nodes/${v.node}/${v.file}`).join(", ");
    throw new ExternalError(
      `${which}: did not finish in time and was stopped, with everything it started`,
      "run it by hand to see where it hangs; K8S_HA_TOOL_TIMEOUT=<seconds> gives it longer",
    );
  }
  if (missingRequired) {
    const missing = tools!.missing;
    throw new ExitError(
      EXIT.external,
      `--tools required: ${missing.join(", ")} not found`,
      missing.map((m) => `${m}: ${installHint(m)}`).join("; "),
    );
  }
  if (toolsFailed) throw new ExitError(EXIT.invalid, quiet ? "" : `${file}: a tool rejected a rendered file`);
  if (options.format === "text") {
    const ran = tools ? `; ${tools.verdicts.length} tool checks passed` : "";
    const releases = matrix
      ? `; ${matrix.run.verdicts.length} checks with ${matrix.checked.length} releases passed`
      : "";
    stderr.write(`${file}: valid (${summary(checked.findings)}${ran}${releases})\n`);
  }
}

/**
 * The spec's findings; when spec.vrrp.authPassEnv names an unset variable, checked again with a
 * placeholder password, and the missing variable reported as a warning instead of an error.
 */
function checkWithPlaceholder(loaded: LoadedSpec, env: Env): { checked: CheckedSpec; env: Env } {
  const checked = checkLoaded(loaded, env, []);
  const name = checked.parsed?.spec.vrrp?.authPassEnv;
  if (name === undefined || (env[name] ?? "") !== "") return { checked, env };
  const withPlaceholder = { ...env, [name]: PLACEHOLDER_AUTH_PASS };
  const again = checkLoaded(loaded, withPlaceholder, []);
  const warning: Finding = loaded.locator.warning(
    ["spec", "vrrp", "authPassEnv"],
    `environment variable ${name} is not set: validated with a placeholder password; render and seed will refuse until it is set`,
    `export ${name}=<at most 8 characters> where you render`,
  );
  return { checked: { ...again, findings: [warning, ...again.findings] }, env: withPlaceholder };
}

/** Findings whose file is named relative to the repository root, as GitHub annotations need. */
async function githubFiles(findings: readonly Finding[]): Promise<Finding[]> {
  return Promise.all(findings.map(async (f) => ({ ...f, file: await repoRelative(f.file) })));
}

async function printToolRun(tools: ToolRun, options: ValidateOptions, specFile: string): Promise<void> {
  const github = options.format === "github";
  for (const program of tools.missing) {
    const line = `${program} not found: its checks did not run (${installHint(program)})`;
    if (github) stdout.write(`::${options.tools === "required" ? "error" : "warning"} title=${program}::${line}\n`);
    else stderr.write(`${options.tools === "required" ? "error" : "warning"}: ${line}\n`);
  }
  // a rendered file is not in the repository: its annotation points at the spec it came from
  const annotated = github ? await repoRelative(specFile) : specFile;
  for (const v of tools.verdicts) {
    if (github) {
      if (!v.ok) {
        const message = `nodes/${v.node}/${v.file}: ${v.command}: ${v.output}`;
        stdout.write(
          `${formatFindingGithub({ severity: "error", file: annotated, line: 0, col: 0, path: [v.tool], message })}\n`,
        );
      }
      continue;
    }
    // verdicts are findings about the files, not results: stderr, like the spec's findings
    stderr.write(`${v.ok ? "ok  " : "FAIL"}  ${v.node.padEnd(12)}  ${v.command}\n`);
    if (!v.ok) stderr.write(`${v.output.replace(/^/gm, "        ")}\n`);
  }
}

async function printMatrixRun(matrix: MatrixRun, options: ValidateOptions, file: string): Promise<void> {
  for (const b of matrix.older) {
    stderr.write(
      `note: ${b.tool} ${b.version} (${matrix.dir}) skipped: older than the ${b.tool} ${matrix.shipped[b.tool]} the target ships\n`,
    );
  }
  await printToolRun(matrix.run, options, file);
}

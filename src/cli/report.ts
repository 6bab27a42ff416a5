// Printing findings: `file:line:col  spec.path  message` with a hint line (text), GitHub
// workflow annotations, or JSON for scripts. Collect everything first, then print once.
import { isAbsolute, relative, resolve } from "node:path";
import { formatPath, type Finding } from "../spec/findings.js";
import { STDIN_NAME } from "../spec/load.js";
import { run } from "../tools/run.js";
import { stderr, stdout, type TextOut } from "../terminal.js";

export type Format = "text" | "json" | "github";

export function formatFindingText(f: Finding): string {
  const where = f.line > 0 ? `${f.file}:${f.line}:${f.col}` : f.file;
  // file-level findings (line 0) have no place inside the document to name
  const path = f.line > 0 ? `  ${formatPath(f.path)}` : "";
  const severity = f.severity === "warning" ? "warning: " : "";
  return `${where}${path}  ${severity}${f.message}${f.hint ? `\n    hint: ${f.hint}` : ""}`;
}

/** GitHub Actions workflow command; '%', CR and LF must be escaped in the message. */
export function formatFindingGithub(f: Finding): string {
  const escape = (s: string) => s.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
  const escapeProperty = (s: string) => escape(s).replace(/:/g, "%3A").replace(/,/g, "%2C");
  const props = [`file=${escapeProperty(f.file)}`];
  if (f.line > 0) props.push(`line=${f.line}`, `col=${f.col}`);
  props.push(`title=${escapeProperty(formatPath(f.path))}`);
  const text = f.hint ? `${f.message} (hint: ${f.hint})` : f.message;
  return `::${f.severity} ${props.join(",")}::${escape(text)}`;
}

export function findingJson(f: Finding): Record<string, unknown> {
  return {
    severity: f.severity,
    file: f.file,
    line: f.line,
    col: f.col,
    path: formatPath(f.path),
    message: f.message,
    ...(f.hint ? { hint: f.hint } : {}),
  };
}

export function summary(findings: readonly Finding[]): string {
  const errors = findings.filter((f) => f.severity === "error").length;
  const warnings = findings.length - errors;
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  return `${plural(errors, "error")}, ${plural(warnings, "warning")}`;
}

/** Writes findings for people to stderr (text), or as annotations to stdout (github). */
export function printFindings(
  findings: readonly Finding[],
  format: Format,
  stream: TextOut = format === "github" ? stdout : stderr,
): void {
  if (format === "json") return; // the command prints one JSON document of its own
  for (const f of findings) {
    stream.write(`${format === "github" ? formatFindingGithub(f) : formatFindingText(f)}\n`);
  }
}

let repoRoot: Promise<string | undefined> | undefined;

/**
 * `file` relative to the repository root, as GitHub annotations need: GITHUB_WORKSPACE in a
 * workflow, else the git top level of the working folder; unchanged outside any repository.
 */
export async function repoRelative(file: string): Promise<string> {
  if (file === STDIN_NAME) return file;
  repoRoot ??= gitRoot();
  const root = await repoRoot;
  if (!root) return file;
  const path = relative(root, resolve(file));
  return path.startsWith("..") || isAbsolute(path) ? file : path;
}

async function gitRoot(): Promise<string | undefined> {
  if (process.env.GITHUB_WORKSPACE) return process.env.GITHUB_WORKSPACE;
  try {
    const result = await run("git", ["rev-parse", "--show-toplevel"], { timeoutMs: 10_000 });
    return result.code === 0 ? result.stdout.trim() : undefined;
  } catch {
    return undefined; // no git here: the path as given
  }
}

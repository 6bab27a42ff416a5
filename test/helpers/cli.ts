// Spawns the built CLI (dist/k8s-ha.cjs, built by `npm test` before vitest runs) like a user would.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { sha256 } from "../../src/write/hash.js";

export const ROOT = resolve(import.meta.dirname, "../..");
export const BIN = join(ROOT, "dist/k8s-ha.cjs");
export const EXAMPLES = join(ROOT, "examples");

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `input`: what the CLI reads on stdin (a spec given as `-`); none: stdin is closed. */
export function runCli(
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {},
): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd ?? ROOT,
      env: { ...process.env, ...options.env },
      stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    if (options.input !== undefined) child.stdin!.end(options.input);
    let stdout = "";
    let stderr = "";
    child.stdout!.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    child.stderr!.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    child.on("error", reject);
    child.on("close", (code) => resolvePromise({ code, stdout, stderr }));
  });
}

/** The one temp folder helper of the tests: call cleanup() in afterEach/afterAll/finally. */
export function tempDir(prefix = "k8s-ha-test-"): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Parses `file:line:col  path  message` lines of the CLI's text findings. */
export function parseFindings(
  stderr: string,
): { file: string; line: number; col: number; path: string; message: string }[] {
  const found = [];
  for (const text of stderr.split("\n")) {
    const m = /^(\S+?):(\d+):(\d+)  (\S+)  (.*)$/.exec(text);
    if (m) found.push({ file: m[1]!, line: Number(m[2]), col: Number(m[3]), path: m[4]!, message: m[5]! });
  }
  return found;
}

/** Every file under `root`, by path relative to it, with its sha256: a folder compared whole. */
export async function tree(root: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  const walk = async (d: string) => {
    for (const entry of await readdir(d, { withFileTypes: true })) {
      const p = join(d, entry.name);
      if (entry.isDirectory()) await walk(p);
      else files[relative(root, p)] = sha256(await readFile(p));
    }
  };
  await walk(root);
  return files;
}

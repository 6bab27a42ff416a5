// The one place that starts external programs. Argument arrays only, never a shell string:
// no value from a spec can be read by a shell on its way to a tool.
import { spawn, type SpawnOptions } from "node:child_process";
import { ExternalError } from "../cli/errors.js";

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Kill the program (SIGTERM, then SIGKILL after 2 s) when it runs longer. */
  timeoutMs?: number;
  input?: string | Uint8Array;
  /** Called with each chunk as it arrives (for live progress). */
  onStdout?: (chunk: string) => void;
  onStderr?: (chunk: string) => void;
  signal?: AbortSignal;
}

export interface RunResult {
  /** The exit code, or null when a signal ended the program. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Which Debian package provides a tool we call, for "is it installed?" hints. */
export const DEBIAN_PACKAGE: Record<string, string> = {
  haproxy: "haproxy",
  keepalived: "keepalived",
  shellcheck: "shellcheck",
  "cloud-init": "cloud-init",
  packer: "packer",
  ip: "iproute2",
  curl: "curl",
  openssl: "openssl",
  xorriso: "xorriso",
  isoinfo: "genisoimage",
  bsdtar: "libarchive-tools",
  "ignition-validate": "ignition",
  VBoxManage: "virtualbox (from virtualbox.org)",
};

export function installHint(program: string): string {
  const pkg = DEBIAN_PACKAGE[program];
  return pkg ? `install it (Debian/Ubuntu: apt-get install ${pkg}) or put it on PATH` : "install it or put it on PATH";
}

/**
 * Runs `program args…` and collects its output. Resolves for any exit code (the caller knows
 * what the code means for its tool); rejects with ExternalError only when the program cannot be
 * started at all.
 */
export function run(program: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const spawnOptions: SpawnOptions = {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      signal: options.signal,
    };
    const child = spawn(program, args, spawnOptions);
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    let killTimer: NodeJS.Timeout | undefined;
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            child.kill("SIGTERM");
            killTimer = setTimeout(() => child.kill("SIGKILL"), 2000);
          }, options.timeoutMs);
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
      options.onStdout?.(chunk);
    });
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
      options.onStderr?.(chunk);
    });
    child.on("error", (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      clearTimeout(killTimer);
      if (error.code === "ENOENT") {
        reject(new ExternalError(`unable to execute '${program}' — is it installed?`, installHint(program)));
      } else if (error.name === "AbortError") {
        resolve({ code: null, signal: "SIGTERM", stdout, stderr, timedOut });
      } else {
        reject(new ExternalError(`unable to execute '${program}': ${error.message}`));
      }
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      clearTimeout(killTimer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** Daemons such as haproxy and keepalived live in sbin, which a user's PATH often lacks. */
const SBIN = ["/usr/local/sbin", "/usr/sbin", "/sbin"];

/** Where `program` is on PATH (or in the sbin folders), or undefined. */
export async function which(program: string): Promise<string | undefined> {
  const { access, constants } = await import("node:fs/promises");
  const { delimiter, join } = await import("node:path");
  for (const dir of [...(process.env.PATH ?? "").split(delimiter), ...SBIN]) {
    if (!dir) continue;
    const candidate = join(dir, program);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}

/** A short, human explanation of how a program ended, for error messages. */
export function describeExit(program: string, result: RunResult): string {
  if (result.timedOut) return `${program} did not finish in time and was stopped`;
  if (result.signal) return `${program} was ended by ${result.signal}`;
  if (result.code === 127) return `${program} exited 127 (a command it runs was not found)`;
  return `${program} exited ${result.code}`;
}

// The one place that starts external programs. Argument arrays only, never a shell string:
// no value from a spec can be read by a shell on its way to a tool.
import { spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { access, constants } from "node:fs/promises";
import { delimiter, join } from "node:path";
import { ExternalError } from "../errors.js";

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  /** Kill the program (SIGTERM, then SIGKILL after 2 s) when it runs longer. */
  timeoutMs?: number;
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
  iptables: "iptables",
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
    const child = spawn(program, args, { env: options.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
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
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      clearTimeout(killTimer);
      reject(spawnError(program, error));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      clearTimeout(killTimer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
}

/** A program that could not be started at all, as the error the user sees. */
function spawnError(program: string, error: NodeJS.ErrnoException): ExternalError {
  return error.code === "ENOENT"
    ? new ExternalError(`unable to execute '${program}' — is it installed?`, installHint(program))
    : new ExternalError(`unable to execute '${program}': ${error.message}`);
}

/** Daemons such as haproxy and keepalived live in sbin, which a user's PATH often lacks. */
const SBIN = ["/usr/local/sbin", "/usr/sbin", "/sbin"];

/**
 * Where `program` is: itself when it is a path (it has a '/') and executable; else the first
 * executable of that name on PATH or in the sbin folders; undefined when there is none.
 */
export async function which(program: string): Promise<string | undefined> {
  if (program.includes("/")) return (await isExecutable(program)) ? program : undefined;
  for (const dir of [...(process.env.PATH ?? "").split(delimiter), ...SBIN]) {
    if (!dir) continue;
    const candidate = join(dir, program);
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** A short, human explanation of how a program ended, for error messages. */
export function describeExit(program: string, result: RunResult): string {
  if (result.timedOut) return `${program} did not finish in time and was stopped`;
  if (result.signal) return `${program} was ended by ${result.signal}`;
  if (result.code === 127) return `${program} exited 127 (a command it runs was not found)`;
  return `${program} exited ${result.code}`;
}

/** How a long-running program ended. */
export interface DaemonExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A long-running program started by startDaemon. */
export interface Daemon {
  readonly program: string;
  readonly pid: number;
  /** Settles when the program has ended (never rejects). */
  readonly exited: Promise<DaemonExit>;
  running(): boolean;
  /** Sends `signal` (SIGTERM), then SIGKILL to its process group after `graceMs`, and waits for the end. */
  stop(options?: { signal?: NodeJS.Signals; graceMs?: number }): Promise<DaemonExit>;
  /** Lets our process exit while this one keeps running (rehearse --keep). */
  detach(): void;
}

export interface DaemonOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** stdout and stderr are appended here, so the program never depends on our pipes. */
  logFile: string;
}

/**
 * Starts a program that runs until it is stopped (keepalived -n, haproxy -db, …). It gets its own
 * process group: a Ctrl-C at the terminal reaches only us, and we stop it ourselves in order, after
 * clean-up is planned. Rejects with ExternalError when the program cannot be started.
 */
export async function startDaemon(program: string, args: readonly string[], options: DaemonOptions): Promise<Daemon> {
  const fd = openSync(options.logFile, "a");
  try {
    const child = spawn(program, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ["ignore", fd, fd],
      detached: true,
    });
    let ended: DaemonExit | undefined;
    const exited = new Promise<DaemonExit>((resolve) => {
      child.once("exit", (code, signal) => {
        ended = { code, signal };
        resolve(ended);
      });
    });
    await new Promise<void>((resolve, reject) => {
      child.once("spawn", () => resolve());
      child.once("error", (error: NodeJS.ErrnoException) => reject(spawnError(program, error)));
    });
    const pid = child.pid!;
    const signalGroup = (signal: NodeJS.Signals) => {
      try {
        process.kill(-pid, signal);
      } catch {
        // the group is gone already
      }
    };
    return {
      program,
      pid,
      exited,
      running: () => ended === undefined,
      async stop({ signal = "SIGTERM", graceMs = 3000 } = {}) {
        if (ended) return ended;
        child.kill(signal);
        const timer = setTimeout(() => signalGroup("SIGKILL"), graceMs);
        const result = await exited;
        clearTimeout(timer);
        return result;
      },
      detach() {
        child.unref();
      },
    };
  } finally {
    closeSync(fd);
  }
}

/** How much of a long-running program's stdout and stderr startInterruptible keeps (the tail). */
const MAX_KEPT_OUTPUT = 1 << 20;

export interface InterruptibleOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Called with each chunk as it arrives (for live progress). */
  onStdout?: (chunk: string) => void;
  onStderr?: (chunk: string) => void;
}

export interface InterruptibleRun {
  /** Settles when the program has exited; rejects (ExternalError) only when it cannot start. */
  readonly done: Promise<RunResult & { interrupted: boolean }>;
  /** Sends `signal` to the program and everything it started, as a terminal's Ctrl-C does. */
  interrupt(signal?: NodeJS.Signals): void;
}

/**
 * Starts a long-running program in its own process group, so that a Ctrl-C can be forwarded to
 * the whole group and then waited for. Signalling the pid alone is not enough for programs like
 * Packer: its outer process (panicwrap) ignores SIGINT and leaves it to the terminal to deliver
 * the signal to the group, where the real Packer, its plugins and their scripts all get it
 * (verified with Packer 1.6.6). Its own group also keeps a terminal's Ctrl-C away from the
 * program, so that it is delivered once, by us.
 */
export function startInterruptible(
  program: string,
  args: readonly string[],
  options: InterruptibleOptions = {},
): InterruptibleRun {
  const groups = process.platform !== "win32";
  const child = spawn(program, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ["ignore", "pipe", "pipe"],
    detached: groups,
  });
  let stdout = "";
  let stderr = "";
  let interrupted = false;
  let exited = false;
  // A build logs for an hour: the callbacks see everything, the result keeps only the tail.
  const tail = (text: string) => (text.length > MAX_KEPT_OUTPUT ? text.slice(-MAX_KEPT_OUTPUT) : text);
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    stdout = tail(stdout + chunk);
    options.onStdout?.(chunk);
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr = tail(stderr + chunk);
    options.onStderr?.(chunk);
  });
  const signalGroup = (signal: NodeJS.Signals) => {
    if (child.pid === undefined) return;
    try {
      if (groups) process.kill(-child.pid, signal);
      else child.kill(signal);
    } catch {
      // the group is already gone
    }
  };
  const done = new Promise<RunResult & { interrupted: boolean }>((resolve, reject) => {
    child.on("error", (error: NodeJS.ErrnoException) => {
      exited = true;
      reject(spawnError(program, error));
    });
    let drainTimer: NodeJS.Timeout | undefined;
    child.on("exit", () => {
      exited = true;
      // After an interrupt, whatever the program left in its group (a script that trapped
      // SIGINT) goes too: every process we start, we stop. Such a leftover may also hold our
      // pipes open; stop waiting for them after a while.
      if (interrupted) signalGroup("SIGTERM");
      drainTimer = setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
      }, 5000);
      drainTimer.unref();
    });
    child.on("close", (code, signal) => {
      exited = true;
      clearTimeout(drainTimer);
      resolve({ code, signal, stdout, stderr, timedOut: false, interrupted });
    });
  });
  return {
    done,
    interrupt(signal: NodeJS.Signals = "SIGINT") {
      if (exited) return;
      interrupted = true;
      signalGroup(signal);
    },
  };
}

// The one place that starts external programs. Argument arrays only, never a shell string:
// no value from a spec can be read by a shell on its way to a tool.
import { spawn } from "node:child_process";
import { accessSync, closeSync, constants, openSync } from "node:fs";
import { delimiter, join } from "node:path";
import { ExternalError, InterruptedError } from "../errors.js";
import { trackGroup } from "./interrupts.js";

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  /** Kill the program (SIGTERM, then SIGKILL after 2 s) when it runs longer. */
  timeoutMs?: number;
  /**
   * A step of clean-up (rehearse's teardown): a first Ctrl-C is not passed on, so that the clean-up
   * it asked for finishes; a second one still ends it. Give it a timeout.
   */
  uninterruptible?: boolean;
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

/** How long a stopped program's group gets between SIGTERM and SIGKILL. */
const KILL_GRACE_MS = 2000;

/**
 * Runs `program args…` and collects its output. Resolves for any exit code (the caller knows
 * what the code means for its tool); rejects with ExternalError only when the program cannot be
 * started at all, and with InterruptedError when a Ctrl-C reached it (interrupts.ts).
 *
 * The program runs in its own process group, so that a deadline holds for everything it
 * starts: many packaged tools are shell wrappers whose child inherits our pipes, and killing the
 * wrapper alone leaves the child holding them open for ever. At the deadline the whole group gets
 * SIGTERM, then SIGKILL, and we stop reading at once instead of waiting for the pipes to close.
 * Its own group also keeps a terminal's Ctrl-C away from it: interrupts.ts delivers it, once.
 */
export function run(program: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, {
      env: options.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: GROUPS,
    });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    let settled = false;
    const timers: NodeJS.Timeout[] = [];
    const group = processGroup(child, options.uninterruptible !== true);
    const finish = (result: Omit<RunResult, "stdout" | "stderr" | "timedOut">) => {
      if (settled) return;
      settled = true;
      for (const timer of timers) clearTimeout(timer);
      group.release();
      child.stdout?.destroy();
      child.stderr?.destroy();
      if (group.interrupted) reject(new InterruptedError(`interrupted while ${program} ran`));
      else resolve({ ...result, stdout, stderr, timedOut });
    };
    if (options.timeoutMs !== undefined) {
      timers.push(
        setTimeout(() => {
          timedOut = true;
          group.signal("SIGTERM");
          timers.push(setTimeout(() => group.signal("SIGKILL"), KILL_GRACE_MS));
          // a grandchild may hold our pipes open after the group was told to go: stop reading
          timers.push(
            setTimeout(() => finish({ code: child.exitCode, signal: child.signalCode }), KILL_GRACE_MS + 500),
          );
        }, options.timeoutMs),
      );
    }
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", (error: NodeJS.ErrnoException) => {
      settled = true;
      for (const timer of timers) clearTimeout(timer);
      group.release();
      reject(spawnError(program, error));
    });
    child.on("exit", () => {
      // the program is gone, but something it started may live on in its group, holding our
      // pipes: after a timeout or an interrupt, end the group too
      if (timedOut || group.interrupted) group.signal("SIGKILL");
    });
    child.on("close", (code, signal) => finish({ code, signal }));
  });
}

/** Process groups are a POSIX notion. */
const GROUPS = process.platform !== "win32";

/** Sends `signal` to a child started with `detached` and to everything it started. */
function signalGroup(child: ReturnType<typeof spawn>, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    if (GROUPS) process.kill(-child.pid, signal);
    else child.kill(signal);
  } catch {
    // the group is gone already
  }
}

/** Signals for one child's group, and its share in the Ctrl-C model (interrupts.ts) while it runs. */
function processGroup(child: ReturnType<typeof spawn>, interruptible: boolean) {
  const state = {
    interrupted: false,
    signal: (signal: NodeJS.Signals) => signalGroup(child, signal),
    release: () => {},
  };
  state.release = trackGroup({
    ...(interruptible
      ? {
          onInterrupt(signal: NodeJS.Signals) {
            state.interrupted = true;
            signalGroup(child, signal);
          },
        }
      : {}),
    kill: () => signalGroup(child, "SIGKILL"),
  });
  return state;
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

/** One access(2) call: synchronous, so that loading this module needs no node:fs/promises. */
async function isExecutable(path: string): Promise<boolean> {
  try {
    accessSync(path, constants.X_OK);
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
  /** SIGKILL to its whole process group (keepalived's VRRP child too), and waits for the end. */
  kill(): Promise<DaemonExit>;
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
 * process group: a Ctrl-C at the terminal reaches only us, and the command stops it in order as
 * part of its clean-up; only a second Ctrl-C kills it here (interrupts.ts). Rejects with
 * ExternalError when the program cannot be started.
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
    const release = trackGroup({ kill: () => signalGroup(child, "SIGKILL") });
    const exited = new Promise<DaemonExit>((resolve) => {
      child.once("exit", (code, signal) => {
        release();
        ended = { code, signal };
        resolve(ended);
      });
    });
    await new Promise<void>((resolve, reject) => {
      child.once("spawn", () => resolve());
      child.once("error", (error: NodeJS.ErrnoException) => {
        release();
        reject(spawnError(program, error));
      });
    });
    const pid = child.pid!;
    return {
      program,
      pid,
      exited,
      running: () => ended === undefined,
      async stop({ signal = "SIGTERM", graceMs = 3000 } = {}) {
        if (ended) return ended;
        child.kill(signal);
        const timer = setTimeout(() => signalGroup(child, "SIGKILL"), graceMs);
        const result = await exited;
        clearTimeout(timer);
        return result;
      },
      async kill() {
        if (ended) return ended;
        signalGroup(child, "SIGKILL");
        return exited;
      },
      detach() {
        release();
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
}

/**
 * Starts a long-running program in its own process group, so that a first Ctrl-C (interrupts.ts)
 * is forwarded to the whole group and then waited for. Signalling the pid alone is not enough for programs like
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
  const child = spawn(program, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ["ignore", "pipe", "pipe"],
    detached: GROUPS,
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
  const release = trackGroup({
    onInterrupt(signal) {
      if (exited) return;
      interrupted = true;
      signalGroup(child, signal);
    },
    kill: () => signalGroup(child, "SIGKILL"),
  });
  const done = new Promise<RunResult & { interrupted: boolean }>((resolve, reject) => {
    child.on("error", (error: NodeJS.ErrnoException) => {
      exited = true;
      release();
      reject(spawnError(program, error));
    });
    let drainTimer: NodeJS.Timeout | undefined;
    child.on("exit", () => {
      exited = true;
      // After an interrupt, whatever the program left in its group (a script that trapped
      // SIGINT) goes too: every process we start, we stop. Such a leftover may also hold our
      // pipes open; stop waiting for them after a while.
      if (interrupted) signalGroup(child, "SIGTERM");
      drainTimer = setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
      }, 5000);
      drainTimer.unref();
    });
    child.on("close", (code, signal) => {
      exited = true;
      release();
      clearTimeout(drainTimer);
      resolve({ code, signal, stdout, stderr, timedOut: false, interrupted });
    });
  });
  return { done };
}

// Commands open their Ctrl-C scope here too: one module runs programs and reacts to Ctrl-C.
export { watchInterrupts, type InterruptScope } from "./interrupts.js";

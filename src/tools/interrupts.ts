// The one Ctrl-C model of every command (docs/cli.md#ctrl-c), the half of src/tools/run.ts that
// reacts to signals:
//   - the first SIGINT or SIGTERM stops what runs: the command's interrupt scope is aborted (a
//     transfer stops, a wait ends) and the programs that expect the signal get it in their process
//     group (a checking tool, Packer, which then removes its VM); daemons are left to the command,
//     which stops them in order. The command cleans up what it made and exits 130.
//   - a second one while that runs quits at once: every process group we started gets SIGKILL (no
//     program outlives us unseen in its own group, where a terminal's Ctrl-C never reaches it), we
//     say what may be left behind, and the process ends by the signal's default action (130 in a shell).
// Programs run in their own process groups (run.ts), so a terminal's Ctrl-C reaches only us and is
// passed on once, by this module.
import { InterruptedError } from "../errors.js";
import { stderr } from "../terminal.js";

/** A process group that run.ts started and that is still alive. */
export interface TrackedGroup {
  /** The first interrupt: forward it, or leave the program to the command (daemons). */
  onInterrupt?(signal: NodeJS.Signals): void;
  /** The second: end it and everything it started, now. */
  kill(): void;
}

export interface InterruptScope {
  /** Aborted (reason: InterruptedError) at the first interrupt. */
  readonly signal: AbortSignal;
  dispose(): void;
}

export interface InterruptScopeOptions {
  /** What the command does after the first Ctrl-C, e.g. "aborting the upload". */
  cleanup: string;
  /** What quitting at once may leave behind and how to remove it, said at the second Ctrl-C. */
  leftBehind?: string;
  /** Where the messages go (default k8s-ha's stderr). */
  stderr?: NodeJS.WritableStream;
  /** Aborting it acts as a first Ctrl-C (callers and tests that interrupt without a signal). */
  signal?: AbortSignal;
}

/**
 * One Ctrl-C can reach us twice: from the terminal and from a parent that forwards signals to its
 * child (`npm exec`, `npx`). Two deliveries this close together count as one press.
 */
const SAME_PRESS_MS = 500;

interface Scope {
  controller: AbortController;
  options: InterruptScopeOptions;
}

const groups = new Set<TrackedGroup>();
const scopes = new Set<Scope>();
/** When the first interrupt of the current run of commands arrived. */
let firstAt: number | undefined;
let installed = false;

/** Registers a running process group; call the returned function when it has ended. */
export function trackGroup(group: TrackedGroup): () => void {
  groups.add(group);
  sync();
  // a program started after the first Ctrl-C is part of the clean-up: it is not interrupted
  return () => {
    groups.delete(group);
    sync();
  };
}

/**
 * Opens the interrupt scope of a command: until disposed, SIGINT and SIGTERM abort its signal
 * instead of ending the process, and a second one quits at once.
 */
export function watchInterrupts(options: InterruptScopeOptions): InterruptScope {
  const scope: Scope = { controller: new AbortController(), options };
  scopes.add(scope);
  sync();
  const onOutsideAbort = () => interrupt("SIGINT", false);
  if (options.signal?.aborted) onOutsideAbort();
  else options.signal?.addEventListener("abort", onOutsideAbort, { once: true });
  return {
    signal: scope.controller.signal,
    dispose() {
      options.signal?.removeEventListener("abort", onOutsideAbort);
      scopes.delete(scope);
      sync();
    },
  };
}

/** Handlers exist only while something may need them: with none, a Ctrl-C ends us as usual. */
function sync(): void {
  const needed = groups.size > 0 || scopes.size > 0;
  if (needed && !installed) {
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  } else if (!needed && installed) {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    firstAt = undefined;
  }
  installed = needed;
}

function onSignal(signal: NodeJS.Signals): void {
  interrupt(signal, true);
}

function interrupt(signal: NodeJS.Signals, fromProcess: boolean): void {
  const now = Date.now();
  if (firstAt === undefined) {
    firstAt = now;
    const doing = [...scopes].map((s) => s.options.cleanup).join("; ") || "stopping what runs";
    say(`\nk8s-ha: ${signal}: stopping; ${doing} (Ctrl-C again quits at once)\n`);
    for (const scope of scopes) abortScope(scope, signal);
    for (const group of groups) group.onInterrupt?.(signal);
    return;
  }
  if (!fromProcess || now - firstAt < SAME_PRESS_MS) return;
  quitNow(signal);
}

function abortScope(scope: Scope, signal: NodeJS.Signals): void {
  if (!scope.controller.signal.aborted)
    scope.controller.abort(new InterruptedError(`interrupted (${signal}): ${scope.options.cleanup}`));
}

function quitNow(signal: NodeJS.Signals): void {
  const left = [...scopes].map((s) => s.options.leftBehind).filter(Boolean);
  say(`k8s-ha: ${signal} again: quitting at once, clean-up unfinished${left.length ? `; ${left.join("; ")}` : ""}\n`);
  for (const group of groups) group.kill();
  groups.clear();
  scopes.clear();
  sync();
  // The signal's default action, now that our handlers are gone: the shell sees 130 (143 for SIGTERM).
  process.kill(process.pid, signal);
}

function say(text: string): void {
  ([...scopes][0]?.options.stderr ?? stderr).write(text);
}

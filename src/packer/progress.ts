// Shows a Packer run on stderr. On a terminal: Packer's lines scroll by above one live status
// line (current stage, elapsed time) redrawn every second. Elsewhere (CI logs, pipes): plain
// lines, each with a UTC timestamp and the elapsed time, and no control characters.
import type { UiLine } from "./machine-readable.js";

export interface Progress {
  /** A line of our own (preflight, the command being run). */
  info(text: string): void;
  /** A line from Packer. */
  packer(line: UiLine): void;
  /** The stage shown in the status line; Packer's `==>` lines set it as they arrive. */
  stage(text: string): void;
  /** Removes the live line and stops its timer; safe to call twice. */
  close(): void;
}

export interface ProgressOptions {
  stream: NodeJS.WritableStream;
  /** Default: whether `stream` is a TTY. */
  tty?: boolean;
  /** Milliseconds since the epoch (tests). */
  now?: () => number;
  /** Status line refresh (ms) on a TTY. */
  refreshMs?: number;
}

const CLEAR_LINE = "\r\u001b[2K";

/** 75 → "1:15", 3725 → "1:02:05". */
export function formatElapsed(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

/** "2026-01-02T03:04:05Z" */
export function formatTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** Packer's stage lines look like "==> virtualbox-iso.ubuntu: Waiting for SSH to become available...". */
export function stageOf(line: UiLine): string | undefined {
  if (line.level !== "say") return undefined;
  const match = /^==> ([^:\s]+): (.+)$/.exec(line.text.trim());
  return match ? `${match[1]}: ${match[2]}` : undefined;
}

// Terminal control sequences and other C0 characters in a child's output would move our cursor.
function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, "").replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, "");
}

export function createProgress(options: ProgressOptions): Progress {
  const { stream } = options;
  const tty = options.tty ?? (stream as NodeJS.WritableStream & { isTTY?: boolean }).isTTY === true;
  const now = options.now ?? Date.now;
  const started = now();
  let currentStage = "starting";
  let statusShown = false;
  let closed = false;

  const elapsed = () => formatElapsed((now() - started) / 1000);

  const status = () => {
    if (!tty || closed) return;
    const columns = (stream as NodeJS.WritableStream & { columns?: number }).columns ?? 80;
    const text = `[${elapsed()}] ${currentStage}`;
    stream.write(`${CLEAR_LINE}${text.length > columns - 1 ? `${text.slice(0, columns - 2)}…` : text}`);
    statusShown = true;
  };

  const timer = tty ? setInterval(status, options.refreshMs ?? 1000) : undefined;
  timer?.unref();

  const print = (text: string, timestampMs: number) => {
    const lines = printable(text).split("\n");
    if (tty) {
      stream.write((statusShown ? CLEAR_LINE : "") + lines.map((line) => `${line}\n`).join(""));
      statusShown = false;
      status();
    } else {
      const prefix = `${formatTimestamp(timestampMs)} [${elapsed()}]`;
      stream.write(lines.map((line) => `${prefix} ${line}`.trimEnd() + "\n").join(""));
    }
  };

  return {
    info(text) {
      print(text, now());
    },
    packer(line) {
      const stage = stageOf(line);
      if (stage !== undefined) currentStage = printable(stage);
      print(line.text.replace(/^\n+/, ""), line.timestamp > 0 ? line.timestamp * 1000 : now());
    },
    stage(text) {
      currentStage = printable(text);
      status();
    },
    close() {
      if (closed) return;
      if (timer) clearInterval(timer);
      if (tty && statusShown) stream.write(CLEAR_LINE);
      closed = true;
    },
  };
}

// Shows a transfer on stderr. On a terminal: one bar redrawn in place with bytes, rate and ETA.
// Elsewhere (CI logs, pipes): a plain timestamped line every few seconds and no control
// characters, so a log of a 20-minute upload stays readable.
import { formatElapsed, formatTimestamp } from "../packer/progress.js";

export interface TransferProgress {
  /** Bytes transferred so far (monotonic; smaller values are ignored). */
  update(bytes: number): void;
  /** Prints the final line ("uploaded X: 2.0 GiB in 0:45, 45.5 MiB/s") and stops. */
  finish(note?: string): void;
  /** Removes the live line and stops, printing nothing more; safe to call twice. */
  close(): void;
}

export interface TransferProgressOptions {
  stream: NodeJS.WritableStream;
  /** "uploading" or "downloading"; the final line uses the past tense. */
  verb: "uploading" | "downloading";
  /** The file name shown. */
  label: string;
  total: number;
  /** Default: whether `stream` is a TTY. */
  tty?: boolean;
  /** Milliseconds since the epoch (tests). */
  now?: () => number;
  /** Off a TTY: a line every this many ms (default 5000). */
  intervalMs?: number;
  /** On a TTY: at most one redraw per this many ms (default 100). */
  redrawMs?: number;
}

const CLEAR_LINE = "\r\u001b[2K";
const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];
/** The rate is averaged over this window: steady, yet quick to show a stall. */
const RATE_WINDOW_MS = 5000;
/**
 * Samples at least this many ms apart: a download reports every socket read (64 KiB), and a
 * sample for each made the window hold ~25,000 of them at 300 MiB/s, which the trimming then
 * shifted out one by one (~1 s of CPU in a 4 GiB pull, issue 13). The rate needs no finer steps.
 */
const SAMPLE_MS = 250;

/** 1536 → "1.5 KiB", 2147483648 → "2.0 GiB". */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${UNITS[unit]}`;
}

export function formatRate(bytesPerSecond: number): string {
  return `${formatBytes(Math.round(bytesPerSecond))}/s`;
}

export function createTransferProgress(options: TransferProgressOptions): TransferProgress {
  const { stream, total, label } = options;
  const tty = options.tty ?? (stream as NodeJS.WritableStream & { isTTY?: boolean }).isTTY === true;
  const now = options.now ?? Date.now;
  const started = now();
  const samples: { at: number; bytes: number }[] = [{ at: started, bytes: 0 }];
  let bytes = 0;
  let lastDraw = 0;
  let lastLine = started;
  let shown = false;
  let closed = false;
  const past = options.verb === "uploading" ? "uploaded" : "downloaded";

  // the newest sample at or before the window's start is the baseline: after a stall longer
  // than the window, that is the last sample, and the rate shows 0
  const trim = (at: number) => {
    while (samples.length > 1 && samples[1]!.at <= at - RATE_WINDOW_MS) samples.shift();
  };

  const rate = (): number => {
    const at = now();
    trim(at);
    const first = samples[0]!;
    const seconds = (at - first.at) / 1000;
    return seconds > 0 ? (bytes - first.bytes) / seconds : 0;
  };

  const percent = () => (total > 0 ? Math.floor((bytes / total) * 100) : 100);
  // Every byte sent, the store may still take a while (assembling a multipart upload of many
  // GB, on s3rver and some on-premises stores): say so rather than show a falling rate.
  const waiting = () => bytes >= total && options.verb === "uploading";

  const status = (): string => {
    if (waiting()) return `100% of ${formatBytes(total)} sent, waiting for the store to complete it`;
    const r = rate();
    const eta = r > 0 && bytes < total ? formatElapsed((total - bytes) / r) : "--:--";
    return `${percent()}% ${formatBytes(bytes)} of ${formatBytes(total)}, ${formatRate(r)}, ETA ${eta}`;
  };

  const draw = () => {
    if (closed) return;
    const columns = (stream as NodeJS.WritableStream & { columns?: number }).columns ?? 80;
    const text = `${label} ${status()}`;
    // the bar takes what room is left, up to 30 columns; none on a narrow terminal
    const width = Math.min(30, columns - 1 - text.length - 3);
    let line = text;
    if (width >= 5) {
      const filled = Math.min(width, Math.floor((percent() / 100) * width));
      line = `${label} [${"#".repeat(filled)}${".".repeat(width - filled)}] ${status()}`;
    } else if (text.length > columns - 1) {
      line = `${text.slice(0, Math.max(0, columns - 2))}…`;
    }
    stream.write(`${CLEAR_LINE}${line}`);
    shown = true;
    lastDraw = now();
  };

  const line = () => {
    if (closed) return;
    stream.write(`${formatTimestamp(now())} ${options.verb} ${label}: ${status()}\n`);
    lastLine = now();
  };

  // Also ticks when no progress arrives, so that a stall shows as a falling rate.
  const timer = setInterval(() => {
    if (tty) draw();
    else if (now() - lastLine >= (options.intervalMs ?? 5000)) line();
  }, 1000);
  timer.unref();
  if (tty) draw();

  const stop = () => {
    if (closed) return;
    clearInterval(timer);
    if (shown) stream.write(CLEAR_LINE);
    closed = true;
  };

  return {
    update(value) {
      if (closed || value <= bytes) return;
      bytes = value;
      const at = now();
      // the newest sample always holds the latest count (a stall must show as 0); it becomes a
      // new one only SAMPLE_MS after the one before it
      const last = samples.length - 1;
      if (last > 0 && at - samples[last - 1]!.at < SAMPLE_MS) samples[last] = { at, bytes };
      else samples.push({ at, bytes });
      trim(at);
      if (tty) {
        if (at - lastDraw >= (options.redrawMs ?? 100)) draw();
      } else if (at - lastLine >= (options.intervalMs ?? 5000)) {
        line();
      }
    },
    finish(note) {
      if (closed) return;
      const seconds = (now() - started) / 1000;
      const average = seconds > 0 ? formatRate(total / seconds) : "-";
      stop();
      stream.write(
        `${past} ${label}: ${formatBytes(total)} in ${formatElapsed(seconds)} (${average})${note ? `, ${note}` : ""}\n`,
      );
    },
    close: stop,
  };
}

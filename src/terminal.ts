// What k8s-ha prints: results on stdout, diagnostics on stderr, as `stdout.write(text)` and
// `stderr.write(text)`.
//
// Written with fs.writeSync, not through process.stdout and process.stderr (issue 13): those are
// Node streams, and the first touch of one loads Node's stream, net and tty modules, ~5 ms of
// every start for the few lines render or validate print. A synchronous write is also complete
// when write() returns, so nothing is lost when the process exits.
//
// Node's stream takes over where a synchronous write cannot go on, and from then on it carries
// every write to that descriptor, so the order stays as written:
//  - EAGAIN: the descriptor is non-blocking (a parent set O_NONBLOCK on a pipe it shares with us)
//    and full; the stream waits for the reader;
//  - a command asks for the stream itself (`stderr.stream()`): progress redrawn on a terminal,
//    isTTY, output handed to child processes.
// A reader that went away (EPIPE) loses what it would have read and the command goes on: up's
// Ctrl-C clean-up must finish even when the terminal is gone.
import { writeSync } from "node:fs";

/** Where text goes: a Terminal, or a stream in tests. */
export interface TextOut {
  write(text: string): unknown;
}

const ignoreEpipe = (error: NodeJS.ErrnoException) => {
  if (error.code !== "EPIPE") throw error;
};

export class Terminal implements TextOut {
  #stream: NodeJS.WriteStream | undefined;

  constructor(readonly fd: 1 | 2) {}

  /** Node's stream for this descriptor, for code that needs a stream; every later write goes through it. */
  stream(): NodeJS.WriteStream {
    if (this.#stream === undefined) {
      this.#stream = this.fd === 1 ? process.stdout : process.stderr;
      this.#stream.on("error", ignoreEpipe);
    }
    return this.#stream;
  }

  write(text: string): void {
    if (this.#stream !== undefined) {
      this.#stream.write(text);
      return;
    }
    const bytes = Buffer.from(text, "utf8");
    for (let at = 0; at < bytes.length;) {
      try {
        at += writeSync(this.fd, bytes, at);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === "EPIPE") return;
        if (code !== "EAGAIN") throw error;
        this.stream().write(bytes.subarray(at));
        return;
      }
    }
  }
}

export const stdout = new Terminal(1);
export const stderr = new Terminal(2);

// Only the entry point (src/index.ts) turns these into exit codes. Library code throws them;
// it never calls process.exit, so output is flushed and clean-up in `finally` runs.

/** Exit codes fixed by DESIGN.md. */
export const EXIT = {
  ok: 0,
  invalid: 1,
  usage: 2,
  external: 3,
  interrupted: 130,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A failure already explained to the user: the entry point prints `message` (if any) and exits. */
export class ExitError extends Error {
  constructor(
    readonly code: ExitCode,
    message = "",
    readonly hint?: string,
  ) {
    super(message);
    this.name = "ExitError";
  }
}

/** Bad command line: exit 2. */
export class UsageError extends ExitError {
  constructor(message: string, hint?: string) {
    super(EXIT.usage, message, hint);
    this.name = "UsageError";
  }
}

/** An external program or service failed: exit 3. */
export class ExternalError extends ExitError {
  constructor(message: string, hint?: string) {
    super(EXIT.external, message, hint);
    this.name = "ExternalError";
  }
}

/** Ctrl-C or SIGTERM reached us while a child ran: exit 130 after clean-up. */
export class InterruptedError extends ExitError {
  constructor(message = "interrupted") {
    super(EXIT.interrupted, message);
    this.name = "InterruptedError";
  }
}

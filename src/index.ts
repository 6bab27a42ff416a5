#!/usr/bin/env node
// The entry point, and the only place that sets the exit code (STYLE.md 4).
import { EXIT, ExitError } from "./errors.js";
import { buildProgram, commanderExit } from "./cli/program.js";
import { systemFailure } from "./cli/system-error.js";
import { stderr } from "./terminal.js";

async function main(): Promise<void> {
  try {
    await buildProgram().parseAsync(process.argv);
  } catch (caught) {
    // commander has already printed its own usage message; we only map its exit code
    const error = commanderExit(caught) ?? systemFailure(caught) ?? caught;
    if (error instanceof ExitError) {
      if (error.message) stderr.write(`k8s-ha: ${error.message}\n`);
      if (error.hint) stderr.write(`    hint: ${error.hint}\n`);
      process.exitCode = error.code;
      return;
    }
    // A bug in k8s-ha, not in the user's input: say so plainly, with the stack for the report.
    stderr.write(
      `k8s-ha: internal error — please report it with the command you ran:\n${(error as Error)?.stack ?? String(error)}\n`,
    );
    process.exitCode = EXIT.external;
  }
}

// not a top-level await: dist/cli.cjs is a CommonJS bundle (V8's code cache on Node 20, src/start/)
void main();

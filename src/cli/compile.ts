// The pipeline's front half for a command: compile, print what was found, stop with exit 1 on errors.
import { EXIT, ExitError } from "../errors.js";
import type { S3Spec } from "../spec/schema.js";
import { compile, type CompileOptions, type Compiled } from "../pipeline/compile.js";
import { STDIN, STDIN_NAME } from "../spec/load.js";
import { DEFAULT_SPEC } from "./defaults.js";
import { printFindings, summary, type Format } from "./report.js";

export type { Compiled } from "../pipeline/compile.js";

export interface CompileSpecOptions extends CompileOptions {
  format?: Format;
  /** The end of the error line: what the command did not do ("nothing was written"). */
  nothingDone?: string;
}

/** Loads, checks and plans; prints findings; throws ExitError(1) when the spec has errors. */
export async function compileSpec(file: string | undefined, options: CompileSpecOptions = {}): Promise<Compiled> {
  const path = file ?? DEFAULT_SPEC;
  const { findings, compiled } = await compile(path, options);
  printFindings(findings, options.format ?? "text");
  if (!compiled)
    throw new ExitError(
      EXIT.invalid,
      `${path === STDIN ? STDIN_NAME : path}: ${summary(findings)}; ${options.nothingDone ?? "nothing was written"}`,
    );
  return compiled;
}

/** spec.publish.s3 of a spec compiled with `requires: ["publish"]`. */
export function publishTarget(compiled: Compiled): S3Spec {
  const s3 = compiled.spec.spec.publish?.s3;
  if (!s3) throw new Error('compiled without requires: ["publish"]');
  return s3;
}

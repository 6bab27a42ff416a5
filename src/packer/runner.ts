// Runs Packer: builds its command lines, streams its machine-readable output into the progress
// display while collecting artifacts and errors. A Ctrl-C reaches it through tools/run.ts.
import { shellWord } from "../render/quote.js";
import { startInterruptible } from "../tools/run.js";
import {
  ArtifactCollector,
  ErrorCollector,
  LineSplitter,
  installedPackage,
  parseMachineReadableLine,
  uiLine,
  type PackerArtifact,
  type UiLine,
} from "./machine-readable.js";
import type { Progress } from "./progress.js";

export interface PackerCommandsInput {
  /** Absolute path of the rendered packer/ folder. */
  templateDir: string;
  /** Absolute path of the main template inside it. */
  mainFile: string;
  /** Packer >= 1.7: `packer init`, and the folder (with plugins.pkr.hcl) as the target. */
  plugins: boolean;
  /** Where Packer writes the OVA (the template's `output_directory` variable). */
  outputDirectory: string;
  /** More `-var name=value` settings, after output_directory (e.g. what preflight found). */
  vars?: Readonly<Record<string, string>>;
}

export interface PackerCommands {
  init?: string[];
  validate: string[];
  build: string[];
}

/** Packer's argument lists; the same for a run and for --dry-run. */
export function packerCommands(input: PackerCommandsInput): PackerCommands {
  const target = input.plugins ? input.templateDir : input.mainFile;
  const vars = Object.entries({ output_directory: input.outputDirectory, ...input.vars }).flatMap(([name, value]) => [
    "-var",
    `${name}=${value}`,
  ]);
  return {
    ...(input.plugins ? { init: ["init", input.templateDir] } : {}),
    validate: ["validate", ...vars, target],
    // cleanup: on any failure Packer unregisters and deletes the half-built VM.
    build: ["build", "-machine-readable", "-on-error=cleanup", ...vars, target],
  };
}

/** A command line to paste into a POSIX shell. */
export function shellQuote(args: readonly string[]): string {
  return args.map(shellWord).join(" ");
}

export interface PackerRunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  interrupted: boolean;
  artifacts: PackerArtifact[];
  /** Packer's error lines, in order, once each. */
  errors: string[];
  /** Packages the provisioning reported installing (k8s-ha-package lines), by name. */
  packages: Record<string, string>;
}

export interface RunPackerOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  progress: Progress;
  /** The command's interrupt scope: aborted once Ctrl-C was passed on to Packer. */
  interrupted: AbortSignal;
  /** Sees every line Packer shows (the image checks' results are read from them). */
  onUi?: (line: UiLine) => void;
}

/** Runs `packer args…` to the end, showing its output as it comes. */
export async function runPacker(
  packer: string,
  args: readonly string[],
  options: RunPackerOptions,
): Promise<PackerRunResult> {
  const { progress } = options;
  const artifacts = new ArtifactCollector();
  const errors = new ErrorCollector();
  const stdout = new LineSplitter();
  const stderr = new LineSplitter();
  const packages: Record<string, string> = {};

  const onLine = (line: string, fromStderr: boolean) => {
    const event = parseMachineReadableLine(line);
    if (!event) {
      // `packer init`/`validate` print plain text, and so does a Packer that fails early;
      // keep all of it for the error message (it is short).
      if (line.trim() === "") return;
      progress.info(fromStderr ? `packer: ${line}` : line);
      errors.addRaw(line);
      return;
    }
    artifacts.add(event);
    errors.add(event);
    const ui = uiLine(event);
    if (ui) {
      progress.packer(ui);
      options.onUi?.(ui);
    }
    const installed = ui ? installedPackage(ui.text) : undefined;
    if (installed) packages[installed.name] = installed.version;
  };

  progress.info(`$ ${shellQuote([packer, ...args])}`);
  const run = startInterruptible(packer, args, {
    cwd: options.cwd,
    env: options.env,
    onStdout: (chunk) => stdout.push(chunk).forEach((line) => onLine(line, false)),
    onStderr: (chunk) => stderr.push(chunk).forEach((line) => onLine(line, true)),
  });
  const result = await run.done;
  stdout.flush().forEach((line) => onLine(line, false));
  stderr.flush().forEach((line) => onLine(line, true));
  return {
    code: result.code,
    signal: result.signal,
    interrupted: result.interrupted || options.interrupted.aborted,
    artifacts: artifacts.artifacts,
    errors: errors.lines,
    packages,
  };
}

// validate --tools runs cloud-init twice per node (`schema -c`, `devel net-convert`), and each run
// spends ~0.45 of its ~0.55 s of CPU importing cloud-init's Python modules (issue 13). This runs all
// of one validate's cloud-init commands in one interpreter: cloud-init's own entry point,
// cloudinit.cmd.main.main(argv), once per command, each with its own stdout, stderr and exit code
// captured at the file-descriptor level — the answers the separate runs give, byte for byte
// (test/tools/cloud-init-batch.test.ts). A cloud-init this cannot drive (not a Python script, a
// script that is not cloud-init's entry point, an interpreter without the cloudinit package) gets
// its commands run one by one, as before.
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { ExternalError } from "../errors.js";
import { run, type RunOptions, type RunResult } from "./run.js";

/** The interpreter (and its flags) of cloud-init's entry-point script, or undefined when it has none. */
export function cloudInitInterpreter(binary: string): string[] | undefined {
  let head: string;
  try {
    head = readFileSync(binary, { encoding: "latin1" }).slice(0, 4096);
  } catch {
    return undefined;
  }
  // setuptools' generated script imports the entry point; easy_install's names it
  if (!/from cloudinit\.cmd\.main import main|'console_scripts',\s*'cloud-init'/.test(head)) return undefined;
  const shebang = /^#!(.*)$/m.exec(head.split("\n", 1)[0]!)?.[1]?.trim().split(/\s+/);
  if (!shebang) return undefined;
  const python = basename(shebang[0]!) === "env" ? shebang[1] : shebang[0];
  return python && /^python3(\.\d+)?$/.test(basename(python)) ? shebang : undefined;
}

/** Exit code of the driver when cloudinit.cmd.main cannot be imported: run the commands one by one. */
const CANNOT_IMPORT = 75;

// Each command sees what a fresh `cloud-init …` process would: its argv, empty stdio buffers, and
// the logging set-up Python starts with (net-convert adds a stderr handler that would otherwise
// stay for the next command). Ctrl-C (KeyboardInterrupt) ends the whole batch.
const DRIVER = `
import json, logging, os, sys, tempfile, traceback
try:
    from cloudinit.cmd.main import main
except Exception:
    sys.exit(${CANNOT_IMPORT})
root = logging.getLogger()
fresh = (list(root.handlers), root.level)
program, commands = json.loads(sys.argv[1])
results = []
for argv in commands:
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        sys.stdout.flush()
        sys.stderr.flush()
        saved = (os.dup(1), os.dup(2))
        os.dup2(out.fileno(), 1)
        os.dup2(err.fileno(), 2)
        sys.argv = [program] + argv
        try:
            code = main([program] + argv)
        except SystemExit as end:
            code = end.code
        except Exception:
            traceback.print_exc()
            code = 1
        if code is None:
            code = 0
        elif not isinstance(code, int):
            print(code, file=sys.stderr)
            code = 1
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        os.close(saved[0])
        os.close(saved[1])
        root.handlers[:] = fresh[0]
        root.setLevel(fresh[1])
        out.seek(0)
        err.seek(0)
        results.append([code & 255, out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace")])
json.dump(results, sys.stdout)
`;

/**
 * Runs `commands` (argument lists for `binary`, cloud-init) in one interpreter when it can, and
 * answers each as run() would. Undefined when this cloud-init cannot be driven: run them one by one.
 * Ends with the same errors as run(): InterruptedError after a Ctrl-C, ExternalError when the
 * interpreter cannot be started.
 */
export async function runCloudInitBatch(
  binary: string,
  commands: readonly (readonly string[])[],
  options: RunOptions,
): Promise<RunResult[] | undefined> {
  const interpreter = cloudInitInterpreter(binary);
  if (!interpreter || commands.length === 0) return undefined;
  const [python, ...flags] = interpreter;
  const driver = await run(python!, [...flags, "-c", DRIVER, JSON.stringify([binary, commands])], options);
  if (driver.timedOut) {
    return commands.map(() => ({ code: null, signal: driver.signal, stdout: "", stderr: "", timedOut: true }));
  }
  if (driver.code === CANNOT_IMPORT && driver.stdout === "") return undefined;
  const answers = parseAnswers(driver.stdout, commands.length);
  if (driver.code !== 0 || !answers) return undefined; // the driver itself failed: no answer is trusted
  return answers.map(([code, stdout, stderr]) => ({ code, signal: null, stdout, stderr, timedOut: false }));
}

function parseAnswers(text: string, count: number): [number, string, string][] | undefined {
  try {
    const answers = JSON.parse(text) as unknown;
    const valid =
      Array.isArray(answers) &&
      answers.length === count &&
      answers.every(
        (a) =>
          Array.isArray(a) &&
          a.length === 3 &&
          Number.isInteger(a[0]) &&
          typeof a[1] === "string" &&
          typeof a[2] === "string",
      );
    return valid ? (answers as [number, string, string][]) : undefined;
  } catch {
    return undefined;
  }
}

/** A batch started ahead of the checks that read its answers. */
export interface StartedBatch {
  /** The command's answer, or undefined when the batch cannot give it: run the command yourself. */
  answer(binary: string, args: readonly string[]): Promise<RunResult | undefined>;
  /** Resolves once the interpreter is gone, however it ended (the files it reads must outlive it). */
  settled: Promise<void>;
}

/** Starts runCloudInitBatch now, so that it runs beside the other checks instead of in a pool slot. */
export function startCloudInitBatch(
  binary: string,
  commands: readonly (readonly string[])[],
  options: RunOptions,
): StartedBatch {
  const keyOf = (args: readonly string[]) => JSON.stringify(args);
  const answers = runCloudInitBatch(binary, commands, options).then(
    (results) => results && new Map(results.map((result, i) => [keyOf(commands[i]!), result])),
    (error: unknown) => {
      // an interpreter that cannot be started: the commands, run one by one, will say what is wrong
      if (error instanceof ExternalError) return undefined;
      throw error;
    },
  );
  const settled = answers.then(
    () => {},
    () => {},
  );
  return {
    answer: async (program, args) => (program === binary ? (await answers)?.get(keyOf(args)) : undefined),
    settled,
  };
}

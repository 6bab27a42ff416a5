// Reading the spec file: the only I/O of the spec stage. Turns every way a file can be unusable
// (missing, a directory, huge, not YAML, an alias bomb, several documents) into findings.
// Synchronous reads (issue 13): a spec is one small file read once, and node:fs/promises is
// ~2 ms of loading that render, seed and validate need for nothing else.
import { readFileSync, statSync } from "node:fs";
import { LineCounter, parseAllDocuments, type Document } from "yaml";
import { Locator, type Finding } from "./findings.js";

/** A cluster spec is a page of YAML; anything this large is a wrong file or an attack. */
export const MAX_SPEC_BYTES = 1024 * 1024;
/** Aliases a spec may expand; a real spec needs none, a "billion laughs" needs thousands. */
export const MAX_ALIASES = 100;

export interface LoadedSpec {
  file: string;
  text: string;
  doc?: Document;
  /** The plain JS value of the document, when it parsed. */
  value?: unknown;
  locator: Locator;
  findings: Finding[];
}

function fileFinding(file: string, message: string, hint?: string): Finding {
  return { severity: "error", file, line: 0, col: 0, path: [], message, ...(hint ? { hint } : {}) };
}

/** The spec path that means "read the spec from standard input" (validate -, render -). */
export const STDIN = "-";
/** How findings name a spec read from standard input. */
export const STDIN_NAME = "<stdin>";

export async function loadSpecFile(file: string): Promise<LoadedSpec> {
  if (file === STDIN) return loadSpecStdin();
  const fail = (message: string, hint?: string): LoadedSpec => ({
    file,
    text: "",
    locator: new Locator(file, undefined, undefined),
    findings: [fileFinding(file, message, hint)],
  });
  let size: number;
  try {
    const info = statSync(file);
    if (info.isDirectory()) return fail("is a directory, not a spec file", "name the YAML file, e.g. k8s-ha.yaml");
    if (!info.isFile()) return fail("is not a regular file", "name the YAML file, e.g. k8s-ha.yaml");
    size = info.size;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT")
      return fail("no such file", "create a starter spec with `k8s-ha init` or name an existing file");
    if (code === "EACCES") return fail("permission denied", "make the file readable by this user");
    return fail(`cannot read: ${(error as Error).message}`);
  }
  if (size > MAX_SPEC_BYTES) {
    return fail(
      `is ${(size / 1024 / 1024).toFixed(1)} MiB; a cluster spec is at most ${MAX_SPEC_BYTES / 1024 / 1024} MiB`,
      "check that this is the right file",
    );
  }
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    return fail(`cannot read: ${(error as Error).message}`);
  }
  return parseSpecText(file, text);
}

/** The spec piped in on standard input, under the same size limit as a file. */
async function loadSpecStdin(): Promise<LoadedSpec> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    size += chunk.byteLength;
    if (size > MAX_SPEC_BYTES) {
      process.stdin.destroy();
      const message = `is over ${MAX_SPEC_BYTES / 1024 / 1024} MiB; a cluster spec is at most that`;
      return {
        file: STDIN_NAME,
        text: "",
        locator: new Locator(STDIN_NAME, undefined, undefined),
        findings: [fileFinding(STDIN_NAME, message, "check what is piped in")],
      };
    }
    chunks.push(chunk);
  }
  return parseSpecText(STDIN_NAME, Buffer.concat(chunks).toString("utf8"));
}

/** Parses YAML text with source positions; pure, so tests and `validate` of stdin can share it. */
export function parseSpecText(file: string, text: string): LoadedSpec {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const findings: Finding[] = [];
  if (!Array.isArray(docs)) {
    // An empty stream: parseAllDocuments returns an EmptyStream marker.
    const locator = new Locator(file, undefined, undefined);
    return { file, text, locator, findings: [fileFinding(file, "is empty", "start from `k8s-ha init`")] };
  }
  const doc = docs[0];
  const locator = new Locator(file, doc, lines);
  if (!doc) return { file, text, locator, findings: [fileFinding(file, "is empty", "start from `k8s-ha init`")] };
  if (text.includes("\u0000")) {
    return {
      file,
      text,
      locator,
      findings: [fileFinding(file, "contains NUL bytes: not a text file", "save the spec as UTF-8 text")],
    };
  }
  // YAML-level problems have a place in the text but no spec path yet
  const atOffset = (offset: number, message: string, hint: string): Finding => {
    const pos = lines.linePos(offset);
    return { severity: "error", file, line: pos.line, col: pos.col, path: [], message, hint };
  };
  // A tab used as indentation derails the parser for every line after it: report only the tabs.
  const tabs = doc.errors.filter((error) => error.code === "TAB_AS_INDENT");
  for (const error of tabs.length > 0 ? tabs : doc.errors) {
    findings.push(atOffset(error.pos[0], `YAML: ${firstLine(error.message)}`, yamlHint(error.code)));
  }
  if (docs.length > 1) {
    findings.push(
      atOffset(
        docs[1]!.range[0],
        "holds more than one YAML document; a spec is exactly one",
        "remove the '---' and what follows, or split it into its own file",
      ),
    );
  }
  if (findings.length > 0) return { file, text, doc, locator, findings };
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (error) {
    const message = (error as Error).message;
    const aliases = /alias/i.test(message);
    findings.push(
      fileFinding(
        file,
        aliases
          ? `YAML aliases expand too far (over ${MAX_ALIASES}): refused as a resource-exhaustion risk`
          : `YAML: ${firstLine(message)}`,
        aliases ? "write the values out instead of using anchors and aliases" : undefined,
      ),
    );
    return { file, text, doc, locator, findings };
  }
  return { file, text, doc, value, locator, findings };
}

function firstLine(message: string): string {
  return message.split("\n")[0]!.trim();
}

function yamlHint(code: string): string {
  switch (code) {
    case "DUPLICATE_KEY":
      return "each key may appear once in a mapping: remove or merge the repeated one";
    case "TAB_AS_INDENT":
      return "indent with spaces, not tabs";
    case "BAD_INDENT":
    case "MISSING_CHAR":
      return "check the indentation and the ':' after each key";
    default:
      return "check the YAML syntax on that line: indentation with spaces, a ':' after each key, closed quotes and brackets";
  }
}

// A finding is one thing wrong (or worth knowing) about the spec, located in the source file.
// Every stage collects findings and the CLI prints them all: the user fixes everything in one go.
import type { Document, LineCounter, Node as YamlNode } from "yaml";
import { isMap, isNode, isPair, isScalar, isSeq } from "yaml";

export type Severity = "error" | "warning";
export type SpecPath = ReadonlyArray<string | number>;

export interface Finding {
  severity: Severity;
  /** The spec file as the user named it. */
  file: string;
  /** 1-based; 0 when the finding is about the file as a whole. */
  line: number;
  col: number;
  /** Path inside the spec, e.g. ["spec", "nodes", 1, "address"]. */
  path: SpecPath;
  message: string;
  /** What to do about it. */
  hint?: string;
}

/** "spec.nodes[1].address" — the form users see and type into their editors' search. */
export function formatPath(path: SpecPath): string {
  let text = "";
  for (const part of path) {
    if (typeof part === "number") text += `[${part}]`;
    else text += text ? `.${part}` : part;
  }
  return text || "(document)";
}

export function hasErrors(findings: readonly Finding[]): boolean {
  return findings.some((f) => f.severity === "error");
}

/** Maps spec paths to line:col in the parsed document. */
export class Locator {
  constructor(
    readonly file: string,
    private readonly doc: Document | undefined,
    private readonly lines: LineCounter | undefined,
  ) {}

  /**
   * The position of the deepest node along `path` that exists: the value itself when present,
   * else the mapping that lacks the key (so "missing field" points at its parent).
   * With `key: true`, points at the key of the last path element rather than its value.
   */
  position(path: SpecPath, options: { key?: boolean } = {}): { line: number; col: number } {
    if (!this.doc || !this.lines) return { line: 0, col: 0 };
    let node: unknown = this.doc.contents;
    let offset = rangeStart(node) ?? 0;
    for (const [i, part] of path.entries()) {
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === part);
        if (!pair) break;
        const last = i === path.length - 1;
        const keyStart = rangeStart(pair.key);
        if (last && options.key && keyStart !== undefined) {
          offset = keyStart;
          break;
        }
        node = pair.value;
        offset = rangeStart(node) ?? keyStart ?? offset;
      } else if (isSeq(node) && typeof part === "number") {
        const item = node.items[part];
        if (item === undefined) break;
        node = item;
        offset = rangeStart(node) ?? offset;
      } else {
        break;
      }
    }
    const pos = this.lines.linePos(offset);
    return { line: pos.line, col: pos.col };
  }

  finding(severity: Severity, path: SpecPath, message: string, hint?: string, options?: { key?: boolean }): Finding {
    const { line, col } = this.position(path, options);
    return { severity, file: this.file, line, col, path, message, ...(hint ? { hint } : {}) };
  }

  error(path: SpecPath, message: string, hint?: string): Finding {
    return this.finding("error", path, message, hint);
  }

  warning(path: SpecPath, message: string, hint?: string): Finding {
    return this.finding("warning", path, message, hint);
  }
}

function rangeStart(node: unknown): number | undefined {
  if (isNode(node)) return (node as YamlNode).range?.[0];
  return undefined;
}

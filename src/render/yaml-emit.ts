// A direct emitter for the YAML that render writes (issue 13): the same bytes as the `yaml`
// package's Document.toString with the options of yaml.ts, for the values k8s-ha renders, without
// building a node tree first. The package's stringifier was the largest part of a render's own
// work: it makes a node, a tag lookup and a context object for every value, and runs cold in a
// short-lived process.
//
// It is a serializer, not a template: every string goes through the rules the package applies
// (stringifyString.js, yaml 2.9): plain when YAML 1.1 reads it back as the same string (the
// package's own 1.1 resolvers decide), double-quoted (JSON escapes) or single-quoted otherwise,
// and multi-line text as a literal block with its chomping and indentation indicators.
//
// Where the package does something this emitter does not reproduce, emitYaml returns undefined
// and yaml.ts hands the value to the package: control characters, a quoted string across lines,
// text that ends in kept newlines, keys that are not plain, numbers that are not safe integers,
// anything but plain objects, arrays, strings, safe integers, booleans and null.
// test/render/yaml-emit.test.ts compares both on generated values.
import { Document, type Schema } from "yaml";

/** How collections are laid out: flowScalarLists puts a list of scalars on one line, `[ a, b ]`. */
export interface EmitStyle {
  flowScalarLists: boolean;
}

const STEP = "  ";

/** Thrown inside the emitter where the yaml package must write the value instead. */
class LeftToPackage extends Error {}
const leave = (): never => {
  throw new LeftToPackage();
};

/** The YAML of `value` (a mapping at the top), or undefined where the package must write it. */
export function emitYaml(value: unknown, style: EmitStyle): string | undefined {
  if (!isPlainObject(value)) return undefined;
  try {
    return `${collection(value, "", style)}\n`;
  } catch (error) {
    if (error instanceof LeftToPackage) return undefined;
    throw error;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object") return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

const isScalar = (value: unknown) =>
  value === null || typeof value === "string" || typeof value === "number" || typeof value === "boolean";

/** A block mapping or sequence whose lines after the first start at `indent`; `{}` or `[]` when empty. */
function collection(value: Record<string, unknown> | unknown[], indent: string, style: EmitStyle): string {
  const lines: string[] = [];
  if (Array.isArray(value)) {
    for (const item of value) lines.push(`- ${node(item, indent + STEP, style)}`);
    if (lines.length === 0) return "[]";
  } else {
    for (const [key, item] of Object.entries(value)) {
      if (item !== undefined) lines.push(pair(key, item, indent, style));
    }
    if (lines.length === 0) return "{}";
  }
  return lines.join(`\n${indent}`);
}

/** `key: value` in a block mapping whose lines start at `indent`. */
function pair(key: string, value: unknown, indent: string, style: EmitStyle): string {
  const keyText = plainKey(key, indent + STEP);
  const inner = indent + STEP;
  if (isScalar(value)) return `${keyText}: ${scalar(value, inner)}`;
  const text = node(value, inner, style);
  const onOneLine = text === "[]" || text === "{}" || text.startsWith("[ ");
  return onOneLine ? `${keyText}: ${text}` : `${keyText}:\n${inner}${text}`;
}

/** Any value whose continuation lines start at `indent` (a sequence item or a mapping value). */
function node(value: unknown, indent: string, style: EmitStyle): string {
  if (isScalar(value)) return scalar(value, indent);
  if (Array.isArray(value)) {
    if (style.flowScalarLists && value.length > 0 && value.every(isScalar)) return flowList(value, indent);
    return collection(value, indent, style);
  }
  if (isPlainObject(value)) return collection(value, indent, style);
  return leave();
}

/** `[ a, b ]`: a list of scalars on one line. */
function flowList(items: readonly unknown[], indent: string): string {
  const texts = items.map((item) =>
    typeof item === "string" ? flowString(item, indent + STEP) : scalar(item, indent + STEP),
  );
  return `[ ${texts.join(", ")} ]`;
}

function scalar(value: unknown, indent: string): string {
  if (value === null) return "null";
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "number") return Number.isSafeInteger(value) && !Object.is(value, -0) ? String(value) : leave();
  return blockString(value as string, indent);
}

// The package's tests (stringifyString.js), in its order.
/** Characters that make it quote whatever the style asked for. */
const FORCES_DOUBLE_QUOTES = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u{D800}-\u{DFFF}]/u;
/** What a plain scalar must not start with, contain or end with. */
const NOT_PLAIN = /^[\n\t ,[\]{}#&*!|>'"%@`]|^[?-]$|^[?-][ \t]|[\n:][ \t]|[ \t]\n|[\n\t ]#|[\n\t :]$/;
/** A line that a YAML 1.1 reader takes for a directive or a document marker. */
const DOCUMENT_MARKER = /^(%|---|\.\.\.)/m;

let schema: Schema | undefined;
/**
 * The first characters of every text a resolver of the YAML 1.1 schema (null, bool, int, float,
 * timestamp) takes, "e5" (a float) included: any other first character is a string, without trying
 * the ~15 resolvers. Checked against the package's resolvers in test/render/yaml-emit.test.ts.
 */
export const OTHER_TYPE_FIRST = "~NnYyTtOoFfEe+-.0123456789";
/** True when YAML 1.1 reads the plain text as something other than a string (on, 0640, 1:20, ~ …). */
function readsAsOtherType(text: string): boolean {
  if (text !== "" && !OTHER_TYPE_FIRST.includes(text[0]!)) return false;
  schema ??= new Document(null, { version: "1.1" }).schema;
  return schema.tags.some(
    (tag) => tag.default === true && tag.tag !== "tag:yaml.org,2002:str" && tag.test?.test(text) === true,
  );
}

/** A mapping key: plain, or left to the package (which would quote it or make it explicit). */
function plainKey(key: string, indent: string): string {
  if (key.length > 1024 || FORCES_DOUBLE_QUOTES.test(key) || key.includes("\n") || NOT_PLAIN.test(key)) leave();
  if (DOCUMENT_MARKER.test(key) && indent === STEP) leave();
  // YAML 1.1 reads a plain `<<` key as a merge, and the package writes it plain all the same: left
  // to it, as before this emitter (no key k8s-ha writes can be `<<`; interface names are validated)
  if (key === "<<") leave();
  return readsAsOtherType(key) ? leave() : key;
}

/** A string item of a flow sequence. */
function flowString(value: string, indent: string): string {
  if (FORCES_DOUBLE_QUOTES.test(value) || value.includes("\n")) leave();
  if (/[[\]{},]/.test(value) || NOT_PLAIN.test(value)) return quoted(value);
  if (DOCUMENT_MARKER.test(value) && indent === "") leave();
  return readsAsOtherType(value) ? quoted(value) : value;
}

/** A string value in block context: plain, quoted, or a literal block for text across lines. */
function blockString(value: string, indent: string): string {
  if (FORCES_DOUBLE_QUOTES.test(value)) leave();
  if (NOT_PLAIN.test(value)) return value.includes("\n") ? literal(value, indent) : quoted(value);
  if (value.includes("\n")) return literal(value, indent);
  if (DOCUMENT_MARKER.test(value) && indent === "") leave();
  return readsAsOtherType(value) ? quoted(value) : value;
}

/** One line quoted: single quotes when it holds a `"` and no `'`, else JSON's double quotes. */
function quoted(value: string): string {
  if (value.includes("\n")) leave();
  return value.includes('"') && !value.includes("'") ? `'${value}'` : JSON.stringify(value);
}

/** `|` with chomping (`-` none kept, `` one) and an indentation indicator when text starts with spaces. */
function literal(text: string, indent: string): string {
  if (/\n[\t ]+$/.test(text)) return quoted(text);
  let endStart = text.length;
  while (endStart > 0 && "\n\t ".includes(text[endStart - 1]!)) endStart--;
  let end = text.slice(endStart);
  const endNewline = end.indexOf("\n");
  if (endNewline !== -1 && (text === end || endNewline !== end.length - 1)) leave(); // "+": kept newlines
  const chomp = endNewline === -1 ? "-" : "";
  let body = text.slice(0, endStart);
  if (end.endsWith("\n")) end = end.slice(0, -1);
  let startEnd = 0;
  let startNewline = -1;
  let startsWithSpace = false;
  for (; startEnd < body.length; startEnd++) {
    const ch = body[startEnd];
    if (ch === " ") startsWithSpace = true;
    else if (ch === "\n") startNewline = startEnd;
    else break;
  }
  let start = body.slice(0, startNewline < startEnd ? startNewline + 1 : startEnd);
  if (start) {
    body = body.slice(start.length);
    start = start.replace(/\n+/g, `$&${indent}`);
  }
  const header = (startsWithSpace ? (indent ? "2" : "1") : "") + chomp;
  return `|${header}\n${indent}${start}${body.replace(/\n+/g, `$&${indent}`)}${end}`;
}

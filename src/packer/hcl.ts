// A small HCL2 writer for the Packer template. Every value reaches the file through `hclString`
// (or as a number/boolean), never pasted into HCL text: a spec value holding `"`, `\`, `${` or
// `%{` stays a literal string instead of closing the string or starting a template.
// The layout follows `packer fmt` (two-space indent, `=` aligned across a run of attributes),
// so that `packer fmt -check` accepts what we write.

/** An HCL expression written as is: only for fixed text in our code (var.x, path.root), never for spec values. */
export class HclExpr {
  constructor(readonly text: string) {}
}

export type HclValue = string | number | boolean | HclExpr | readonly HclValue[] | { readonly [key: string]: HclValue };

export interface HclAttribute {
  readonly kind: "attribute";
  readonly name: string;
  readonly value: HclValue;
}

export interface HclBlock {
  readonly kind: "block";
  readonly type: string;
  readonly labels: readonly string[];
  readonly body: readonly HclBodyItem[];
}

/** A `#` comment (one or more lines), or an empty line when text is "". */
export interface HclComment {
  readonly kind: "comment";
  readonly text: string;
}

export type HclBodyItem = HclAttribute | HclBlock | HclComment;

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_-]*$/;
/** Lists longer than this (or holding lists/objects) go one element per line. */
const MAX_INLINE_WIDTH = 100;

export const expr = (text: string): HclExpr => new HclExpr(text);
export const attr = (name: string, value: HclValue): HclAttribute => ({
  kind: "attribute",
  name: identifier(name),
  value,
});
export const block = (type: string, labels: readonly string[], body: readonly HclBodyItem[]): HclBlock => ({
  kind: "block",
  type: identifier(type),
  labels,
  body,
});
export const comment = (text: string): HclComment => ({ kind: "comment", text });
export const blank: HclComment = comment("");

function identifier(name: string): string {
  if (!IDENTIFIER.test(name)) throw new Error(`not an HCL identifier: ${JSON.stringify(name)}`);
  return name;
}

/** The body of a quoted HCL string for `value`, without the quotes. */
export function escapeHclString(value: string): string {
  let out = "";
  for (let i = 0; i < value.length; i++) {
    const ch = value[i] as string;
    const next = value[i + 1];
    const code = ch.charCodeAt(0);
    if (ch === "\\") out += "\\\\";
    else if (ch === '"') out += '\\"';
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    // `$${` and `%%{` are HCL's escapes for a literal `${` and `%{`.
    else if ((ch === "$" || ch === "%") && next === "{") out += ch + ch;
    else if (code < 0x20 || code === 0x7f) out += `\\u${code.toString(16).padStart(4, "0")}`;
    else out += ch;
  }
  return out;
}

/** `value` as a quoted HCL string literal. */
export function hclString(value: string): string {
  return `"${escapeHclString(value)}"`;
}

/** A quoted template mixing literal text (escaped) and interpolated expressions: tpl`${expr("path.root")}/http`. */
export function template(parts: readonly (string | HclExpr)[]): HclExpr {
  const body = parts.map((part) => (typeof part === "string" ? escapeHclString(part) : `\${${part.text}}`)).join("");
  return expr(`"${body}"`);
}

function inline(value: HclValue): string | undefined {
  if (typeof value === "string") return hclString(value);
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new Error(`not a finite number: ${value}`);
    return String(value);
  }
  if (typeof value === "boolean") return String(value);
  if (value instanceof HclExpr) return value.text;
  if (Array.isArray(value)) {
    const items = (value as readonly HclValue[]).map((item) =>
      typeof item === "object" && !(item instanceof HclExpr) ? undefined : inline(item),
    );
    if (items.some((item) => item === undefined)) return undefined;
    const text = `[${items.join(", ")}]`;
    return text.length <= MAX_INLINE_WIDTH ? text : undefined;
  }
  return undefined;
}

function valueText(value: HclValue, indent: string): string {
  const simple = inline(value);
  if (simple !== undefined) return simple;
  const inner = indent + "  ";
  if (Array.isArray(value)) {
    const items = (value as readonly HclValue[]).map((item) => `${inner}${valueText(item, inner)},\n`);
    return `[\n${items.join("")}${indent}]`;
  }
  const entries = Object.entries(value as { readonly [key: string]: HclValue });
  return `{\n${renderItems(
    entries.map(([key, item]) => attr(key, item)),
    inner,
  )}${indent}}`;
}

function renderItems(items: readonly HclBodyItem[], indent: string): string {
  let out = "";
  let i = 0;
  while (i < items.length) {
    const item = items[i] as HclBodyItem;
    if (item.kind === "comment") {
      const lines = item.text === "" ? [""] : item.text.split("\n").map((line) => `${indent}# ${line}`.trimEnd());
      out += lines.map((line) => `${line}\n`).join("");
      i++;
    } else if (item.kind === "block") {
      const labels = item.labels.map((label) => ` ${hclString(label)}`).join("");
      out += `${indent}${item.type}${labels} {\n${renderItems(item.body, indent + "  ")}${indent}}\n`;
      i++;
    } else {
      // `packer fmt` aligns `=` across consecutive single-line attributes; an attribute whose
      // value spans lines stands alone, with one space before its `=`.
      const first = valueText(item.value, indent);
      if (first.includes("\n")) {
        out += `${indent}${item.name} = ${first}\n`;
        i++;
        continue;
      }
      let end = i + 1;
      while (end < items.length) {
        const next = items[end] as HclBodyItem;
        if (next.kind !== "attribute" || valueText(next.value, indent).includes("\n")) break;
        end++;
      }
      const run = items.slice(i, end) as HclAttribute[];
      const width = Math.max(...run.map((a) => a.name.length));
      for (const a of run) out += `${indent}${a.name.padEnd(width)} = ${valueText(a.value, indent)}\n`;
      i = end;
    }
  }
  return out;
}

/** HCL text for a whole file body. */
export function renderHcl(items: readonly HclBodyItem[]): string {
  return renderItems(items, "");
}

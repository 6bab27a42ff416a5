// Parses `packer -machine-readable` output: one event per line,
//   timestamp,target,type,data…
// Packer writes a comma inside a field as `%!(PACKER_COMMA)` and a newline as the two characters
// `\n` (a backslash is written as is, so `\n` is ambiguous; Packer's own readers take it as a
// newline too). Lines seen from Packer 1.6.6:
//   1700000000,,ui,say,==> null.x: Running local shell script: /tmp/packer-shell123
//   1700000000,,ui,message,    null.x: hello%!(PACKER_COMMA) world
//   1700000000,,ui,error,Build 'null.x' errored after 19 milliseconds: Script exited …
//   1700000000,null.x,error,Script exited with non-zero exit status: 7 …
//   1700000000,null.x,artifact-count,1
//   1700000000,null.x,artifact,0,builder-id,packer.file
//   1700000000,null.x,artifact,0,files-count,1
//   1700000000,null.x,artifact,0,file,0,/tmp/out/f.ova
//   1700000000,null.x,artifact,0,end

export interface PackerEvent {
  /** Unix time in seconds, as Packer wrote it. */
  timestamp: number;
  /** The build ("virtualbox-iso.ubuntu"), or "" for messages about the whole run. */
  target: string;
  type: string;
  /** The remaining fields, unescaped. */
  data: string[];
}

export type UiLevel = "say" | "message" | "error";

export interface UiLine {
  level: UiLevel;
  text: string;
  timestamp: number;
}

export interface PackerArtifact {
  target: string;
  index: number;
  builderId: string;
  id: string;
  description: string;
  files: string[];
}

const COMMA = "%!(PACKER_COMMA)";
const LINE = /^(\d+),([^,]*),([^,]+)(?:,(.*))?$/;

export function unescapeField(field: string): string {
  return field.split(COMMA).join(",").replace(/\\n/g, "\n").replace(/\\r/g, "\r");
}

/** One event, or undefined for a line that is not machine-readable (a panic, a plugin's stray print). */
export function parseMachineReadableLine(line: string): PackerEvent | undefined {
  const match = LINE.exec(line.replace(/\r$/, ""));
  if (!match) return undefined;
  const [, timestamp, target, type, rest] = match;
  return {
    timestamp: Number(timestamp),
    target: unescapeField(target ?? ""),
    type: type ?? "",
    data: rest === undefined ? [] : rest.split(",").map(unescapeField),
  };
}

/** The human-readable line an event carries, if it is a `ui` event. */
export function uiLine(event: PackerEvent): UiLine | undefined {
  if (event.type !== "ui") return undefined;
  const [level, ...rest] = event.data;
  if (level !== "say" && level !== "message" && level !== "error") return undefined;
  return { level, text: rest.join(","), timestamp: event.timestamp };
}

/** "k8s-ha-package kubeadm 1.31.4-1.1", as 30-kubernetes.sh prints each installed package (Packer
 * prefixes the builder's name): the image record lists them. */
const PACKAGE_LINE = /(?:^|\s)k8s-ha-package ([a-z0-9][a-z0-9+.-]+) ([A-Za-z0-9.+~:-]+)\s*$/;

export function installedPackage(text: string): { name: string; version: string } | undefined {
  const match = PACKAGE_LINE.exec(text);
  return match ? { name: match[1]!, version: match[2]! } : undefined;
}

/** Splits a stream of chunks into complete lines; `flush` returns the unterminated rest. */
export class LineSplitter {
  private pending = "";

  push(chunk: string): string[] {
    const text = this.pending + chunk;
    const lines = text.split("\n");
    this.pending = lines.pop() ?? "";
    return lines;
  }

  flush(): string[] {
    const rest = this.pending;
    this.pending = "";
    return rest === "" ? [] : [rest];
  }
}

/** Collects the `artifact` events of a build into whole artifacts. */
export class ArtifactCollector {
  private readonly byKey = new Map<string, PackerArtifact>();

  add(event: PackerEvent): void {
    if (event.type !== "artifact") return;
    const [index, key, ...values] = event.data;
    if (index === undefined || key === undefined) return;
    const mapKey = `${event.target}\u0000${index}`;
    let artifact = this.byKey.get(mapKey);
    if (!artifact) {
      artifact = { target: event.target, index: Number(index), builderId: "", id: "", description: "", files: [] };
      this.byKey.set(mapKey, artifact);
    }
    const value = values.join(",");
    if (key === "builder-id") artifact.builderId = value;
    else if (key === "id") artifact.id = value;
    else if (key === "string") artifact.description = value;
    else if (key === "file") artifact.files[Number(values[0])] = values.slice(1).join(",");
  }

  get artifacts(): PackerArtifact[] {
    return [...this.byKey.values()].map((a) => ({ ...a, files: a.files.filter((f) => f !== undefined) }));
  }

  /** Every file of every artifact, in Packer's order. */
  get files(): string[] {
    return this.artifacts.flatMap((a) => a.files);
  }
}

/**
 * The errors worth repeating when a build fails: each build's own `error` events (its final
 * reason) and the `ui` error lines, without Packer's summary banners, in order, once each.
 */
export class ErrorCollector {
  private readonly seen = new Set<string>();
  readonly lines: string[] = [];

  add(event: PackerEvent): void {
    let text: string | undefined;
    if (event.type === "error" && event.target !== "") text = `${event.target}: ${event.data.join(",")}`;
    const ui = uiLine(event);
    if (ui?.level === "error") text = ui.text;
    if (text === undefined) return;
    text = text.trim();
    if (text === "" || text.startsWith("==> Some builds didn't complete") || text.startsWith("-->")) return;
    if (this.seen.has(text)) return;
    this.seen.add(text);
    this.lines.push(text);
  }

  /** A line that was not machine-readable (Packer writes some failures before its UI is up). */
  addRaw(line: string): void {
    const text = line.trim();
    if (text === "" || this.seen.has(text)) return;
    this.seen.add(text);
    this.lines.push(text);
  }
}

// Shared pieces of the ISO tests: temp dirs, running a reader, reading a tree back.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { IsoFile } from "../../src/iso/index.js";

export { tempDir } from "../helpers/cli.js";

export interface Ran {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/** Runs a reader to completion (argument array, no shell, killed after 60 s). */
export function run(program: string, args: readonly string[]): Ran {
  const r = spawnSync(program, args, { maxBuffer: 256 << 20, timeout: 60_000, killSignal: "SIGKILL" });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr.toString("utf8") };
}

/** Runs a reader that must succeed; returns its stdout. */
export function ok(program: string, args: readonly string[]): Buffer {
  const r = run(program, args);
  if (r.code !== 0) throw new Error(`${program} ${args.join(" ")} exited ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}

export const text = (s: string): Uint8Array => new TextEncoder().encode(s);

import { sha256 } from "../../src/write/hash.js";
export { sha256 };

/** Deterministic bytes that differ from file to file (a seeded xorshift), so a mix-up shows. */
export function pattern(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** Every regular file under `root`, by POSIX relative path. */
export function readTree(root: string, prefix = ""): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const name of readdirSync(join(root, prefix))) {
    const rel = prefix ? `${prefix}/${name}` : name;
    const full = join(root, rel);
    if (statSync(full).isDirectory()) for (const [k, v] of readTree(root, rel)) out.set(k, v);
    else out.set(rel, readFileSync(full));
  }
  return out;
}

/** The bytes of an in-memory IsoFile. */
export function bytesOf(file: IsoFile): Uint8Array {
  if (!(file.source instanceof Uint8Array)) return readFileSync(file.source.path);
  return file.source;
}

/** Asserts that `tree` holds exactly `files`, byte for byte. Returns a message or "". */
export function diffTree(tree: Map<string, Buffer>, files: readonly IsoFile[]): string {
  const want = new Map(files.map((f) => [f.name, bytesOf(f)]));
  const problems: string[] = [];
  for (const [name, data] of want) {
    const got = tree.get(name);
    if (!got) problems.push(`missing ${name}`);
    else if (Buffer.compare(got, Buffer.from(data)) !== 0)
      problems.push(`${name}: ${got.length} bytes differ from ${data.length}`);
  }
  for (const name of tree.keys()) if (!want.has(name)) problems.push(`unexpected ${name}`);
  return problems.join("; ");
}

/** Seed date used across the tests: 2024-01-02 03:04:05.06 UTC. */
export const DATE = new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 60));

// V8's compiled code of k8s-ha's own bundles, kept between runs on Node 20 (issue 13). Node ≥ 22.1
// has this built in (module.enableCompileCache(), see launch.ts); Node 20 has no cache for ES
// modules at all, which is why dist/ holds CommonJS bundles (scripts/build.mjs).
//
// How: Module.prototype._compile is wrapped for the files of dist/ only. Each bundle is compiled
// as a vm.Script with the cached data stored for it, if any; a bundle run without usable cached
// data gets it written at the exit of a run that succeeded, when it also holds the functions the
// command compiled lazily.
// Correct when dist/ changes: a cache file is named by the sha256 of the bundle's text and by the
// V8 version, and V8 itself rejects data that does not fit (then it is rewritten). The folder is
// private (0700) and must be ours: cached data is code, so a folder someone else can write to is
// never read.
import Module from "node:module";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { Script } from "node:vm";

interface CompilingModule {
  exports: unknown;
  require(id: string): unknown;
}
type Compile = (this: CompilingModule, content: string, filename: string) => unknown;

/** Where the cache lives: NODE_COMPILE_CACHE as Node ≥ 22 reads it, else its default, per user and V8. */
export function codeCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.NODE_COMPILE_CACHE || join(tmpdir(), "node-compile-cache");
  return join(base, `k8s-ha-${process.getuid?.() ?? "user"}-v8-${process.versions.v8}`);
}

/** A folder only we can write to, made if missing; undefined when that cannot be had. */
function privateDir(dir: string): string | undefined {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const info = statSync(dir);
    const ours = process.getuid === undefined || info.uid === process.getuid();
    return info.isDirectory() && ours && (info.mode & 0o022) === 0 ? dir : undefined;
  } catch {
    return undefined;
  }
}

/** Caches the compiled code of every CommonJS file under `root` (dist/) from now on. */
export function cacheCompiledCode(root: string, dir = codeCacheDir()): void {
  const cacheDir = privateDir(dir);
  if (cacheDir === undefined) return;
  const proto = Module.prototype as unknown as { _compile: Compile };
  const original = proto._compile;
  const pending: Array<() => void> = [];
  proto._compile = function (this: CompilingModule, content: string, filename: string) {
    if (dirname(filename) !== root) return original.call(this, content, filename);
    const cacheFile = join(cacheDir, `${basename(filename)}-${textSha256(content).slice(0, 32)}`);
    let cachedData: Buffer | undefined;
    try {
      cachedData = readFileSync(cacheFile);
    } catch {
      // first run of this bundle: compiled from its text, cached at exit
    }
    // a #! line is valid only at the very start of a script, as Node's own loader knows
    const code = Module.wrap(content.startsWith("#!") ? `//${content}` : content);
    const script = new Script(code, { filename, ...(cachedData ? { cachedData } : {}) });
    if (cachedData === undefined || script.cachedDataRejected)
      pending.push(() => writeAtomically(cacheFile, script.createCachedData()));
    const wrapper = script.runInThisContext({ displayErrors: true }) as (...args: unknown[]) => unknown;
    const require = Module.createRequire(filename);
    return wrapper.call(this.exports, this.exports, require, this, filename, dirname(filename));
  };
  // Only a run that succeeded writes: the data holds what the run compiled, and a run that
  // failed (a spec with errors, a usage error) compiled a fraction of its command, which every
  // later run would then compile again (render: ~5 % more instructions, measured with valgrind).
  process.once("exit", (code) => {
    if (code === 0) for (const write of pending) write();
  });
}

/**
 * sha256 of the text's UTF-8 bytes, hashed 64 KiB at a time: one update() with the whole text
 * encodes all of it into a fresh buffer first, and a fresh buffer costs a page fault per 4 KiB
 * (~110 for render's bundle; ~15 µs each on the 2-core VMs this is measured on).
 */
export function textSha256(text: string): string {
  const hash = createHash("sha256");
  for (let at = 0; at < text.length;) {
    let end = Math.min(at + 65536, text.length);
    const code = text.charCodeAt(end - 1);
    if (end < text.length && code >= 0xd800 && code <= 0xdbff) end++; // keep a surrogate pair whole
    hash.update(text.slice(at, end));
    at = end;
  }
  return hash.digest("hex");
}

function writeAtomically(file: string, data: Buffer): void {
  const temp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(temp, data, { mode: 0o600 });
    renameSync(temp, file);
  } catch {
    // a full or read-only disk: the next run compiles again, nothing else changes
  }
}

// The bin keeps V8's compiled code between runs (src/start/, issue 13). What must hold: the cache
// is written, used, and never makes k8s-ha run code that is not in dist/ now: a changed bundle
// or a damaged cache file gives the same output as no cache at all.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import Module from "node:module";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { textSha256 } from "../../src/start/code-cache.js";
import { EXAMPLES, ROOT, tempDir } from "../helpers/cli.js";

const builtIn = typeof (Module as { enableCompileCache?: unknown }).enableCompileCache === "function";
let cleanup = () => {};
afterEach(() => cleanup());

/** A copy of the package (dist/ and package.json), so that its bundles can be changed. */
function copyPackage() {
  const temp = tempDir("k8s-ha-code-cache-");
  cleanup = temp.cleanup;
  cpSync(join(ROOT, "dist"), join(temp.dir, "pkg/dist"), { recursive: true });
  cpSync(join(ROOT, "package.json"), join(temp.dir, "pkg/package.json"));
  const cache = join(temp.dir, "cache");
  const attempt = (...args: string[]) =>
    spawnSync(process.execPath, [join(temp.dir, "pkg/dist/k8s-ha.cjs"), ...args], {
      encoding: "utf8",
      env: { ...process.env, NODE_COMPILE_CACHE: cache, K8S_HA_VRRP_PASS: "s3cret" },
    });
  const run = (...args: string[]) => {
    const result = attempt(...args);
    expect(result.status, result.stderr).toBe(0);
    return result.stdout;
  };
  /** Our cache files (Node 20), by name: <bundle>-<sha256 of its text>. */
  const ours = () =>
    readdirSync(cache, { recursive: true, encoding: "utf8" }).filter((f) => /\.cjs-[0-9a-f]{32}$/.test(f));
  return { dir: temp.dir, cache, attempt, run, ours };
}

describe("V8 code cache of the bin", () => {
  it("keys a bundle by the sha256 of its UTF-8 bytes, hashed in pieces, also across a surrogate pair", () => {
    for (const text of ["", "a".repeat(200_000), `${"a".repeat(65535)}😀${"ü".repeat(70_000)}`]) {
      expect(textSha256(text)).toBe(createHash("sha256").update(Buffer.from(text, "utf8")).digest("hex"));
    }
  });

  it.skipIf(builtIn)("Node 20: written on the first run, read on the next, same output", () => {
    const pkg = copyPackage();
    const first = pkg.run("--help");
    expect(first).toMatch(/Usage: k8s-ha/);
    expect(
      pkg
        .ours()
        .map((f) => f.replace(/^.*\//, "").replace(/-[0-9a-f]+$/, ""))
        .sort(),
    ).toEqual(["cli.cjs", "errors.cjs", "terminal.cjs"]);
    const written = pkg.ours().map((f) => readFileSync(join(pkg.cache, f)));
    expect(pkg.run("--help")).toBe(first);
    expect(pkg.ours().map((f) => readFileSync(join(pkg.cache, f)))).toEqual(written); // used, not rewritten
  });

  it.skipIf(builtIn)("Node 20: a changed bundle is compiled from its new text; a damaged cache file is ignored", () => {
    const pkg = copyPackage();
    pkg.run("--help");
    const cli = join(pkg.dir, "pkg/dist/cli.cjs");
    writeFileSync(cli, readFileSync(cli, "utf8").replace("Compile one cluster spec", "Compile ONE cluster spec"));
    expect(pkg.run("--help")).toMatch(/Compile ONE cluster spec/);
    expect(pkg.ours().filter((f) => f.includes("cli.cjs-")).length).toBe(2); // one per text of the bundle

    for (const file of pkg.ours()) writeFileSync(join(pkg.cache, file), Buffer.alloc(4096, 0x5a));
    expect(pkg.run("--help")).toMatch(/Compile ONE cluster spec/);
  });

  it.skipIf(builtIn)(
    "Node 20: only a run that succeeded writes the cache (a failed one compiled a fraction of its command)",
    () => {
      const pkg = copyPackage();
      const bad = join(pkg.dir, "bad.yaml");
      writeFileSync(
        bad,
        readFileSync(join(EXAMPLES, "two-masters.yaml"), "utf8").replace(/vip: .*/, "vip: 192.168.56.300"),
      );
      const validateCache = () => pkg.ours().filter((f) => f.includes("command-validate.cjs-"));
      expect(pkg.attempt("validate", bad).status).toBe(1);
      expect(validateCache()).toEqual([]);
      pkg.run("validate", join(EXAMPLES, "two-masters.yaml"));
      expect(validateCache()).toHaveLength(1);
    },
  );

  it.skipIf(!builtIn)("Node >= 22: module.enableCompileCache() writes Node's own cache", () => {
    const pkg = copyPackage();
    const first = pkg.run("--help");
    expect(readdirSync(pkg.cache, { recursive: true }).length).toBeGreaterThan(0);
    expect(pkg.run("--help")).toBe(first);
  });
});

// The package's bin (dist/k8s-ha.cjs): turns on V8's compile cache, then runs the CLI (dist/cli.cjs,
// from src/index.ts). Start-up is mostly compiling k8s-ha's own code (issue 13): with the cache, a
// run after the first reads the compiled code instead. Node ≥ 22.1 does this itself
// (module.enableCompileCache, for every module it loads); Node 20 gets our equivalent for dist/.
// This file loads nothing else: what it imports statically is compiled before it runs.
import Module, { createRequire } from "node:module";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { cacheCompiledCode } from "./code-cache.js";

const dist = dirname(fileURLToPath(import.meta.url));
const builtIn = (Module as { enableCompileCache?: () => unknown }).enableCompileCache;
if (process.env.NODE_DISABLE_COMPILE_CACHE) {
  // the switch Node ≥ 22 honours, honoured on Node 20 too
} else if (typeof builtIn === "function") {
  builtIn();
} else {
  cacheCompiledCode(dist);
}
createRequire(import.meta.url)("./cli.cjs");

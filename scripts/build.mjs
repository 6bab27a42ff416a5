#!/usr/bin/env node
// Builds dist/: one ES module per command, bundled with esbuild. A bundle loads in a few reads
// instead of hundreds (zod, yaml and commander are many small files), which keeps
// `k8s-ha render` close to a bare `node` start. Type checking is `npm run typecheck`.
import { build } from "esbuild";
import { chmodSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
const outdir = join(root, "dist");
rmSync(outdir, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: ["src/index.ts"],
  outdir,
  bundle: true,
  splitting: true, // each command's lazy import() becomes its own chunk, loaded only when it runs
  platform: "node",
  format: "esm",
  target: "node20",
  // CommonJS dependencies inside an ES module bundle still call require() for Node's built-ins
  banner: { js: 'import { createRequire as __k8sHaRequire } from "node:module"; const require = __k8sHaRequire(import.meta.url);' },
  legalComments: "eof",
  logLevel: "warning",
});
chmodSync(join(outdir, "index.js"), 0o755);

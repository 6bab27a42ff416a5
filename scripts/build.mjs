#!/usr/bin/env node
// Builds dist/: one ES module per command, bundled with esbuild. A bundle loads in a few reads
// instead of hundreds (zod, yaml and commander are many small files), which keeps
// `k8s-ha render` close to a bare `node` start. Type checking is `npm run typecheck`.
import { build } from "esbuild";
import { chmodSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");

/**
 * zod's `z` and core namespaces re-export every translation of its error messages (`z.locales`, ~360 KB,
 * half of zod), which a bundler cannot drop from a namespace. k8s-ha writes its own messages and
 * uses only English, which zod registers by itself from en.js; `z.locales` is left with `en`.
 * Every command that reads a spec parses this code at start-up, so it counts.
 */
const englishOnlyZod = {
  name: "zod-english-only",
  setup(build) {
    build.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]zod[\\/]v4[\\/](classic[\\/]external|core[\\/]index)\.js$/.test(args.importer)
        ? { path: "zod-locales-english", namespace: "k8s-ha" }
        : undefined,
    );
    build.onLoad({ filter: /^zod-locales-english$/, namespace: "k8s-ha" }, () => ({
      contents: 'export { default as en } from "zod/v4/locales/en.js";',
      resolveDir: root,
      loader: "js",
    }));
  },
};
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
  plugins: [englishOnlyZod],
});
chmodSync(join(outdir, "index.js"), 0o755);

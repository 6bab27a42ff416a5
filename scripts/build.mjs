#!/usr/bin/env node
// Builds dist/ with esbuild. A bundle loads in a few reads instead of hundreds (zod, yaml and
// commander are many small files), which keeps `k8s-ha render` close to a bare `node` start.
// Type checking is `npm run typecheck`.
//
//   dist/k8s-ha.cjs         the bin (src/start/launch.ts): turns V8's compile cache on, loads cli.cjs
//   dist/cli.cjs            src/index.ts: the command line (commander), no command's code
//   dist/command-<x>.cjs    src/cli/commands/<x>.ts and all it needs, loaded only when <x> runs
//   dist/errors.cjs         src/errors.ts, one copy shared by all (the entry tests `instanceof ExitError`)
//   dist/terminal.cjs       src/terminal.ts, one copy shared by all (one stdout and one stderr, so output stays in order)
//
// CommonJS, not ES modules (issue 13): Node 20 can keep V8's compiled code only for scripts
// (vm.Script cachedData, src/start/code-cache.ts); Node ≥ 22 caches both. Without code splitting
// (esbuild splits ES modules only), what two commands share is in both their bundles; one run
// loads one command. Whitespace and syntax are minified, names are kept: an internal error's
// stack stays legible.
import { build } from "esbuild";
import { chmodSync, readdirSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

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
/**
 * commander requires node:child_process at load for the one thing k8s-ha never does (running
 * executable subcommands); loading it is ~5 ms of every start. Its spawn is required when called.
 */
const lazyChildProcessInCommander = {
  name: "commander-lazy-child-process",
  setup(build) {
    build.onResolve({ filter: /^node:child_process$/ }, (args) =>
      /[\\/]commander[\\/]lib[\\/]command\.js$/.test(args.importer)
        ? { path: "commander-child-process", namespace: "k8s-ha" }
        : undefined,
    );
    build.onLoad({ filter: /^commander-child-process$/, namespace: "k8s-ha" }, () => ({
      contents: 'exports.spawn = (...args) => require("node:child_process").spawn(...args);',
      loader: "js",
    }));
  },
};
/** Modules every bundle shares one instance of: separate files, as command modules are. */
const SHARED = ["errors", "terminal"];
/** Command modules and the SHARED ones stay separate files, required at run time (see above). */
const separateBundles = {
  name: "separate-bundles",
  setup(build) {
    build.onResolve({ filter: /^\.\.?\// }, (args) => {
      if (args.kind === "entry-point") return undefined;
      const command = /^\.\/commands\/([a-z-]+)\.js$/.exec(args.path);
      if (command && args.importer === join(root, "src/cli/program.ts"))
        return { path: `./command-${command[1]}.cjs`, external: true };
      const shared = SHARED.find(
        (name) => resolve(dirname(args.importer), args.path.replace(/\.js$/, ".ts")) === join(root, `src/${name}.ts`),
      );
      if (shared) return { path: `./${shared}.cjs`, external: true };
      return undefined;
    });
  },
};

const outdir = join(root, "dist");
rmSync(outdir, { recursive: true, force: true });
const common = {
  absWorkingDir: root,
  outdir,
  bundle: true,
  platform: "node",
  target: "node20",
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: "eof",
  logLevel: "warning",
};
/** `import.meta.url` in a CommonJS bundle: the bundle's own file URL, set by a line at its top. */
const moduleUrl = {
  define: { "import.meta.url": "__k8sHaModuleUrl" },
  banner: 'const __k8sHaModuleUrl = require("node:url").pathToFileURL(__filename).href;',
};
const commands = readdirSync(join(root, "src/cli/commands"))
  .filter((file) => file.endsWith(".ts"))
  .map((file) => file.slice(0, -3));
await build({
  ...common,
  entryPoints: {
    cli: "src/index.ts",
    ...Object.fromEntries(SHARED.map((name) => [name, `src/${name}.ts`])),
    ...Object.fromEntries(commands.map((name) => [`command-${name}`, `src/cli/commands/${name}.ts`])),
  },
  format: "cjs",
  outExtension: { ".js": ".cjs" },
  // program.ts's `await import("./commands/x.js")` becomes require(): one loader, one cache
  supported: { "dynamic-import": false },
  // the source is ES modules; packer/ and package.json are found from the bundle's own path
  define: moduleUrl.define,
  banner: { js: moduleUrl.banner },
  plugins: [englishOnlyZod, lazyChildProcessInCommander, separateBundles],
});
// The bin is CommonJS too: an ES module as the main script makes Node load its ES module loader
// first (~30 ms of every run, issue 13); a .cjs file keeps it on the CommonJS path `node -e 0` takes.
await build({
  ...common,
  entryPoints: { "k8s-ha": "src/start/launch.ts" },
  format: "cjs",
  outExtension: { ".js": ".cjs" },
  define: moduleUrl.define,
  banner: { js: `#!/usr/bin/env node\n${moduleUrl.banner}` },
});
chmodSync(join(outdir, "k8s-ha.cjs"), 0o755);

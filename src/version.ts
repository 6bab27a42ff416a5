// The tool's version, from package.json (dist/version.js and src/version.ts both sit one level
// below the package root). Recorded in manifests so output can be traced to the tool that made it.
import { readFileSync } from "node:fs";

export const VERSION: string = (
  JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }
).version;

export const GENERATOR = `k8s-ha ${VERSION}`;

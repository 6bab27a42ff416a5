// Every example under every target: the spec as written, with target set and what an Ignition
// OS needs (no ufw to enable) changed, compiled in-process.
import { isIgnitionOs } from "../../src/spec/targets.js";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { planCluster, type ClusterPlan } from "../../src/plan/plan.js";
import type { Artifact } from "../../src/render/artifact.js";
import { renderNodes } from "../../src/render/index.js";
import { TARGET_OSES, SERVICE_MODES } from "../../src/spec/schema.js";
import { checkSpecText } from "../../src/spec/index.js";
import { EXAMPLES } from "../helpers/cli.js";
import { EXAMPLE_ENV } from "../helpers/plan.js";

export type Os = (typeof TARGET_OSES)[number];
export type Services = (typeof SERVICE_MODES)[number];

export const TARGETS: Array<{ os: Os; services: Services }> = TARGET_OSES.flatMap((os) =>
  SERVICE_MODES.map((services) => ({ os, services })),
);

export const EXAMPLE_FILES = [
  "two-masters.yaml",
  "three-node-unicast.yaml",
  "fcos.yaml",
  "flatcar-static-pods.yaml",
  "ubuntu-static-pods.yaml",
];

/** The example's spec object with `target` set; Ignition OSes get no firewall, installPackages or ubuntu-only values. */
export function retarget(example: string, os: Os, services: Services): Record<string, any> {
  const spec = parse(readFileSync(join(EXAMPLES, example), "utf8"));
  spec.spec.target = { os, services };
  if (isIgnitionOs(os)) {
    spec.spec.firewall = { enabled: false };
    delete spec.spec.installPackages;
  }
  return spec;
}

export function compile(spec: Record<string, any>): { plan: ClusterPlan; artifacts: Artifact[] } {
  const checked = checkSpecText("spec.yaml", stringify(spec), EXAMPLE_ENV);
  if (!checked.spec) throw new Error(`invalid:\n${checked.findings.map((f) => f.message).join("\n")}`);
  const plan = planCluster(checked.spec, EXAMPLE_ENV);
  return { plan, artifacts: renderNodes(plan) };
}

export function text(artifacts: readonly Artifact[], path: string): string {
  const artifact = artifacts.find((a) => a.path === path);
  if (!artifact) throw new Error(`${path} was not rendered; have ${artifacts.map((a) => a.path).join(", ")}`);
  return String(artifact.contents);
}

/** The text behind an Ignition `data:,` URL. */
export function fromDataUrl(source: string): string {
  if (!source.startsWith("data:,")) throw new Error(`not a plain data URL: ${source.slice(0, 40)}`);
  return decodeURIComponent(source.slice("data:,".length));
}

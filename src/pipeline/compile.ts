// The front half of the pipeline as one call: load → check (spec) → plan, plus the static assets
// renderers copy. It prints nothing and exits nothing: the CLI (src/cli/compile.ts), the tests and
// every command call it and decide what to do with the findings.
import { loadPackerAssets } from "../packer/assets.js";
import type { PackerAssets } from "../packer/render.js";
import { planCluster, type ClusterPlan } from "../plan/plan.js";
import type { Env } from "../spec/check.js";
import { hasErrors, type Finding } from "../spec/findings.js";
import { loadSpec, type SpecRequirement } from "../spec/index.js";
import type { Spec } from "../spec/schema.js";

export interface Compiled {
  file: string;
  spec: Spec;
  plan: ClusterPlan;
  sha256: string;
  findings: Finding[];
  /** Static files shipped with k8s-ha that renderers copy (read here, at the edge). */
  assets: { packer: PackerAssets };
}

export interface CompileOptions {
  env?: Env;
  /** What this command needs beyond a valid spec (e.g. spec.publish.s3 for publish). */
  requires?: readonly SpecRequirement[];
}

/** Every finding, and the compiled spec when there is no error among them. */
export async function compile(
  file: string,
  options: CompileOptions = {},
): Promise<{ findings: Finding[]; compiled?: Compiled }> {
  const env = options.env ?? process.env;
  const checked = await loadSpec(file, env, options.requires);
  if (hasErrors(checked.findings) || !checked.spec) return { findings: checked.findings };
  const compiled: Compiled = {
    file: checked.file,
    spec: checked.spec,
    plan: planCluster(checked.spec, env),
    sha256: checked.sha256,
    findings: checked.findings,
    assets: { packer: await loadPackerAssets() },
  };
  return { findings: checked.findings, compiled };
}

// The shared front half of most commands: load and check the spec, print what was found, plan.
import { loadPackerAssets } from "../packer/assets.js";
import type { PackerAssets } from "../packer/render.js";
import { planCluster, type ClusterPlan } from "../plan/plan.js";
import type { Env } from "../spec/check.js";
import { hasErrors, type Finding } from "../spec/findings.js";
import { loadSpec } from "../spec/index.js";
import type { Spec } from "../spec/schema.js";
import { DEFAULT_SPEC } from "./defaults.js";
import { EXIT, ExitError } from "./errors.js";
import { printFindings, summary, type Format } from "./report.js";


export interface Compiled {
  file: string;
  spec: Spec;
  plan: ClusterPlan;
  sha256: string;
  findings: Finding[];
  /** Static files shipped with k8s-ha that renderers copy (read here, at the edge). */
  assets: { packer: PackerAssets };
}

/** Loads, checks and plans; prints findings; throws ExitError(1) when the spec has errors. */
export async function compileSpec(file: string | undefined, options: { env?: Env; format?: Format } = {}): Promise<Compiled> {
  const path = file ?? DEFAULT_SPEC;
  const env = options.env ?? process.env;
  const checked = await loadSpec(path, env);
  printFindings(checked.findings, options.format ?? "text");
  if (hasErrors(checked.findings) || !checked.spec) {
    throw new ExitError(EXIT.invalid, `${path}: ${summary(checked.findings)}; nothing was written`);
  }
  return {
    file: path,
    spec: checked.spec,
    plan: planCluster(checked.spec, env),
    sha256: checked.sha256,
    findings: checked.findings,
    assets: { packer: await loadPackerAssets() },
  };
}

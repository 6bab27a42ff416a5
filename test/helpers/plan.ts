// Plans for renderer tests, compiled in-process from spec text.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { clusterArtifacts } from "../../src/pipeline/artifacts.js";
import { loadPackerAssets } from "../../src/packer/assets.js";
import { planCluster, type ClusterPlan } from "../../src/plan/plan.js";
import { checkSpecText, loadSpec } from "../../src/spec/index.js";
import { EXAMPLES } from "./cli.js";
import { specYaml } from "./specs.js";

/** The env the examples need (three-node-unicast reads its VRRP password from it). */
export const EXAMPLE_ENV = { K8S_HA_VRRP_PASS: "s3cret" };

export function planFromText(text: string, env: Record<string, string> = EXAMPLE_ENV): ClusterPlan {
  const checked = checkSpecText("spec.yaml", text, env);
  if (!checked.spec) throw new Error(`test spec invalid:\n${checked.findings.map((f) => f.message).join("\n")}`);
  return planCluster(checked.spec, env);
}

export function planOf(mutate: (s: Record<string, any>) => void = () => {}): ClusterPlan {
  return planFromText(specYaml(mutate));
}

/** The plan of a spec file; with `invalid`, of one that fails the semantic checks (as rehearse --accept-invalid does). */
export async function planOfFile(file: string, options: { invalid?: boolean } = {}): Promise<ClusterPlan> {
  const checked = await loadSpec(file, EXAMPLE_ENV);
  const spec = options.invalid ? checked.parsed : checked.spec;
  if (!spec) throw new Error(`${file}: ${checked.findings.map((f) => f.message).join("; ")}`);
  return planCluster(spec, EXAMPLE_ENV);
}

export function examplePlan(name: string): ClusterPlan {
  return planFromText(readFileSync(join(EXAMPLES, name), "utf8"));
}

/** Everything `render` writes for an example, computed in-process. */
export async function exampleArtifacts(example: string) {
  const checked = await loadSpec(join(EXAMPLES, example), EXAMPLE_ENV);
  if (!checked.spec) throw new Error(`${example} is invalid`);
  const plan = planCluster(checked.spec, EXAMPLE_ENV);
  const assets = { packer: await loadPackerAssets() };
  return clusterArtifacts({
    file: example,
    spec: checked.spec,
    plan,
    sha256: checked.sha256,
    findings: checked.findings,
    assets,
  });
}

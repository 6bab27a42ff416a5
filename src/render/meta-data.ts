// meta-data (NoCloud). cloud-init runs its once-per-instance modules again only when the
// instance-id changes, so the id carries a hash of the node's user-data and network-config:
// a changed seed is applied, an unchanged one is not re-run.
import { createHash } from "node:crypto";
import type { ClusterPlan, NodePlan } from "../plan/plan.js";
import { GENERATED_BANNER } from "./artifact.js";
import { toCloudYaml, yamlComments } from "./yaml.js";

export function instanceId(plan: ClusterPlan, node: NodePlan, userData: string, networkConfig: string): string {
  const digest = createHash("sha256").update(userData).update("\0").update(networkConfig).digest("hex");
  return `${plan.name}-${node.name}-${digest.slice(0, 12)}`;
}

export function renderMetaData(plan: ClusterPlan, node: NodePlan, userData: string, networkConfig: string): string {
  return (
    yamlComments(GENERATED_BANNER) +
    toCloudYaml({ "instance-id": instanceId(plan, node, userData, networkConfig), "local-hostname": node.name })
  );
}

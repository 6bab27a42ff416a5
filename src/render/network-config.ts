// network-config (NoCloud, version 2 = netplan's format without the top-level `network:` key).
// Ubuntu 20.04's netplan 0.99 rejects `to: default`, so the default route is written as 0.0.0.0/0.
import type { ClusterPlan, NodePlan } from "../plan/plan.js";
import { GENERATED_BANNER } from "./artifact.js";
import { toCloudYaml, yamlComments } from "./yaml.js";

export function renderNetworkConfig(plan: ClusterPlan, node: NodePlan): string {
  const { network } = plan;
  const ethernet: Record<string, unknown> = {
    dhcp4: false,
    dhcp6: false,
    addresses: [`${node.address}/${network.prefixLength}`],
  };
  if (network.gateway !== undefined) ethernet.routes = [{ to: "0.0.0.0/0", via: network.gateway }];
  if (network.nameservers.length > 0) ethernet.nameservers = { addresses: network.nameservers };
  return yamlComments(GENERATED_BANNER) + toCloudYaml({ version: 2, ethernets: { [network.interface]: ethernet } });
}

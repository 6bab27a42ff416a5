// network-config (NoCloud, version 2 = netplan's format without the top-level `network:` key).
// Ubuntu 20.04's netplan 0.99 rejects `to: default`, so the default route is written as 0.0.0.0/0.
//
// Several NICs, one default route: the cluster NIC (static address, VIP) routes to network.gateway
// when there is one; otherwise the first DHCP NIC (VirtualBox's NAT adapter) brings the default
// route and DNS. Every other DHCP NIC keeps its address but ignores the routes its server offers
// (`dhcp4-overrides: {use-routes: false}`): two default routes, even with metrics, would send
// replies out of the wrong NIC whenever one of them flaps — an override leaves no second route.
import type { ClusterPlan, NodePlan } from "../plan/plan.js";
import { GENERATED_BANNER } from "./artifact.js";
import { toCloudYaml, yamlComments } from "./yaml.js";

export function renderNetworkConfig(plan: ClusterPlan, node: NodePlan): string {
  const { network } = plan;
  const ethernets: Record<string, unknown> = {};
  const cluster: Record<string, unknown> = {
    dhcp4: false,
    dhcp6: false,
    addresses: [`${node.address}/${network.prefixLength}`],
  };
  if (network.gateway !== undefined) cluster.routes = [{ to: "0.0.0.0/0", via: network.gateway }];
  if (network.nameservers.length > 0) cluster.nameservers = { addresses: network.nameservers };
  ethernets[network.interface] = cluster;
  network.dhcpInterfaces.forEach((name, i) => {
    const routes = network.gateway === undefined && i === 0;
    ethernets[name] = { dhcp4: true, dhcp6: false, ...(routes ? {} : { "dhcp4-overrides": { "use-routes": false } }) };
  });
  return yamlComments(GENERATED_BANNER) + toCloudYaml({ version: 2, ethernets });
}

// The node's static address in the form each OS reads at boot: a NetworkManager keyfile on
// Fedora CoreOS (its documented way; NetworkManager ignores keyfiles not owned by root with
// mode 0600), a systemd-networkd unit on Flatcar (10- sorts before Flatcar's zz-default.network,
// which would otherwise run DHCP on every interface).
import type { ClusterPlan, NodePlan } from "../../plan/plan.js";
import { GENERATED_BANNER } from "../artifact.js";
import { ipv4Word, unitWord } from "../quote.js";

export interface NetworkFile {
  path: string;
  mode: number;
  contents: string;
}

export function renderNetworkFile(plan: ClusterPlan, node: NodePlan): NetworkFile {
  return plan.target.network === "networkd" ? networkdFile(plan, node) : keyfile(plan, node);
}

function keyfile(plan: ClusterPlan, node: NodePlan): NetworkFile {
  const F = "a NetworkManager keyfile";
  const { network } = plan;
  const iface = unitWord(F, network.interface);
  const gateway = network.gateway !== undefined ? `,${ipv4Word(F, network.gateway)}` : "";
  const lines = [
    `# ${GENERATED_BANNER}`,
    `# node ${node.name}: static address on ${iface}`,
    "[connection]",
    `id=${iface}`,
    "type=ethernet",
    `interface-name=${iface}`,
    "",
    "[ipv4]",
    "method=manual",
    `address1=${ipv4Word(F, node.address)}/${network.prefixLength}${gateway}`,
    ...(network.nameservers.length > 0
      ? [`dns=${network.nameservers.map((ns) => `${ipv4Word(F, ns)};`).join("")}`]
      : []),
    "may-fail=false",
    "",
    "[ipv6]",
    "method=disabled",
    "",
  ];
  return {
    path: `/etc/NetworkManager/system-connections/${iface}.nmconnection`,
    mode: 0o600,
    contents: lines.join("\n"),
  };
}

function networkdFile(plan: ClusterPlan, node: NodePlan): NetworkFile {
  const F = "a systemd-networkd file";
  const { network } = plan;
  const iface = unitWord(F, network.interface);
  const lines = [
    `# ${GENERATED_BANNER}`,
    `# node ${node.name}: static address on ${iface}`,
    "[Match]",
    `Name=${iface}`,
    "",
    "[Network]",
    "DHCP=no",
    `Address=${ipv4Word(F, node.address)}/${network.prefixLength}`,
    ...(network.gateway !== undefined ? [`Gateway=${ipv4Word(F, network.gateway)}`] : []),
    ...network.nameservers.map((ns) => `DNS=${ipv4Word(F, ns)}`),
    "",
  ];
  return { path: `/etc/systemd/network/10-${iface}.network`, mode: 0o644, contents: lines.join("\n") };
}

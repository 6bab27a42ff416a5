// The ufw commands of a node (user-data runcmd), following kubeadm's "Ports and Protocols" table
// for a control-plane node. docs/nodes.md explains every rule and how to tighten them.
//
// - `ufw --force reset` first: runcmd runs again whenever the seed changes (new instance-id), and
//   ufw only ever adds rules; without the reset a port removed from the spec stays open.
// - Routed traffic is allowed: pod traffic is forwarded by the node, and ufw's default routed
//   policy (deny) drops it.
// - 6443 (the apiserver) and the LB port are open to all: pods reach the `kubernetes` Service at
//   nodeIP:6443, workers and clients come from anywhere.
// - etcd (2379:2380), the kubelet (10250), the controller-manager (10257) and the scheduler
//   (10259) only from the control-plane peers; the node itself reaches them over `lo`, which ufw
//   always accepts.
// - VRRP from each peer: multicast adverts go to 224.0.0.18; unicast adverts come to the node's
//   own address, and ufw 0.36 (Ubuntu 20.04) cannot name protocol 112, so that rule admits every
//   protocol from the peer to the node's address.
import type { ClusterPlan, NodePlan } from "../plan/plan.js";

export const VRRP_MULTICAST = "224.0.0.18";
/** kubeadm's control-plane ports reached by the other control-plane nodes only. */
export const CONTROL_PLANE_PEER_PORTS = "2379:2380,10250,10257,10259";

/** Each command as an argument vector, `ufw` first. */
export function ufwCommands(plan: ClusterPlan, node: NodePlan): string[][] {
  const { firewall } = plan;
  if (!firewall.enabled) return [];
  const ufw = (...args: string[]) => ["ufw", ...args];
  const commands = [
    ufw("--force", "reset"),
    ufw("default", "deny", "incoming"),
    ufw("default", "allow", "outgoing"),
    ufw("default", "allow", "routed"),
  ];
  if (firewall.allowSsh) commands.push(ufw("allow", "22/tcp", "comment", "SSH"));
  commands.push(ufw("allow", `${plan.apiserverPort}/tcp`, "comment", "kube-apiserver"));
  commands.push(ufw("allow", `${plan.lbPort}/tcp`, "comment", "k8s-ha apiserver load balancer"));
  for (const peer of node.peers) {
    commands.push(
      ufw(
        "allow",
        "proto",
        "tcp",
        "from",
        peer.address,
        "to",
        "any",
        "port",
        CONTROL_PLANE_PEER_PORTS,
        "comment",
        `etcd, kubelet, controller-manager, scheduler from ${peer.name}`,
      ),
    );
    const vrrpTo = plan.vrrp.unicast ? node.address : VRRP_MULTICAST;
    commands.push(ufw("allow", "from", peer.address, "to", vrrpTo, "comment", `VRRP from ${peer.name}`));
  }
  for (const rule of firewall.allow) {
    commands.push(
      rule.from === undefined
        ? ufw("allow", rule.port)
        : ufw("allow", "from", rule.from, "to", "any", ...portArgs(rule.port)),
    );
  }
  commands.push(ufw("--force", "enable"));
  return commands;
}

/** "8472/udp" as ufw's extended syntax wants it after `to any`: port 8472 proto udp. */
function portArgs(port: string): string[] {
  const [ports, proto] = port.split("/");
  return ["port", ports!, ...(proto !== undefined ? ["proto", proto] : [])];
}

/**
 * The commands `validate --tools` hands to `ufw --dry-run`: the rules, which come from the spec.
 * Not reset (it backs up and replaces /etc/ufw even with --dry-run), enable, or the fixed defaults.
 */
export function isDryRunnable(command: readonly string[]): boolean {
  return command[0] === "ufw" && command[1] === "allow";
}

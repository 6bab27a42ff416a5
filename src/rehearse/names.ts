// Names and addresses of one lab. Everything a lab creates carries its id, so clean-up removes
// exactly that, and labs running side by side (parallel CI jobs, a --keep lab) never collide.
import { randomBytes } from "node:crypto";
import { EXIT, ExitError } from "../errors.js";
import type { ClusterPlan } from "../plan/plan.js";
import { ipv4ToNumber, networkOf, numberToIPv4 } from "../spec/ipv4.js";

/** Every namespace of every lab starts with this, so `ip netns list | grep` finds leftovers. */
const NETNS_PREFIX = "k8s-ha-";

export interface NodeNames {
  name: string;
  /** Network namespace of the node. */
  netns: string;
  /** The bridge-side end of the node's veth pair (the node side is named as in the spec). */
  bridgePort: string;
}

export interface LabNames {
  id: string;
  /** Namespace holding the bridge and the client that talks to the VIP. */
  bridgeNetns: string;
  bridge: string;
  nodes: NodeNames[];
}

/** 6 hex characters: short enough for 15-character link names, random enough for parallel labs. */
function newLabId(): string {
  return randomBytes(3).toString("hex");
}

export function labNames(plan: ClusterPlan, id: string = newLabId()): LabNames {
  return {
    id,
    bridgeNetns: `${NETNS_PREFIX}${id}-lan`,
    bridge: `br-${id}`,
    // link names are limited to 15 characters, so the bridge ports are numbered, not named
    nodes: plan.nodes.map((node, i) => ({
      name: node.name,
      netns: `${NETNS_PREFIX}${id}-${node.name}`,
      bridgePort: `v${id}n${i}`,
    })),
  };
}

/**
 * An address in the nodes' subnet that no node and not the VIP uses, for the client that asks the
 * VIP for /healthz: the highest free host address, where a gateway would usually sit.
 */
export function clientAddress(plan: ClusterPlan): string {
  const prefix = plan.network.prefixLength;
  const used = new Set([plan.vip, ...plan.nodes.map((n) => n.address)].map(ipv4ToNumber));
  const network = networkOf(plan.vip, prefix);
  const size = 2 ** (32 - prefix);
  // /31 and /32 have no network or broadcast address to skip
  const [first, last] = size <= 2 ? [0, size - 1] : [1, size - 2];
  for (let offset = last; offset >= first; offset--) {
    if (!used.has(network + offset)) return numberToIPv4(network + offset);
  }
  throw new ExitError(
    EXIT.invalid,
    `no free address left in ${plan.vip}/${prefix} for the lab's client`,
    "use a larger prefixLength",
  );
}

/** Every namespace of the lab: the bridge's, then each node's (clean-up script and report). */
export function labNamespaces(names: LabNames): string[] {
  return [names.bridgeNetns, ...names.nodes.map((n) => n.netns)];
}

// ClusterPlan: the checked spec resolved into per-node facts (state, priority, peers) that the
// renderers only have to print. Every decision lives here, so renderers stay simple and pure.
import type { Env } from "../spec/check.js";
import type { ImageSpec, Spec } from "../spec/schema.js";
import { autoWeight, resolvePriorities } from "../spec/failover.js";
import { isIgnitionOs } from "../spec/targets.js";
import { allowRule, type AllowRule } from "../spec/firewall.js";
import { planTarget, type TargetPlan } from "./target.js";
import { planKubernetes, type KubernetesPlan } from "./kubernetes.js";

export interface PeerPlan {
  name: string;
  address: string;
}

export interface NodePlan {
  name: string;
  address: string;
  priority: number;
  /** MASTER for the highest priority when preempting; BACKUP otherwise (nopreempt needs BACKUP). */
  state: "MASTER" | "BACKUP";
  peers: PeerPlan[];
}

export interface ClusterPlan {
  name: string;
  vip: string;
  network: {
    interface: string;
    prefixLength: number;
    gateway?: string;
    nameservers: string[];
    /** Other NICs, configured by DHCP (network-config.ts decides which one owns the default route). */
    dhcpInterfaces: string[];
  };
  apiserverPort: number;
  lbPort: number;
  balance: "roundrobin" | "leastconn" | "source";
  vrrp: {
    virtualRouterId: number;
    /** Resolved from authPass or the environment variable named by authPassEnv. */
    authPass?: string;
    advertInterval: number;
    unicast: boolean;
    preempt: boolean;
  };
  healthCheck: {
    interval: number;
    fall: number;
    rise: number;
    /** Resolved from `auto`; 0 means a failing check puts the node into FAULT. */
    weight: number;
  };
  firewall: { enabled: boolean; allowSsh: boolean; allow: AllowRule[] };
  /** Where the nodes run and who runs keepalived and haproxy there (plan/target.ts). */
  target: TargetPlan;
  /** cloud-init installs the packages with apt (Ubuntu only; always false on fcos/flatcar). */
  installPackages: boolean;
  users: { name: string; sshAuthorizedKeys: string[]; sudo: boolean }[];
  image: ImageSpec;
  nodes: NodePlan[];
  /** With spec.kubernetes: what the kubeadm configs and the image's Kubernetes packages need. */
  kubernetes?: KubernetesPlan;
}

/** Plans a spec that passed checkSpec (with the same env). */
export function planCluster(spec: Spec, env: Env): ClusterPlan {
  const s = spec.spec;
  const priorities = resolvePriorities(s.nodes);
  const top = Math.max(...priorities);
  const nodes: NodePlan[] = s.nodes.map((node, i) => ({
    name: node.name,
    address: node.address,
    priority: priorities[i]!,
    state: s.vrrp.preempt && priorities[i] === top ? "MASTER" : "BACKUP",
    peers: s.nodes.filter((_, j) => j !== i).map((peer) => ({ name: peer.name, address: peer.address })),
  }));
  const authPass = s.vrrp.authPass ?? (s.vrrp.authPassEnv !== undefined ? env[s.vrrp.authPassEnv] : undefined);
  return {
    name: spec.metadata.name,
    vip: s.vip,
    network: {
      interface: s.network.interface,
      prefixLength: s.network.prefixLength,
      ...(s.network.gateway !== undefined ? { gateway: s.network.gateway } : {}),
      nameservers: s.network.nameservers,
      dhcpInterfaces: s.network.dhcpInterfaces,
    },
    apiserverPort: s.apiserver.port,
    lbPort: s.loadBalancer.port,
    balance: s.loadBalancer.balance,
    vrrp: {
      virtualRouterId: s.vrrp.virtualRouterId,
      ...(authPass !== undefined ? { authPass } : {}),
      advertInterval: s.vrrp.advertInterval,
      unicast: s.vrrp.unicast,
      preempt: s.vrrp.preempt,
    },
    healthCheck: {
      interval: s.healthCheck.interval,
      fall: s.healthCheck.fall,
      rise: s.healthCheck.rise,
      weight: s.healthCheck.weight === "auto" ? autoWeight(priorities, s.vrrp.preempt) : s.healthCheck.weight,
    },
    firewall: { enabled: s.firewall.enabled, allowSsh: s.firewall.allowSsh, allow: s.firewall.allow.map(allowRule) },
    target: planTarget(s.target),
    installPackages: isIgnitionOs(s.target.os) ? false : (s.installPackages ?? true),
    users: s.users,
    image: s.image,
    nodes,
    ...(s.kubernetes ? { kubernetes: planKubernetes(spec)! } : {}),
  };
}

// keepalived and haproxy as containers: one description per service, from which both the
// systemd units (ignition/units.ts) and the static pods (static-pods.ts) are printed, so the two
// forms cannot drift apart. Host networking (keepalived moves the VIP on the host's interface;
// haproxy binds the host's LB port), every capability dropped and only those needed added back,
// and the rendered config files mounted read-only at the paths the programs read.
import type { ClusterPlan } from "../plan/plan.js";
import { IMAGES } from "./images.js";
import { VM_PATHS } from "./paths.js";
import { ipv4Word } from "./quote.js";

export interface ContainerMount {
  /** A volume name for the static pod (a DNS label). */
  name: string;
  hostPath: string;
  containerPath: string;
}

export interface ContainerSpec {
  name: "keepalived" | "haproxy";
  description: string;
  image: string;
  /** Replaces the image's entrypoint. */
  command: string;
  args: string[];
  /** Added back after dropping all: VRRP needs raw sockets, and the VIP is an address change. */
  capabilities: string[];
  mounts: ContainerMount[];
}

/** Where the official haproxy image reads its config (the kubeadm guide mounts it there too). */
export const HAPROXY_IMAGE_CONFIG = "/usr/local/etc/haproxy/haproxy.cfg";

export function keepalivedContainer(plan: ClusterPlan): ContainerSpec {
  return {
    name: "keepalived",
    description: `keepalived: holds the Kubernetes API VIP ${ipv4Word("a container description", plan.vip)} (VRRP)`,
    image: IMAGES.keepalived.ref,
    command: IMAGES.keepalived.binary,
    // --vrrp: only the VRRP process; the IPVS checker would have nothing to do and wants modules
    args: ["--dont-fork", "--log-console", "--log-detail", "--vrrp", `--use-file=${VM_PATHS.keepalivedConf}`],
    // keepalived runs the check as script_user root, so it never needs SETUID/SETGID: it only
    // changes ids for a non-root script user
    capabilities: ["NET_ADMIN", "NET_BROADCAST", "NET_RAW"],
    mounts: [
      { name: "keepalived-conf", hostPath: VM_PATHS.keepalivedConf, containerPath: VM_PATHS.keepalivedConf },
      { name: "check-apiserver", hostPath: VM_PATHS.checkScript, containerPath: VM_PATHS.checkScript },
    ],
  };
}

export function haproxyContainer(plan: ClusterPlan): ContainerSpec {
  return {
    name: "haproxy",
    description: `haproxy: balances the kube-apiservers behind port ${plan.lbPort}`,
    image: IMAGES.haproxy.ref,
    command: IMAGES.haproxy.binary,
    // -db keeps haproxy in the foreground despite `daemon` in haproxy.cfg (which the Ubuntu
    // service needs); -W is the master-worker mode the image's own entrypoint uses
    args: ["-W", "-db", "-f", HAPROXY_IMAGE_CONFIG],
    capabilities: [],
    mounts: [{ name: "haproxy-cfg", hostPath: VM_PATHS.haproxyCfg, containerPath: HAPROXY_IMAGE_CONFIG }],
  };
}

export function serviceContainers(plan: ClusterPlan): ContainerSpec[] {
  return [keepalivedContainer(plan), haproxyContainer(plan)];
}

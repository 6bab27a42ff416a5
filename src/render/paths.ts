// Where the rendered files land on the VM (DESIGN.md) and in the output directory.
import type { NodeFiles, StaticPods } from "./user-data.js";

export const VM_PATHS = {
  keepalivedConf: "/etc/keepalived/keepalived.conf",
  checkScript: "/etc/keepalived/check_apiserver.sh",
  haproxyCfg: "/etc/haproxy/haproxy.cfg",
  /** Static pods (services: static-pods): where the kubelet of a kubeadm node looks. */
  keepalivedManifest: "/etc/kubernetes/manifests/keepalived.yaml",
  haproxyManifest: "/etc/kubernetes/manifests/haproxy.yaml",
  hostname: "/etc/hostname",
  /** The first node's kubeadm config (spec.kubernetes): no secrets, so the seed can carry it. */
  kubeadmConfig: "/etc/kubernetes/kubeadm/kubeadm.yaml",
} as const;

export const VM_MODES = {
  keepalivedConf: 0o640,
  checkScript: 0o755,
  haproxyCfg: 0o644,
  /** As kubeadm writes its own manifests (and the CIS benchmark asks). */
  staticPod: 0o600,
  hostname: 0o644,
  kubeadmConfig: 0o600,
} as const;

export function nodeDir(node: string): string {
  return `nodes/${node}`;
}

export const NODE_FILES = {
  userData: "user-data",
  metaData: "meta-data",
  networkConfig: "network-config",
  seedIso: "seed.iso",
  keepalivedConf: "files/keepalived.conf",
  checkScript: "files/check_apiserver.sh",
  haproxyCfg: "files/haproxy.cfg",
  /** Fedora CoreOS and Flatcar: the Ignition config, instead of the three cloud-init files. */
  ignition: "config.ign",
  keepalivedManifest: "files/manifests/keepalived.yaml",
  haproxyManifest: "files/manifests/haproxy.yaml",
  /** spec.kubernetes: Init+Cluster+KubeletConfiguration (first node, render) or JoinConfiguration (others, join-config). */
  kubeadmConfig: "kubeadm.yaml",
} as const;

export type ConfigFileKey = "keepalivedConf" | "checkScript" | "haproxyCfg" | "keepalivedManifest" | "haproxyManifest";

/**
 * The configuration files a node gets (the static pods only with services: static-pods), in the
 * order every renderer lists them; NODE_FILES and VM_PATHS name each by the same key.
 */
export function configFiles(
  files: NodeFiles,
  pods: StaticPods | undefined,
): { key: ConfigFileKey; contents: string; mode: number }[] {
  return [
    { key: "keepalivedConf", contents: files.keepalivedConf, mode: VM_MODES.keepalivedConf },
    { key: "checkScript", contents: files.checkScript, mode: VM_MODES.checkScript },
    { key: "haproxyCfg", contents: files.haproxyCfg, mode: VM_MODES.haproxyCfg },
    ...(pods
      ? [
          { key: "keepalivedManifest" as const, contents: pods.keepalived, mode: VM_MODES.staticPod },
          { key: "haproxyManifest" as const, contents: pods.haproxy, mode: VM_MODES.staticPod },
        ]
      : []),
  ];
}

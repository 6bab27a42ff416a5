// The kubeadm facts of a cluster with spec.kubernetes: the config API of its minor, the endpoint
// every node reaches the control plane by (the VIP and haproxy's port), and which node inits.
import { kubeadmApiVersion, kubernetesMinor, type KubeadmApiVersion } from "../spec/kubernetes.js";
import type { Spec } from "../spec/schema.js";

export interface KubernetesPlan {
  version: string;
  minor: number;
  apiVersion: KubeadmApiVersion;
  /** "VIP:loadBalancer.port": the front door k8s-ha builds. */
  controlPlaneEndpoint: string;
  podSubnet?: string;
  serviceSubnet?: string;
  criSocket: string;
  bootstrap: "off" | "init-first";
  /** spec.nodes[0]: runs `kubeadm init`; every other node joins. */
  initNode: string;
}

export function planKubernetes(spec: Spec): KubernetesPlan | undefined {
  const s = spec.spec;
  const k8s = s.kubernetes;
  if (!k8s) return undefined;
  const minor = kubernetesMinor(k8s.version);
  return {
    version: k8s.version,
    minor,
    apiVersion: kubeadmApiVersion(minor),
    controlPlaneEndpoint: `${s.vip}:${s.loadBalancer.port}`,
    ...(k8s.podSubnet !== undefined ? { podSubnet: k8s.podSubnet } : {}),
    ...(k8s.serviceSubnet !== undefined ? { serviceSubnet: k8s.serviceSubnet } : {}),
    criSocket: k8s.criSocket,
    bootstrap: k8s.bootstrap,
    initNode: s.nodes[0]!.name,
  };
}

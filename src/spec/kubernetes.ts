// Facts about Kubernetes and kubeadm that the spec checks and the renderers share: which minors
// k8s-ha supports, which kubeadm config API each speaks, and the defaults of the kubernetes block.
//
// Supported minors, from kubeadm's own sources (kubernetes/kubernetes, cmd/kubeadm/app/apis/kubeadm):
// 1.28 is the oldest minor with pkgs.k8s.io packages that still speaks v1beta3; v1beta4 arrived in
// 1.31 (kubeletExtraArgs became a list of {name, value}); 1.36.0 is the newest release confirmed
// there (CHANGELOG-1.37 starts "since v1.36.0" at v1.37.0-alpha.1). The v1 config API in the tree
// is still unreleased ("kubeadm TODO and newer can be used to migrate from v1beta4 to v1").

export const MIN_KUBERNETES_MINOR = 28;
export const MAX_KUBERNETES_MINOR = 36;
/** The first minor whose kubeadm reads kubeadm.k8s.io/v1beta4. */
export const V1BETA4_FROM_MINOR = 31;

/** "1.31.4": a released Kubernetes version, without the leading v. */
export const KUBERNETES_VERSION = /^1\.(0|[1-9][0-9]?)\.(0|[1-9][0-9]{0,2})$/;
/** A CRI endpoint as kubeadm wants it: a unix socket URL, plain path characters only. */
export const CRI_SOCKET = /^unix:\/\/\/[A-Za-z0-9._/-]{1,200}$/;
/** containerd's socket, what the golden image's runtime listens on. */
export const DEFAULT_CRI_SOCKET = "unix:///var/run/containerd/containerd.sock";
/** off: the user runs kubeadm; init-first: cloud-init runs `kubeadm init` on the first node. */
export const BOOTSTRAP_MODES = ["off", "init-first"] as const;

export type KubeadmApiVersion = "kubeadm.k8s.io/v1beta3" | "kubeadm.k8s.io/v1beta4";

/**
 * The minor of a version the schema accepted (KUBERNETES_VERSION, so always MAJOR.MINOR.PATCH):
 * 31 for "1.31.4". Not node-semver: the spec checks run at every command's start (issue 13).
 */
export function kubernetesMinor(version: string): number {
  return Number(version.split(".")[1]);
}

export function kubeadmApiVersion(minor: number): KubeadmApiVersion {
  return minor >= V1BETA4_FROM_MINOR ? "kubeadm.k8s.io/v1beta4" : "kubeadm.k8s.io/v1beta3";
}

/** The three values `kubeadm init --upload-certs` prints and a control-plane join needs. Never in
 * the spec: `k8s-ha kubeadm join-config` takes them from its flags or the environment. */
export interface JoinSecrets {
  token: string;
  caCertHash: string;
  certificateKey: string;
}

/** A bootstrap token as kubeadm generates it (bootstraputil.BootstrapTokenRegexp). */
export const JOIN_TOKEN = /^[a-z0-9]{6}\.[a-z0-9]{16}$/;
/** --discovery-token-ca-cert-hash: sha256 of the CA's public key. */
export const CA_CERT_HASH = /^sha256:[a-f0-9]{64}$/;
/** --certificate-key: the hex AES-256 key that encrypts the uploaded control-plane certificates. */
export const CERTIFICATE_KEY = /^[a-f0-9]{64}$/;

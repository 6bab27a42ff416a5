// nodes/<node>/kubeadm.yaml: what `kubeadm init --config` reads on the first node (Init-,
// Cluster- and KubeletConfiguration) and what `kubeadm join --config` reads on the others
// (a control-plane JoinConfiguration). Every node advertises and registers with its own cluster
// address: on a two-NIC lab kubeadm would otherwise pick the NAT NIC (10.0.2.15 on every VM).
// Only fields of kubeadm's Go types for the apiVersion are written (test/render/kubeadm.test.ts).
import type { KubernetesPlan } from "../plan/kubernetes.js";
import type { ClusterPlan, NodePlan } from "../plan/plan.js";
import { CA_CERT_HASH, CERTIFICATE_KEY, JOIN_TOKEN, type JoinSecrets } from "../spec/kubernetes.js";
import { GENERATED_BANNER } from "./artifact.js";
import { VM_PATHS } from "./paths.js";
import { toManifestYaml, yamlComments } from "./yaml.js";

const KUBELET_API_VERSION = "kubelet.config.k8s.io/v1beta1";

/** v1beta4 made kubeletExtraArgs a list of {name, value}; v1beta3 has a map. */
function kubeletExtraArgs(k8s: KubernetesPlan, args: Record<string, string>): unknown {
  if (k8s.apiVersion === "kubeadm.k8s.io/v1beta3") return args;
  return Object.entries(args).map(([name, value]) => ({ name, value }));
}

function nodeRegistration(k8s: KubernetesPlan, node: NodePlan) {
  return {
    name: node.name,
    criSocket: k8s.criSocket,
    kubeletExtraArgs: kubeletExtraArgs(k8s, { "node-ip": node.address }),
  };
}

function localAPIEndpoint(plan: ClusterPlan, node: NodePlan) {
  return { advertiseAddress: node.address, bindPort: plan.apiserverPort };
}

function documents(header: string[], docs: unknown[]): string {
  return yamlComments(GENERATED_BANNER, ...header) + docs.map((doc) => toManifestYaml(doc)).join("---\n");
}

function requireKubernetes(plan: ClusterPlan): KubernetesPlan {
  if (!plan.kubernetes) throw new Error("internal error: kubeadm configs need spec.kubernetes");
  return plan.kubernetes;
}

/** The first node's config: `kubeadm init --config kubeadm.yaml --upload-certs`. */
export function renderInitConfig(plan: ClusterPlan, node: NodePlan): string {
  const k8s = requireKubernetes(plan);
  const networking = {
    ...(k8s.podSubnet !== undefined ? { podSubnet: k8s.podSubnet } : {}),
    ...(k8s.serviceSubnet !== undefined ? { serviceSubnet: k8s.serviceSubnet } : {}),
  };
  return documents(
    [`cluster ${plan.name}: on ${node.name} run  sudo kubeadm init --config ${VM_PATHS.kubeadmConfig} --upload-certs`],
    [
      {
        apiVersion: k8s.apiVersion,
        kind: "InitConfiguration",
        localAPIEndpoint: localAPIEndpoint(plan, node),
        nodeRegistration: nodeRegistration(k8s, node),
      },
      {
        apiVersion: k8s.apiVersion,
        kind: "ClusterConfiguration",
        clusterName: plan.name,
        kubernetesVersion: `v${k8s.version}`,
        controlPlaneEndpoint: k8s.controlPlaneEndpoint,
        ...(Object.keys(networking).length > 0 ? { networking } : {}),
      },
      { apiVersion: KUBELET_API_VERSION, kind: "KubeletConfiguration", cgroupDriver: "systemd" },
    ],
  );
}

/** Refuses values that kubeadm would reject, before they reach a file. */
export function joinSecretProblems(secrets: JoinSecrets): string[] {
  const problems: string[] = [];
  if (!JOIN_TOKEN.test(secrets.token))
    problems.push("token must look like abcdef.0123456789abcdef ([a-z0-9]{6}.[a-z0-9]{16})");
  if (!CA_CERT_HASH.test(secrets.caCertHash))
    problems.push("CA cert hash must be sha256: followed by 64 lowercase hex digits");
  if (!CERTIFICATE_KEY.test(secrets.certificateKey)) problems.push("certificate key must be 64 lowercase hex digits");
  return problems;
}

/** Another node's config: `kubeadm join --config kubeadm.yaml`, as a control-plane node. */
export function renderJoinConfig(plan: ClusterPlan, node: NodePlan, secrets: JoinSecrets): string {
  const k8s = requireKubernetes(plan);
  const problems = joinSecretProblems(secrets);
  if (problems.length > 0) throw new Error(`internal error: unchecked join values: ${problems.join("; ")}`);
  return documents(
    [
      `cluster ${plan.name}: on ${node.name} run  sudo kubeadm join --config kubeadm.yaml`,
      "holds the join token and certificate key: keep it private (mode 0600), delete it after the join",
    ],
    [
      {
        apiVersion: k8s.apiVersion,
        kind: "JoinConfiguration",
        nodeRegistration: nodeRegistration(k8s, node),
        discovery: {
          bootstrapToken: {
            apiServerEndpoint: k8s.controlPlaneEndpoint,
            token: secrets.token,
            caCertHashes: [secrets.caCertHash],
          },
        },
        controlPlane: {
          localAPIEndpoint: localAPIEndpoint(plan, node),
          certificateKey: secrets.certificateKey,
        },
      },
    ],
  );
}

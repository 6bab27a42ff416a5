// Static pod manifests for keepalived and haproxy (services: static-pods), after the kubeadm HA
// guide ("Option 2: Run the services as static pods"): the kubelet starts them from
// /etc/kubernetes/manifests during `kubeadm init`, before the API server they front exists.
// Tightened over the guide: every capability dropped and only keepalived's three added back,
// config files mounted read-only and required to exist (hostPath type File, not FileOrCreate,
// which would start haproxy on an empty config), images pinned in images.ts, and a node-critical
// priority like kubeadm's own control-plane pods.
import type { ClusterPlan } from "../plan/plan.js";
import { GENERATED_BANNER } from "./artifact.js";
import { haproxyContainer, keepalivedContainer, type ContainerSpec } from "./containers.js";
import { toManifestYaml, yamlComments } from "./yaml.js";

/** The guide's probe: haproxy answers /healthz from a healthy kube-apiserver, over TLS. */
const LIVENESS_FAILURE_THRESHOLD = 8;
/** system-node-critical's fixed value; kubeadm writes both fields into its own static pods. */
const SYSTEM_NODE_CRITICAL = 2000001000;

function pod(plan: ClusterPlan, container: ContainerSpec, extra: Record<string, unknown> = {}): string {
  const manifest = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: container.name,
      namespace: "kube-system",
      labels: {
        "app.kubernetes.io/name": container.name,
        "app.kubernetes.io/part-of": plan.name,
        "app.kubernetes.io/managed-by": "k8s-ha",
      },
    },
    spec: {
      hostNetwork: true,
      priority: SYSTEM_NODE_CRITICAL,
      priorityClassName: "system-node-critical",
      containers: [
        {
          name: container.name,
          image: container.image,
          imagePullPolicy: "IfNotPresent",
          command: [container.command],
          args: container.args,
          ...extra,
          securityContext: {
            allowPrivilegeEscalation: false,
            capabilities: {
              drop: ["ALL"],
              ...(container.capabilities.length > 0 ? { add: container.capabilities } : {}),
            },
          },
          volumeMounts: container.mounts.map((m) => ({ name: m.name, mountPath: m.containerPath, readOnly: true })),
        },
      ],
      volumes: container.mounts.map((m) => ({ name: m.name, hostPath: { path: m.hostPath, type: "File" } })),
    },
  };
  return (
    yamlComments(GENERATED_BANNER, `${container.description}; the kubelet runs it from this file`) +
    toManifestYaml(manifest)
  );
}

export function renderKeepalivedPod(plan: ClusterPlan): string {
  return pod(plan, keepalivedContainer(plan));
}

export function renderHaproxyPod(plan: ClusterPlan): string {
  return pod(plan, haproxyContainer(plan), {
    livenessProbe: {
      httpGet: { host: "127.0.0.1", path: "/healthz", port: plan.lbPort, scheme: "HTTPS" },
      failureThreshold: LIVENESS_FAILURE_THRESHOLD,
    },
  });
}

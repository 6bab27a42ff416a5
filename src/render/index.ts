// Every artifact of a cluster, in a fixed order. Pure: the plan in, files out. Ubuntu nodes get
// the three cloud-init files, Fedora CoreOS and Flatcar nodes one Ignition config; all get the
// config files, and the static pod manifests when keepalived and haproxy run as static pods.
import type { ClusterPlan, NodePlan } from "../plan/plan.js";
import type { Artifact } from "./artifact.js";
import { renderCheckScript } from "./check-script.js";
import { renderHaproxy } from "./haproxy.js";
import { renderKeepalived } from "./keepalived.js";
import { renderMetaData } from "./meta-data.js";
import { renderNetworkConfig } from "./network-config.js";
import { configFiles, NODE_FILES, nodeDir } from "./paths.js";
import { renderIgnition } from "./ignition/config.js";
import { renderInitConfig } from "./kubeadm.js";
import { renderHaproxyPod, renderKeepalivedPod } from "./static-pods.js";
import { renderUserData, type NodeFiles, type StaticPods } from "./user-data.js";

function renderNodeFiles(plan: ClusterPlan, node: NodePlan): NodeFiles {
  return {
    keepalivedConf: renderKeepalived(plan, node),
    checkScript: renderCheckScript(plan),
    haproxyCfg: renderHaproxy(plan),
    ...(plan.kubernetes?.initNode === node.name ? { kubeadmConfig: renderInitConfig(plan, node) } : {}),
  };
}

/** The static pod manifests when the plan asks for them. */
function renderStaticPods(plan: ClusterPlan): StaticPods | undefined {
  if (plan.target.services !== "static-pods") return undefined;
  return { keepalived: renderKeepalivedPod(plan), haproxy: renderHaproxyPod(plan) };
}

export function renderNode(plan: ClusterPlan, node: NodePlan): Artifact[] {
  const dir = nodeDir(node.name);
  const files = renderNodeFiles(plan, node);
  const pods = renderStaticPods(plan);
  const provisioning: Artifact[] =
    plan.target.provisioning === "ignition"
      ? [{ path: `${dir}/${NODE_FILES.ignition}`, contents: renderIgnition(plan, node, files, pods), mode: 0o644 }]
      : cloudInit(plan, node, files, pods);
  return [
    ...provisioning,
    ...configFiles(files, pods).map((f) => ({
      path: `${dir}/${NODE_FILES[f.key]}`,
      contents: f.contents,
      mode: f.mode,
    })),
    // the other nodes' JoinConfiguration needs values only `kubeadm init` knows: `k8s-ha kubeadm join-config`
    ...(files.kubeadmConfig !== undefined
      ? [{ path: `${dir}/${NODE_FILES.kubeadmConfig}`, contents: files.kubeadmConfig, mode: 0o644 }]
      : []),
  ];
}

function cloudInit(plan: ClusterPlan, node: NodePlan, files: NodeFiles, pods: StaticPods | undefined): Artifact[] {
  const dir = nodeDir(node.name);
  const userData = renderUserData(plan, node, files, pods);
  const networkConfig = renderNetworkConfig(plan, node);
  const metaData = renderMetaData(plan, node, userData, networkConfig);
  return [
    { path: `${dir}/${NODE_FILES.userData}`, contents: userData, mode: 0o644 },
    { path: `${dir}/${NODE_FILES.metaData}`, contents: metaData, mode: 0o644 },
    { path: `${dir}/${NODE_FILES.networkConfig}`, contents: networkConfig, mode: 0o644 },
  ];
}

export function renderNodes(plan: ClusterPlan): Artifact[] {
  return plan.nodes.flatMap((node) => renderNode(plan, node));
}

// Every artifact of a cluster, in a fixed order. Pure: the plan in, files out.
import type { ClusterPlan, NodePlan } from "../plan/plan.js";
import type { Artifact } from "./artifact.js";
import { renderCheckScript } from "./check-script.js";
import { renderHaproxy } from "./haproxy.js";
import { renderKeepalived } from "./keepalived.js";
import { renderMetaData } from "./meta-data.js";
import { renderNetworkConfig } from "./network-config.js";
import { NODE_FILES, nodeDir, VM_MODES } from "./paths.js";
import { renderUserData, type NodeFiles } from "./user-data.js";

export function renderNodeFiles(plan: ClusterPlan, node: NodePlan): NodeFiles {
  return {
    keepalivedConf: renderKeepalived(plan, node),
    checkScript: renderCheckScript(plan),
    haproxyCfg: renderHaproxy(plan),
  };
}

export function renderNode(plan: ClusterPlan, node: NodePlan): Artifact[] {
  const dir = nodeDir(node.name);
  const files = renderNodeFiles(plan, node);
  const userData = renderUserData(plan, node, files);
  const networkConfig = renderNetworkConfig(plan, node);
  const metaData = renderMetaData(plan, node, userData, networkConfig);
  return [
    { path: `${dir}/${NODE_FILES.userData}`, contents: userData, mode: 0o644 },
    { path: `${dir}/${NODE_FILES.metaData}`, contents: metaData, mode: 0o644 },
    { path: `${dir}/${NODE_FILES.networkConfig}`, contents: networkConfig, mode: 0o644 },
    { path: `${dir}/${NODE_FILES.keepalivedConf}`, contents: files.keepalivedConf, mode: VM_MODES.keepalivedConf },
    { path: `${dir}/${NODE_FILES.checkScript}`, contents: files.checkScript, mode: VM_MODES.checkScript },
    { path: `${dir}/${NODE_FILES.haproxyCfg}`, contents: files.haproxyCfg, mode: VM_MODES.haproxyCfg },
  ];
}

export function renderNodes(plan: ClusterPlan): Artifact[] {
  return plan.nodes.flatMap((node) => renderNode(plan, node));
}

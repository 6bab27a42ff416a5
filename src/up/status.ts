// `status`: which VMs of the state file run, and which node answers for the VIP right now.
import type { UpState, VmState } from "./state.js";
import { askVip, type Tools } from "./probe.js";
import type { NodeReport } from "./report-types.js";
import { namespaceExists } from "./network.js";

export interface LabStatus {
  nodes: NodeReport[];
  vipAnswers: boolean;
  holder?: string;
}

export async function labStatus(
  tools: Tools,
  state: UpState,
  alive: (vm: VmState) => Promise<boolean>,
): Promise<LabStatus> {
  const nodes: NodeReport[] = [];
  for (const vm of state.vms) {
    const running = await alive(vm);
    nodes.push({
      node: vm.node,
      address: vm.address,
      action: "unchanged",
      state: running ? "running" : "stopped",
      ...(vm.readySeconds !== undefined ? { readySeconds: vm.readySeconds } : {}),
    });
  }
  if (state.netns && !(await namespaceExists(tools.ip, state.netns))) return { nodes, vipAnswers: false };
  const answer = await askVip(tools, state);
  const holder = answer.ok ? answer.holder : undefined;
  return { nodes, vipAnswers: answer.ok, ...(holder ? { holder } : {}) };
}

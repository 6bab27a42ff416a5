// Waiting for a booted lab, for either provider: every started VM prints cloud-init's final
// message on its serial console, then the VIP answers on the LB port (probe.ts: from the host's
// leg on the lab network, or, in a rootless lab, as the nodes' agents see it).
import { ExternalError } from "../errors.js";
import type { ClusterPlan } from "../plan/plan.js";
import { checkAborted, sleep } from "../rehearse/wait.js";
import { askVip, cloudInitFinished, type Tools } from "./probe.js";
import type { NodeReport } from "./report-types.js";
import type { UpState, VmState } from "./state.js";

export interface ReadyWait {
  tools: Tools;
  plan: ClusterPlan;
  state: UpState;
  /** Node name → when its VM was started (ms). */
  started: Map<string, number>;
  reports: NodeReport[];
  /** Whether the VM still runs: a VM that stopped while booting is a failure at once. */
  alive(vm: VmState): Promise<boolean>;
  timeoutSeconds: number;
  signal: AbortSignal;
  log: (line: string) => void;
}

export async function waitReady(w: ReadyWait): Promise<void> {
  const { plan, state, started, reports } = w;
  const deadline = Date.now() + w.timeoutSeconds * 1000;
  const pending = new Set(started.keys());
  w.log(
    `waiting for cloud-init on ${[...pending].join(", ")} and the VIP ${plan.vip}:${plan.lbPort} (up to ${w.timeoutSeconds} s)`,
  );
  while (pending.size > 0) {
    for (const name of [...pending]) {
      const vm = state.vms.find((v) => v.node === name)!;
      const alive = await w.alive(vm);
      // after Ctrl-C the clean-up stops the VMs: an interrupt, not a VM that died
      checkAborted(w.signal);
      if (!alive)
        throw new ExternalError(`the VM of ${name} stopped while booting; see its serial log ${vm.serialLog}`);
      if (await cloudInitFinished(vm.serialLog)) {
        vm.readySeconds = Math.round((Date.now() - started.get(name)!) / 1000);
        const report = reports.find((r) => r.node === name)!;
        report.state = "ready";
        report.readySeconds = vm.readySeconds;
        pending.delete(name);
        w.log(`${name}: cloud-init finished after ${vm.readySeconds} s`);
      }
    }
    if (pending.size === 0) break;
    if (Date.now() > deadline) {
      throw new ExternalError(
        `cloud-init did not finish on ${[...pending].join(", ")} within ${w.timeoutSeconds} s`,
        "see the serial logs under DIR/up/<node>/serial.log; --timeout gives more time",
      );
    }
    await sleep(2000, w.signal);
  }
  while (!(await askVip(w.tools, state)).ok) {
    if (Date.now() > deadline) {
      throw new ExternalError(
        `the VIP ${plan.vip} did not answer on port ${plan.lbPort} within ${w.timeoutSeconds} s`,
        "see the serial logs; with no kube-apiserver yet, use --stand-in-apiserver",
      );
    }
    await sleep(1000, w.signal);
  }
  for (const r of reports) if (r.state === "running" && r.action === "unchanged") r.state = "ready";
}

// `up --rehearse`: the faults that matter, in the running VMs, each timed from the fault to the
// VIP answering again through another node, then healed and timed until the VIP is back where
// keepalived puts it. keepalived and haproxy are stopped through the lab agent (lab seeds only);
// node loss is qemu quitting at once (QMP `quit`), as a pulled plug would.
import { ExternalError } from "../errors.js";
import type { ClusterPlan } from "../plan/plan.js";
import { sleep } from "../rehearse/wait.js";
import { agentRequest } from "./agent.js";
import { FAULT_IDS, type FaultId } from "./fault-ids.js";
import { askVip, cloudInitFinished, type Tools } from "./probe.js";
import { isQemu, qmp, startVm, waitGone, type VmConfig } from "./qemu.js";
import type { UpState, VmState } from "./state.js";

export interface FaultResult {
  fault: FaultId;
  holder: string;
  newHolder?: string;
  /** Seconds from the fault to the VIP answering through another node. */
  failoverSeconds?: number;
  /** Seconds from the heal to the VIP answering through the healed node again (preempt) or the node being healthy. */
  healSeconds?: number;
  passed: boolean;
  detail: string;
}

export interface FaultContext {
  plan: ClusterPlan;
  state: UpState;
  tools: Tools & { qemu: string };
  /** The VM's qemu configuration, to boot it again after node loss. */
  vmConfig(vm: VmState): VmConfig;
  /** Writes the state file: a VM booted again has a new pid, which `down` must find even if this run dies. */
  saveState(): Promise<void>;
  timeoutSeconds: number;
  signal: AbortSignal;
  log: (line: string) => void;
}

const PROBE_PAUSE_MS = 250;

/** Polls until the VIP answers and `accept(holder)` is true; resolves to that holder, or undefined at the deadline. */
async function waitVip(
  ctx: FaultContext,
  accept: (holder: VmState) => boolean,
  timeoutMs: number,
): Promise<VmState | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const answer = await askVip(ctx.tools, ctx.state);
    const holder = ctx.state.vms.find((vm) => vm.node === answer.holder);
    if (answer.ok && holder && accept(holder)) return holder;
    await sleep(PROBE_PAUSE_MS, ctx.signal);
  }
  return undefined;
}

const seconds = (from: number) => Math.round((Date.now() - from) / 100) / 10;

export async function currentHolder(ctx: FaultContext): Promise<VmState> {
  const holder = await waitVip(ctx, () => true, 60_000);
  if (!holder)
    throw new ExternalError(`the VIP ${ctx.plan.vip} does not answer on port ${ctx.plan.lbPort}: nothing to rehearse`);
  return holder;
}

async function serviceFault(
  ctx: FaultContext,
  fault: FaultId,
  service: "keepalived" | "haproxy",
): Promise<FaultResult> {
  const holder = await currentHolder(ctx);
  const reply = await agentRequest(holder.agent, holder.node, `stop ${service}`);
  if (reply !== "ok") throw new ExternalError(`the lab agent of ${holder.node} could not stop ${service}: ${reply}`);
  const t0 = Date.now();
  ctx.log(`rehearse: ${service} stopped on ${holder.node}, the VIP holder`);
  const moved = await waitVip(ctx, (h) => h !== holder, ctx.timeoutSeconds * 1000);
  const failoverSeconds = moved ? seconds(t0) : undefined;
  const healReply = await agentRequest(holder.agent, holder.node, `start ${service}`);
  const t1 = Date.now();
  const back = await waitHealed(ctx, holder);
  const result: FaultResult = {
    fault,
    holder: holder.node,
    ...(moved ? { newHolder: moved.node, failoverSeconds } : {}),
    ...(back ? { healSeconds: seconds(t1) } : {}),
    passed: moved !== undefined && healReply === "ok" && back,
    detail: moved
      ? `VIP answered through ${moved.node}`
      : `the VIP did not answer through another node within ${ctx.timeoutSeconds} s`,
  };
  return result;
}

/**
 * Healed: when the healed node is the one keepalived prefers (preempt and the highest priority),
 * the VIP answers through it again; otherwise (a lower-priority node, or `preempt: false`) the VIP
 * stays where it is, and healed means both its services run again and the VIP still answers.
 */
async function waitHealed(ctx: FaultContext, node: VmState): Promise<boolean> {
  const preferred = [...ctx.plan.nodes].sort((a, b) => b.priority - a.priority)[0]!;
  const timeoutMs = ctx.timeoutSeconds * 1000;
  if (ctx.plan.vrrp.preempt && preferred.name === node.node)
    return (await waitVip(ctx, (h) => h === node, timeoutMs)) !== undefined;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await agentRequest(node.agent, node.node, "status", 120_000)) === "keepalived=active haproxy=active") {
      return (await waitVip(ctx, () => true, Math.max(0, deadline - Date.now()))) !== undefined;
    }
    await sleep(1000, ctx.signal);
  }
  return false;
}

async function powerOffFault(ctx: FaultContext): Promise<FaultResult> {
  const holder = await currentHolder(ctx);
  await qmp(holder.qmp, "quit");
  const t0 = Date.now();
  await waitGone(holder.pid!, 10_000);
  ctx.log(`rehearse: ${holder.node}, the VIP holder, powered off (qemu quit)`);
  const moved = await waitVip(ctx, (h) => h !== holder, ctx.timeoutSeconds * 1000);
  const failoverSeconds = moved ? seconds(t0) : undefined;
  // heal: boot it again from the same disk and seed; cloud-init has run for this instance
  holder.pid = await startVm(ctx.tools.ip, ctx.tools.qemu, ctx.state.netns, ctx.vmConfig(holder));
  const t1 = Date.now();
  holder.startedAt = t1;
  await ctx.saveState();
  ctx.log(`rehearse: ${holder.node} booting again (qemu pid ${holder.pid})`);
  const deadline = t1 + ctx.timeoutSeconds * 1000;
  while (!(await cloudInitFinished(holder.serialLog)) && Date.now() < deadline && (await isQemu(holder.pid)))
    await sleep(2000, ctx.signal);
  const back = await waitHealed(ctx, holder);
  return {
    fault: "holder-powered-off",
    holder: holder.node,
    ...(moved ? { newHolder: moved.node, failoverSeconds } : {}),
    ...(back ? { healSeconds: seconds(t1) } : {}),
    passed: moved !== undefined && back,
    detail: moved
      ? `VIP answered through ${moved.node}; ${holder.node} booted again`
      : `the VIP did not answer through another node within ${ctx.timeoutSeconds} s`,
  };
}

/** Runs `faults` (default: all), in the order given: parseFaultList keeps FAULT_IDS' order. */
export async function rehearseFaults(
  ctx: FaultContext,
  faults: readonly FaultId[] = FAULT_IDS,
): Promise<FaultResult[]> {
  if (!ctx.state.labMode) {
    throw new ExternalError(
      "up --rehearse needs the lab agent and a stand-in apiserver in the VMs",
      "run `k8s-ha up --rehearse --stand-in-apiserver` (lab seeds; never for production)",
    );
  }
  if (ctx.state.vms.length < 2)
    throw new ExternalError("up --rehearse needs at least two nodes: the VIP has nowhere to go");
  const results: FaultResult[] = [];
  const runs: Record<FaultId, () => Promise<FaultResult>> = {
    "keepalived-stopped": () => serviceFault(ctx, "keepalived-stopped", "keepalived"),
    "haproxy-stopped": () => serviceFault(ctx, "haproxy-stopped", "haproxy"),
    "holder-powered-off": () => powerOffFault(ctx),
  };
  for (const fault of faults) {
    const result = await runs[fault]();
    ctx.log(
      `rehearse: ${result.fault}: ${result.passed ? "pass" : "FAIL"}, failover ${result.failoverSeconds ?? "-"} s, heal ${result.healSeconds ?? "-"} s (${result.detail})`,
    );
    results.push(result);
  }
  return results;
}

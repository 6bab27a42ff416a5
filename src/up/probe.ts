// What `up` watches: the serial console (cloud-init's final message) and the VIP on the load
// balancer's port. Where the host has a leg on the cluster network (the qemu lab's bridge in its
// namespace, VirtualBox's host-only interface) it asks from outside: the holder is the node whose
// MAC answered ARP for the VIP at that moment. A rootless qemu lab's segment is multicast on
// loopback that only the VMs join: there each node's lab agent says whether it holds the VIP and
// whether the VIP answers from that node.
import { readFile } from "node:fs/promises";
import { run } from "../tools/run.js";
import { askOnce } from "./agent.js";
import { BRIDGE } from "./layout.js";
import type { UpState } from "./state.js";

/** cloud-init's final_message default, printed on the console at the end of every boot. */
const CLOUD_INIT_FINISHED = /Cloud-init v\. \S+ finished at/;

export async function cloudInitFinished(serialLog: string): Promise<boolean> {
  const text = await readFile(serialLog, "utf8").catch(() => "");
  return CLOUD_INIT_FINISHED.test(text);
}

export interface Tools {
  ip: string;
  curl: string;
}

/** Where the host asks: the qemu lab's namespace and bridge, or the host itself on VirtualBox's host-only interface. */
export interface ProbePoint {
  netns?: string;
  dev: string;
}

/** The probe point of a lab. */
export function probePoint(state: { netns?: string; bridge?: string; hostOnlyInterface?: string }): ProbePoint {
  return state.netns ? { netns: state.netns, dev: state.bridge ?? BRIDGE } : { dev: state.hostOnlyInterface ?? "" };
}

export interface VipAnswer {
  ok: boolean;
  /** The node that holds the VIP, when the probe could tell. */
  holder?: string;
}

/** One probe of the lab's VIP, the way its network allows. */
export async function askVip(tools: Tools, state: UpState): Promise<VipAnswer> {
  if (state.network === "socket") return askAgents(state);
  const answer = await probeVip(tools, probePoint(state), state.vip, state.lbPort);
  const holder = state.vms.find((vm) => vm.mac === answer.mac)?.node;
  return { ok: answer.ok, ...(holder ? { holder } : {}) };
}

/** The agent's "vip" reply: "held=yes|no answers=yes|no". */
const AGENT_VIP = /^held=(yes|no) answers=(yes|no)$/;
/** A TCG guest on a busy host runs `ip` and a TLS curl (at most 2 s) slowly: room for both. */
const AGENT_VIP_TIMEOUT_MS = 8000;

/**
 * The rootless probe: every node's agent at once. The VIP answers when a node that does not hold
 * it reaches it across the segment (as the host would); with no such node running, the holder's
 * own answer counts. The holder is the one node that has the VIP; none or two is no holder.
 */
async function askAgents(state: UpState): Promise<VipAnswer> {
  const replies = await Promise.all(
    state.vms.map(async (vm) => ({ vm, reply: await askOnce(vm.agent, "vip", AGENT_VIP_TIMEOUT_MS) })),
  );
  const seen = replies.flatMap(({ vm, reply }) => {
    const m = AGENT_VIP.exec(reply ?? "");
    return m ? [{ node: vm.node, held: m[1] === "yes", answers: m[2] === "yes" }] : [];
  });
  const holders = seen.filter((s) => s.held);
  const others = seen.filter((s) => !s.held);
  const witnesses = others.length > 0 ? others : holders;
  const ok = witnesses.some((s) => s.answers);
  return { ok, ...(holders.length === 1 ? { holder: holders[0]!.node } : {}) };
}

interface ArpAnswer {
  ok: boolean;
  /** The MAC that answered ARP for the VIP, when the probe got that far. */
  mac?: string;
}

/**
 * One probe: forget the VIP's neighbour entry (so ARP is asked afresh), GET /healthz through the
 * load balancer at the VIP, then read which MAC the answer came from.
 */
export async function probeVip(tools: Tools, at: ProbePoint, vip: string, lbPort: number): Promise<ArpAnswer> {
  const ns = at.netns ? ["-n", at.netns] : [];
  await run(tools.ip, [...ns, "neigh", "flush", "to", vip, "dev", at.dev], { timeoutMs: 5000 });
  const url = `https://${vip}:${lbPort}/healthz`;
  const curlArgs = ["-sfk", "--max-time", "2", "-o", "/dev/null", url];
  const curl = at.netns
    ? await run(tools.ip, ["netns", "exec", at.netns, tools.curl, ...curlArgs], { timeoutMs: 8000 })
    : await run(tools.curl, curlArgs, { timeoutMs: 8000 });
  const neigh = await run(tools.ip, [...ns, "neigh", "show", "to", vip, "dev", at.dev], { timeoutMs: 5000 });
  const mac = /lladdr ([0-9a-f:]{17})/.exec(neigh.stdout)?.[1];
  return { ok: curl.code === 0, ...(mac ? { mac } : {}) };
}

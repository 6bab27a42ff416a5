// What `up` watches, from the outside only: the serial console (cloud-init's final message) and
// the VIP on the load balancer's port, asked from the lab namespace, where the host has its address
// on the bridge. The holder is the node whose MAC answered ARP for the VIP at that moment.
import { readFile } from "node:fs/promises";
import { run } from "../tools/run.js";
import { BRIDGE } from "./layout.js";

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
  /** The MAC that answered ARP for the VIP, when the probe got that far. */
  mac?: string;
}

/**
 * One probe: forget the VIP's neighbour entry (so ARP is asked afresh), GET /healthz through the
 * load balancer at the VIP, then read which MAC the answer came from.
 */
export async function probeVip(tools: Tools, at: ProbePoint, vip: string, lbPort: number): Promise<VipAnswer> {
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

// The lab's network: a namespace holding a bridge (and the client that asks the VIP), and one
// namespace per node joined to it by a veth pair whose node end is named as in the spec. Links are
// created inside the lab's namespaces, never in the host's; deleting a namespace deletes its links,
// so the namespaces recorded in the Ledger are everything clean-up has to remove.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ExternalError } from "../errors.js";
import type { ClusterPlan } from "../plan/plan.js";
import { shellQuote } from "../render/quote.js";
import { describeExit, run, type Daemon } from "../tools/run.js";
import { labNamespaces, type LabNames } from "./names.js";
import { sleep } from "./wait.js";

/** What this run created, in order: clean-up removes exactly this, and nothing else. */
export class Ledger {
  readonly namespaces: string[] = [];
  readonly daemons: Daemon[] = [];
}

/** Runs `ip args…`; throws ExternalError with ip's own message when it fails. */
async function ip(ipPath: string, args: readonly string[]): Promise<string> {
  const result = await run(ipPath, args, { timeoutMs: 10_000 });
  if (result.code !== 0) {
    throw new ExternalError(`ip ${args.join(" ")}: ${describeExit("ip", result)}: ${result.stderr.trim()}`);
  }
  return result.stdout;
}

export async function createNetwork(
  ipPath: string,
  plan: ClusterPlan,
  names: LabNames,
  client: string,
  ledger: Ledger,
): Promise<void> {
  const prefix = plan.network.prefixLength;
  const iface = plan.network.interface;
  const lan = names.bridgeNetns;
  await addNamespace(ipPath, lan, ledger);
  await ip(ipPath, ["-n", lan, "link", "add", names.bridge, "type", "bridge"]);
  await ip(ipPath, ["-n", lan, "addr", "add", `${client}/${prefix}`, "dev", names.bridge]);
  await ip(ipPath, ["-n", lan, "link", "set", names.bridge, "up"]);
  for (const [i, node] of names.nodes.entries()) {
    const address = plan.nodes[i]!.address;
    await addNamespace(ipPath, node.netns, ledger);
    // `peer … netns` creates the node end directly inside the node's namespace: the interface
    // name from the spec never has to be free anywhere else
    await ip(ipPath, [
      "-n",
      lan,
      "link",
      "add",
      node.bridgePort,
      "type",
      "veth",
      "peer",
      "name",
      iface,
      "netns",
      node.netns,
    ]);
    await ip(ipPath, ["-n", lan, "link", "set", node.bridgePort, "master", names.bridge]);
    await ip(ipPath, ["-n", lan, "link", "set", node.bridgePort, "up"]);
    await ip(ipPath, ["-n", node.netns, "addr", "add", `${address}/${prefix}`, "dev", iface]);
    await ip(ipPath, ["-n", node.netns, "link", "set", iface, "up"]);
  }
}

async function addNamespace(ipPath: string, netns: string, ledger: Ledger): Promise<void> {
  await ip(ipPath, ["netns", "add", netns]);
  ledger.namespaces.push(netns);
  // the check script asks https://localhost:<lb port>: loopback must be up in every namespace
  await ip(ipPath, ["-n", netns, "link", "set", "lo", "up"]);
}

/** Pids of every process inside a namespace, ours or their children (check scripts, curl). */
async function namespacePids(ipPath: string, netns: string): Promise<number[]> {
  const result = await run(ipPath, ["netns", "pids", netns], { timeoutMs: 10_000, uninterruptible: true });
  if (result.code !== 0) return [];
  return result.stdout.split(/\s+/).filter(Boolean).map(Number);
}

/**
 * Stops every daemon (SIGTERM, SIGKILL after a grace period), kills whatever is still inside the
 * lab's namespaces, then deletes them. A namespace outlives its `ip netns delete` while a process
 * is inside, so the processes go first. Returns what could not be removed (empty when clean).
 */
export async function teardown(ipPath: string, ledger: Ledger): Promise<string[]> {
  await Promise.all(ledger.daemons.map((daemon) => daemon.stop({ graceMs: 3000 })));
  const problems: string[] = [];
  for (const netns of [...ledger.namespaces].reverse()) {
    for (let attempt = 0; attempt < 20; attempt++) {
      const pids = await namespacePids(ipPath, netns);
      if (pids.length === 0) break;
      for (const pid of pids) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // ended between the listing and the kill
        }
      }
      await sleep(100); // no signal: teardown must finish
    }
    const left = await namespacePids(ipPath, netns);
    if (left.length > 0) problems.push(`processes ${left.join(", ")} survive in namespace ${netns}`);
    const result = await run(ipPath, ["netns", "delete", netns], { timeoutMs: 10_000, uninterruptible: true });
    if (result.code !== 0) problems.push(`ip netns delete ${netns}: ${result.stderr.trim()}`);
  }
  ledger.namespaces.length = 0;
  ledger.daemons.length = 0;
  return problems;
}

/** A script that removes the lab when we cannot (rehearse --keep, or this process was killed). */
/** Where writeCleanupScript puts the script, in the lab folder. */
export const cleanupScriptPath = (dir: string) => join(dir, "remove-lab.sh");

export async function writeCleanupScript(dir: string, names: LabNames): Promise<string> {
  const file = cleanupScriptPath(dir);
  const namespaces = labNamespaces(names).map(shellQuote).join(" ");
  const script = [
    "#!/bin/sh",
    `# Removes k8s-ha rehearsal lab ${names.id}: its processes, its namespaces (and with them its links),`,
    "# and its folder. Nothing outside the lab is touched.",
    `for ns in ${namespaces}; do`,
    '    pids=$(ip netns pids "$ns" 2>/dev/null) && [ -n "$pids" ] && kill $pids 2>/dev/null',
    "done",
    "sleep 3",
    `for ns in ${namespaces}; do`,
    '    pids=$(ip netns pids "$ns" 2>/dev/null) && [ -n "$pids" ] && kill -9 $pids 2>/dev/null',
    '    ip netns delete "$ns" 2>/dev/null',
    "done",
    `rm -rf -- ${shellQuote(dir)}`,
    `echo "k8s-ha rehearsal lab ${names.id} removed"`,
    "",
  ].join("\n");
  await writeFile(file, script, { mode: 0o755 });
  return file;
}

/** The faults the rehearsal injects into a running lab's network (scenarios-faults.ts). */
export class LabFaults {
  constructor(
    private readonly ipPath: string,
    private readonly iptablesPath: string,
    private readonly names: LabNames,
    private readonly iface: string,
    private readonly vip: string,
  ) {}

  private node(name: string) {
    const node = this.names.nodes.find((n) => n.name === name);
    if (!node) throw new Error(`no lab node ${name}`);
    return node;
  }

  /** Cuts the node off the LAN at the bridge end of its veth, as a pulled cable would. */
  async setLink(name: string, up: boolean): Promise<void> {
    await ip(this.ipPath, [
      "-n",
      this.names.bridgeNetns,
      "link",
      "set",
      this.node(name).bridgePort,
      up ? "up" : "down",
    ]);
  }

  /** Drops (or allows again) VRRP, IP protocol 112, in and out of the node: adverts only, nothing else. */
  async setVrrpBlocked(name: string, blocked: boolean): Promise<void> {
    for (const chain of ["INPUT", "OUTPUT"]) await this.iptables(name, blocked, [chain, "-p", "vrrp", "-j", "DROP"]);
  }

  /** Connections from the node to `port` refused (a TCP reset: haproxy's checks fail at once). */
  async setPortBlocked(name: string, port: number, blocked: boolean): Promise<void> {
    await this.iptables(name, blocked, [
      "OUTPUT",
      "-p",
      "tcp",
      "--dport",
      String(port),
      "-j",
      "REJECT",
      "--reject-with",
      "tcp-reset",
    ]);
  }

  /** Inserts (`add`) or deletes one rule in the node's namespace. */
  private async iptables(name: string, add: boolean, rule: string[]): Promise<void> {
    const netns = this.node(name).netns;
    const [chain, ...match] = rule;
    const args = ["netns", "exec", netns, this.iptablesPath, add ? "-I" : "-D", chain!, ...match];
    const result = await run(this.ipPath, args, { timeoutMs: 10_000 });
    if (result.code !== 0)
      throw new ExternalError(`iptables in ${netns}: ${describeExit("iptables", result)}: ${result.stderr.trim()}`);
  }

  async macOf(name: string): Promise<string> {
    const [link] = JSON.parse(
      await ip(this.ipPath, ["-n", this.node(name).netns, "-j", "link", "show", "dev", this.iface]),
    ) as { address?: string }[];
    return link?.address ?? "";
  }

  /** The client's neighbour entry for the VIP: the MAC its packets to the VIP go to. */
  async clientNeighbour(): Promise<string | undefined> {
    const entries = JSON.parse(
      await ip(this.ipPath, ["-n", this.names.bridgeNetns, "-j", "neigh", "show", this.vip]),
    ) as { lladdr?: string }[];
    return entries.find((e) => e.lladdr)?.lladdr;
  }
}

// rehearse(): build a lab for one cluster plan, run the failover scenarios, and remove the lab
// again — on success, on failure, and on an interrupt (options.signal). Only `keep` leaves it up.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ExternalError } from "../errors.js";
import type { ClusterPlan } from "../plan/plan.js";
import { makeCertificate, STUB_FILE, STUB_SOURCE } from "./apiserver-stub.js";
import { VipClient } from "./client.js";
import { nodeFiles, writeNodeFiles, type Rewrite } from "./files.js";
import { cleanupScriptPath, createNetwork, LabFaults, Ledger, teardown, writeCleanupScript } from "./lab.js";
import { clientAddress, labNames, labNamespaces } from "./names.js";
import { type HolderChange, type Overlap, SAMPLE_INTERVAL_MS, VipObserver } from "./observe.js";
import { checkPrerequisites } from "./prerequisites.js";
import { killProgram, startProgram, stopProgram, type LabContext, type LabNode } from "./processes.js";
import { expectedHolder, runScenarios, type ScenarioResult } from "./scenarios.js";
import { checkAborted } from "./wait.js";
import { stderr } from "../terminal.js";

export type { Rewrite } from "./files.js";
export type { ScenarioResult, Verdict } from "./scenarios.js";
export { formatStats, formatTable, resultJson } from "./report.js";
export { rehearseRuns, type RunsResult, type ScenarioStats } from "./statistics.js";

export interface RehearseOptions {
  plan: ClusterPlan;
  /** Leave the lab running afterwards; the result says how to remove it. */
  keep?: boolean;
  /** Abort to interrupt: the lab is removed and rehearse rejects with InterruptedError. */
  signal?: AbortSignal;
  /** Progress lines (default: stderr). */
  log?: (line: string) => void;
  /** Parent of the lab folder (default: the OS temp folder). */
  tmpDir?: string;
  /** Also the hard faults (SIGKILL, link cut, partition); default true. Tests of other behaviour leave them out. */
  faults?: boolean;
}

export interface RehearseResult {
  cluster: string;
  passed: boolean;
  scenarios: ScenarioResult[];
  /** Where the lab's files differ from the VMs' (paths only). */
  rewrites: Rewrite[];
  sampling: { intervalMs: number; samples: number; maxGapMs: number; overlaps: Overlap[] };
  /** Every change of VIP holder, ms since the lab's processes started. */
  holders: HolderChange[];
  lab: {
    id: string;
    dir: string;
    namespaces: string[];
    client: string;
    url: string;
    kept: boolean;
    removeScript?: string;
  };
}

export async function rehearse(options: RehearseOptions): Promise<RehearseResult> {
  const { plan, signal } = options;
  const log = options.log ?? ((line: string) => stderr.write(`${line}\n`));
  const tools = await checkPrerequisites();
  const names = labNames(plan);
  const client = clientAddress(plan);
  const dir = await mkdtemp(join(options.tmpDir ?? tmpdir(), `k8s-ha-rehearse-${names.id}-`));
  const ledger = new Ledger();
  let observer: VipObserver | undefined;
  let result: RehearseResult | undefined;
  try {
    const removeScript = await writeCleanupScript(dir, names);
    log(`lab ${names.id} in ${dir} (if this run is killed, remove it with: sh ${removeScript})`);
    await writeFile(join(dir, STUB_FILE), STUB_SOURCE);
    const ctx: LabContext = {
      labId: names.id,
      tools,
      ledger,
      labDir: dir,
      certFile: join(dir, "apiserver.crt"),
      keyFile: join(dir, "apiserver.key"),
      lbPort: plan.lbPort,
      apiserverPort: plan.apiserverPort,
    };
    await makeCertificate(tools.openssl, ctx.certFile, ctx.keyFile);
    const nodes: LabNode[] = names.nodes.map((n) => ({
      name: n.name,
      netns: n.netns,
      files: nodeFiles(dir, n.name),
      running: {},
    }));
    const rewrites: Rewrite[] = [];
    for (const [i, node] of nodes.entries()) rewrites.push(...(await writeNodeFiles(plan, plan.nodes[i]!, node.files)));

    checkAborted(signal);
    await createNetwork(tools.ip, plan, names, client, ledger);
    for (const node of nodes) await startProgram(ctx, node, "sentinel");
    for (const node of nodes) await startProgram(ctx, node, "apiserver");
    checkAborted(signal);
    for (const node of nodes) await startProgram(ctx, node, "haproxy");
    log(`${nodes.length} node(s) up: stand-in apiserver and haproxy in each; client ${client} on the bridge`);

    observer = new VipObserver(
      plan.vip,
      nodes.map((node) => ({ name: node.name, pid: node.running.sentinel!.pid })),
    );
    await observer.start();
    const vipClient = new VipClient(tools, names.bridgeNetns, plan.vip, plan.lbPort);
    const faults = new LabFaults(tools.ip, tools.iptables, names, plan.network.interface, plan.vip);
    const scenarios = await runScenarios({
      plan,
      nodes,
      observer,
      client: vipClient,
      start: async (node, program) => void (await startProgram(ctx, node, program)),
      stop: stopProgram,
      setApiserverFailing: (node, failing) => writeFile(node.files.apiserverMode, failing ? "fail\n" : "ok\n"),
      kill: killProgram,
      setLink: (node, up) => faults.setLink(node.name, up),
      setVrrpBlocked: (node, blocked) => faults.setVrrpBlocked(node.name, blocked),
      setApiserversBlocked: (node, blocked) => faults.setPortBlocked(node.name, plan.apiserverPort, blocked),
      macOf: (node) => faults.macOf(node),
      clientNeighbour: () => faults.clientNeighbour(),
      expectedHolder: expectedHolder(plan),
      faults: options.faults !== false,
      haproxyLog: (node) => readFile(node.files.log("haproxy"), "utf8").catch(() => ""),
      log,
      ...(signal ? { signal } : {}),
    });
    await observer.stop();
    const keep = options.keep === true;
    result = {
      cluster: plan.name,
      passed: scenarios.every((s) => s.verdict !== "fail"),
      scenarios,
      rewrites,
      sampling: {
        intervalMs: SAMPLE_INTERVAL_MS,
        samples: observer.samples,
        maxGapMs: Math.round(observer.maxGapMs),
        overlaps: observer.overlaps,
      },
      holders: observer.changes,
      lab: {
        id: names.id,
        dir,
        namespaces: labNamespaces(names),
        client,
        url: vipClient.url,
        kept: keep,
        ...(keep ? { removeScript } : {}),
      },
    };
    return result;
  } finally {
    await observer?.stop();
    // the lab stays only when asked and when the scenarios ran: a failure or an interrupt removes it
    if (result?.lab.kept) {
      for (const daemon of ledger.daemons) daemon.detach();
    } else {
      const problems = await teardown(tools.ip, ledger);
      if (problems.length === 0) {
        await rm(dir, { recursive: true, force: true });
      } else {
        // keep the folder: its remove-lab.sh finishes the job
        const message = `the lab could not be removed completely: ${problems.join("; ")}`;
        const hint = `run: sh ${cleanupScriptPath(dir)}`;
        log(`k8s-ha: ${message}; ${hint}`);
        // thrown only when nothing else was: it must not hide the error that brought us here
        if (result) throw new ExternalError(message, hint);
      }
    }
  }
}

// The failover scenarios, run in order on one lab. Each stop is followed by its restore, so every
// scenario starts from a healthy cluster with one holder. Deadlines come from the spec's own timers
// (adverts, check interval, fall/rise) plus slack for a loaded CI machine: a verdict says whether
// the VIP moves at all; the measured time says how fast.
import type { ClusterPlan } from "../plan/plan.js";
import { HAPROXY_CHECK } from "../render/keepalived.js";
import { weightProblem } from "../spec/failover.js";
import { ipv4ToNumber } from "../spec/ipv4.js";
import type { VipClient } from "./client.js";
import type { VipObserver } from "./observe.js";
import { SAMPLE_INTERVAL_MS } from "./observe.js";
import type { LabNode, Program } from "./processes.js";
import { apiserverFailing, apiserverStopped, seconds } from "./scenarios-apiserver.js";
import { backendsCut, keepalivedKilled, linkCut, partition } from "./scenarios-faults.js";

export type Verdict = "pass" | "fail" | "skip";
export type ScenarioId =
  | "start"
  | "keepalived-stop"
  | "keepalived-restore"
  | "haproxy-stop"
  | "haproxy-restore"
  | "apiserver-down"
  | "apiserver-failing"
  | "keepalived-killed"
  | "keepalived-killed-heal"
  | "link-cut"
  | "link-cut-heal"
  | "partition"
  | "partition-heal"
  | "backends-cut"
  | "backends-cut-heal"
  | "single-holder";

/** The hard faults, which `faults: false` leaves out. */
export const FAULT_IDS: readonly ScenarioId[] = [
  "keepalived-killed",
  "keepalived-killed-heal",
  "link-cut",
  "link-cut-heal",
  "partition",
  "partition-heal",
  "backends-cut",
  "backends-cut-heal",
];

/** Every scenario of a lab of two or more nodes, in the order they run. */
export const SCENARIO_IDS: readonly ScenarioId[] = [
  "start",
  "keepalived-stop",
  "keepalived-restore",
  "haproxy-stop",
  "haproxy-restore",
  "apiserver-down",
  "apiserver-failing",
  ...FAULT_IDS,
  "single-holder",
];

export interface ScenarioResult {
  id: ScenarioId;
  title: string;
  verdict: Verdict;
  /** The measured time (what it is depends on the scenario; `detail` says). */
  seconds?: number;
  detail: string;
}

/** What the scenarios act on: the lab, already up, with the observer sampling. */
export interface Stage {
  plan: ClusterPlan;
  nodes: LabNode[];
  observer: VipObserver;
  client: VipClient;
  start(node: LabNode, program: Program): Promise<void>;
  stop(node: LabNode, program: Program): Promise<void>;
  /** Switches a node's stand-in apiserver between answering /healthz with 500 and with 200. */
  setApiserverFailing(node: LabNode, failing: boolean): Promise<void>;
  /** SIGKILL to the program's whole process group: it ends without a word (no farewell advert). */
  kill(node: LabNode, program: Program): Promise<void>;
  /** Takes the node's link to the LAN down (cut) or up again. */
  setLink(node: LabNode, up: boolean): Promise<void>;
  /** Drops VRRP (IP protocol 112) in and out of the node, or allows it again. */
  setVrrpBlocked(node: LabNode, blocked: boolean): Promise<void>;
  /** Refuses the node's connections to the apiserver port (every backend of its haproxy), or allows them again. */
  setApiserversBlocked(node: LabNode, blocked: boolean): Promise<void>;
  /** The MAC of a node's cluster interface. */
  macOf(node: string): Promise<string>;
  /** The MAC the client's neighbour table has for the VIP (where it sends VIP traffic). */
  clientNeighbour(): Promise<string | undefined>;
  /** What the node's haproxy has written to its log so far. */
  haproxyLog(node: LabNode): Promise<string>;
  /** The node the spec means to hold the VIP (expectedHolder(plan)). */
  expectedHolder: string;
  /** Run the hard faults too (keepalived killed, link cut, partition). */
  faults: boolean;
  log(line: string): void;
  signal?: AbortSignal;
}

/** Deadlines in ms, from the spec's timers. */
function budgets(plan: ClusterPlan) {
  const advert = plan.vrrp.advertInterval * 1000;
  // a backup declares the master dead after 3 missed adverts plus a skew of up to one advert
  const masterDown = 4 * advert;
  const check = plan.healthCheck.interval * 1000;
  const { fall, rise } = plan.healthCheck;
  const slack = 3000;
  return {
    start: masterDown + check * rise + 10_000,
    keepalivedStop: masterDown + slack,
    // keepalived's haproxy check (keepalived.ts) fails `fall` times, the first one interval after
    // the stop at the latest; the node goes to FAULT and says so (priority 0), and a backup takes
    // over after its skew time (< one advert) — no master-down timer, unlike a lowered priority
    haproxyStop: HAPROXY_CHECK.interval * 1000 * (HAPROXY_CHECK.fall + 1) + advert + slack,
    restore: check * (rise + 1) + masterDown + slack,
    stay: check * (rise + 1) + masterDown + 1000,
    // haproxy's own check (same interval and fall) has surely marked the server down by then
    apiserverDown: check * (fall + 1) + 1000,
    // a restarted apiserver is back in haproxy's rotation after `rise` passed checks
    apiserverBack: check * (rise + 1) + slack,
    apiserverFailing: check * (fall + 1) + 3000,
    settled: 3000,
    answer: 5000,
    // a lost node's apiserver stays in haproxy's rotation until its check fails `fall` times:
    // until then every other request waits for a connect timeout, so answering may take that long
    faults: {
      takeover: masterDown + slack,
      heal: check * (rise + 1) + masterDown + slack,
      answer: check * (fall + 1) + 5000,
      // haproxy marks every server down (fall checks), then keepalived's check fails fall times, and
      // the lowered priority waits out the others' master-down timer
      backendsTakeover: 2 * check * (fall + 1) + masterDown + slack,
    },
  };
}

/** The node the spec means to hold the VIP: highest priority, ties to the higher address (as VRRP does). */
export function expectedHolder(plan: ClusterPlan): string {
  return [...plan.nodes].sort(
    (a, b) => b.priority - a.priority || ipv4ToNumber(b.address) - ipv4ToNumber(a.address),
  )[0]!.name;
}

const only = (holders: readonly string[], name?: string) =>
  holders.length === 1 && (name === undefined || holders[0] === name);
const describe = (holders: readonly string[]) => (holders.length === 0 ? "nobody" : holders.join(" and "));

export async function runScenarios(stage: Stage): Promise<ScenarioResult[]> {
  const limit = budgets(stage.plan);
  const results = [await startScenario(stage, limit)];
  if (stage.nodes.length < 2) {
    const why = "one node: there is nowhere for the VIP to move";
    for (const id of SCENARIO_IDS.filter(
      (id) => id !== "start" && id !== "single-holder" && (stage.faults || !FAULT_IDS.includes(id)),
    )) {
      results.push({ id, title: id, verdict: "skip", detail: why });
    }
  } else {
    results.push(...(await stopAndRestore(stage, "keepalived", limit)));
    results.push(...(await stopAndRestore(stage, "haproxy", limit)));
    results.push(await apiserverStopped(stage, limit.apiserverDown, limit.apiserverBack));
    results.push(await apiserverFailing(stage, limit.apiserverFailing, limit.settled));
    if (stage.faults) {
      await settle(stage, limit);
      results.push(...(await keepalivedKilled(stage, limit.faults)));
      results.push(...(await linkCut(stage, limit.faults)));
      results.push(...(await partition(stage, limit.faults)));
      results.push(...(await backendsCut(stage, limit.faults)));
    }
  }
  results.push(singleHolder(stage.observer));
  return results;
}

type Budgets = ReturnType<typeof budgets>;

/**
 * Waits (not a verdict) until one node holds the VIP — the top node when preempting — so that the
 * hard faults start from the cluster's rest state. A failing apiserver behind haproxy can fail any
 * node's health check (its curls go through haproxy to either apiserver) until haproxy takes it
 * out, and the VIP may have moved for a while: the holder a fault picks must be the usual one.
 */
async function settle(stage: Stage, limit: Budgets): Promise<void> {
  const top = stage.plan.vrrp.preempt ? expectedHolder(stage.plan) : undefined;
  const t0 = stage.observer.now();
  const at = await stage.observer.waitFor((h) => only(h, top), limit.restore, stage.signal, t0);
  if (at === undefined)
    stage.log(`the VIP did not settle within ${seconds(limit.restore)} s: ${describe(stage.observer.current)}`);
  else if (at - t0 >= 1000) stage.log(`the VIP settled on ${stage.observer.current[0]} after ${seconds(at - t0)} s`);
}

async function startScenario(stage: Stage, limit: Budgets): Promise<ScenarioResult> {
  const { plan, observer } = stage;
  const expected = plan.vrrp.preempt ? expectedHolder(plan) : undefined;
  const title = `start: ${expected ?? "one node"} holds the VIP, which answers`;
  const t0 = observer.now();
  // highest priority first, as a cluster is usually brought up; with preempt: false the first
  // node to come up keeps the VIP, so the order decides
  for (const node of [...stage.nodes].sort((a, b) => priority(plan, b) - priority(plan, a)))
    await stage.start(node, "keepalived");
  stage.log(`keepalived started on ${stage.nodes.length} node(s); waiting for the VIP`);
  const heldAt = await observer.waitFor((h) => only(h, expected), limit.start, stage.signal, t0);
  if (heldAt === undefined) {
    return {
      id: "start",
      title,
      verdict: "fail",
      detail: `after ${seconds(limit.start)} s the VIP is held by ${describe(observer.current)}`,
    };
  }
  const holder = observer.current[0]!;
  const answered = await stage.client.waitAnswer(limit.answer + 5000, () => observer.now(), stage.signal);
  const detail = `${holder} took the VIP ${seconds(heldAt - t0)} s after keepalived started`;
  if (answered === undefined)
    return {
      id: "start",
      title,
      verdict: "fail",
      seconds: seconds(heldAt - t0),
      detail: `${detail}, but ${stage.client.url} did not answer`,
    };
  return {
    id: "start",
    title,
    verdict: "pass",
    seconds: seconds(heldAt - t0),
    detail: `${detail}; ${stage.client.url} answers 200 through haproxy`,
  };
}

async function stopAndRestore(
  stage: Stage,
  program: "keepalived" | "haproxy",
  limit: Budgets,
): Promise<ScenarioResult[]> {
  const { plan, observer } = stage;
  const stopId = `${program}-stop` as const;
  const restoreId = `${program}-restore` as const;
  const holder = observer.current.length === 1 ? observer.current[0] : undefined;
  if (!holder) {
    const detail = `no single holder to start from (held by ${describe(observer.current)})`;
    return [
      { id: stopId, title: `${program} stopped on the holder: VIP moves`, verdict: "skip", detail },
      { id: restoreId, title: `${program} back on the first holder`, verdict: "skip", detail },
    ];
  }
  const node = stage.nodes.find((n) => n.name === holder)!;
  const stopTitle = `${program} stopped on ${holder}: VIP moves`;
  stage.log(`stopping ${program} on ${holder}`);
  const t0 = observer.now();
  await stage.stop(node, program);
  const waited = program === "keepalived" ? limit.keepalivedStop : limit.haproxyStop;
  const movedAt = await observer.waitFor((h) => only(h) && h[0] !== holder, waited, stage.signal, t0);
  let stop: ScenarioResult;
  let newHolder: string | undefined;
  if (movedAt === undefined) {
    const why =
      program === "haproxy"
        ? weightProblem(
            plan.nodes.map((n) => n.priority),
            plan.healthCheck.weight,
            plan.vrrp.preempt,
          )
        : undefined;
    stop = {
      id: stopId,
      title: stopTitle,
      verdict: "fail",
      detail: `after ${seconds(waited)} s the VIP is held by ${describe(observer.current)}${why ? `: ${why}` : ""}`,
    };
  } else {
    newHolder = observer.current[0]!;
    const answered = await stage.client.waitAnswer(limit.answer, () => observer.now(), stage.signal);
    const moved = `moved to ${newHolder} in ${seconds(movedAt - t0)} s`;
    stop =
      answered === undefined
        ? {
            id: stopId,
            title: stopTitle,
            verdict: "fail",
            seconds: seconds(movedAt - t0),
            detail: `${moved}, but the VIP did not answer within ${seconds(limit.answer)} s`,
          }
        : {
            id: stopId,
            title: stopTitle,
            verdict: "pass",
            seconds: seconds(movedAt - t0),
            detail: `${moved}; answers again ${seconds(observer.now() - t0)} s after the stop`,
          };
  }

  const top = expectedHolder(plan);
  const restoreTitle = `${program} back on ${holder}: VIP ${plan.vrrp.preempt ? `returns to ${top} (preempt)` : "stays (preempt: false)"}`;
  stage.log(`starting ${program} again on ${holder}`);
  const t1 = observer.now();
  await stage.start(node, program);
  let restore: ScenarioResult;
  if (newHolder === undefined) {
    restore = {
      id: restoreId,
      title: restoreTitle,
      verdict: "skip",
      detail: "the VIP never left, so it cannot come back",
    };
  } else if (plan.vrrp.preempt) {
    const backAt = await observer.waitFor((h) => only(h, top), limit.restore, stage.signal, t1);
    restore =
      backAt === undefined
        ? {
            id: restoreId,
            title: restoreTitle,
            verdict: "fail",
            detail: `after ${seconds(limit.restore)} s the VIP is held by ${describe(observer.current)}`,
          }
        : {
            id: restoreId,
            title: restoreTitle,
            verdict: "pass",
            seconds: seconds(backAt - t1),
            detail: `returned to ${top} ${seconds(backAt - t1)} s after ${program} started`,
          };
  } else {
    const leftAt = await observer.waitFor((h) => !only(h, newHolder), limit.stay, stage.signal, t1);
    restore =
      leftAt === undefined
        ? {
            id: restoreId,
            title: restoreTitle,
            verdict: "pass",
            detail: `stayed on ${newHolder} for the ${seconds(limit.stay)} s watched`,
          }
        : {
            id: restoreId,
            title: restoreTitle,
            verdict: "fail",
            seconds: seconds(leftAt - t1),
            detail: `moved to ${describe(observer.current)} ${seconds(leftAt - t1)} s after ${program} started`,
          };
  }
  // the next scenario must begin from a single holder that answers
  await stage.client.waitAnswer(limit.answer, () => observer.now(), stage.signal);
  return [stop, restore];
}

/**
 * A split brain is two holders in two samples in a row (50 ms or more). A preempting node adds the
 * VIP a fraction of a millisecond before the old master, on its advert, drops it (0.5 ms measured
 * with `ip -ts monitor address`): such a handover can show in one sample and is only reported.
 */
function singleHolder(observer: VipObserver): ScenarioResult {
  const title = `never two holders (sampled every ${SAMPLE_INTERVAL_MS} ms)`;
  const slow = observer.maxGapMs > 100 ? " (the machine was busy)" : "";
  const sampling = `${observer.samples} samples, longest gap ${Math.round(observer.maxGapMs)} ms${slow}`;
  if (observer.failure)
    return {
      id: "single-holder",
      title,
      verdict: "fail",
      detail: `${sampling}; the sampler failed: ${observer.failure}`,
    };
  const unexpected = observer.overlaps.filter((o) => !o.expected);
  const splits = unexpected.filter((o) => o.samples >= 2);
  const blips = unexpected.length - splits.length;
  const faults = observer.overlaps.length - unexpected.length;
  const during =
    faults > 0
      ? `; ${faults} overlap(s) during the faults that allow them (killed, cut, partitioned holder) not counted`
      : "";
  const handovers = blips > 0 ? `; ${blips} handover(s) caught in a single sample` : "";
  if (splits.length === 0)
    return {
      id: "single-holder",
      title,
      verdict: "pass",
      detail: `${sampling}; never two holders in a row${handovers}${during}`,
    };
  const worst = splits.reduce((a, b) => (b.samples > a.samples ? b : a));
  return {
    id: "single-holder",
    title,
    verdict: "fail",
    seconds: seconds(worst.toMs - worst.fromMs + SAMPLE_INTERVAL_MS),
    detail: `${sampling}; two holders ${splits.length} time(s), worst ${describe(worst.holders)} for ${worst.samples} samples from ${seconds(worst.fromMs)} s${handovers}`,
  };
}

function priority(plan: ClusterPlan, node: LabNode): number {
  return plan.nodes.find((n) => n.name === node.name)!.priority;
}

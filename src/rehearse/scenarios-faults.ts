// Faults that give no warning, the ones users of kube-vip and the kubeadm guide get hurt by:
//   - keepalived killed with SIGKILL, its VRRP process too: no farewell advert with priority 0, so
//     the others only notice the silence (3 missed adverts plus a skew: VRRP's own bound);
//   - the holder's link cut (its veth's bridge end down): the node is gone from the network;
//   - VRRP partitioned between the holder and the others for a while, then healed: during the split
//     both sides claim the VIP — VRRP cannot avoid that, each side only hears itself — and after the
//     heal exactly one holder must remain, announced to the LAN by gratuitous ARP.
// During a fault the faulty node may keep the VIP (a killed keepalived leaves its address behind; a
// cut node cannot tell that it is cut), so these scenarios register the window in which two holders
// are expected, and the single-holder verdict only counts overlaps outside such windows.
import { weightProblem } from "../spec/failover.js";
import type { ScenarioResult, Stage } from "./scenarios.js";
import { seconds } from "./scenarios-apiserver.js";
import { sleep } from "./wait.js";

/** How long a partition lasts before it is healed. */
export const PARTITION_MS = 10_000;

export interface FaultBudgets {
  /** From the fault to another node holding the VIP. */
  takeover: number;
  /** From the heal to exactly one holder (the preempting one when preempt is on). */
  heal: number;
  answer: number;
  /** From cutting the holder off its apiservers to another node holding the VIP. */
  backendsTakeover: number;
}

const others = (holders: readonly string[], lost: string) => holders.filter((h) => h !== lost);
const describe = (holders: readonly string[]) => (holders.length === 0 ? "nobody" : holders.join(" and "));

function holderNode(stage: Stage) {
  const name = stage.observer.current.length === 1 ? stage.observer.current[0] : undefined;
  return name === undefined ? undefined : stage.nodes.find((n) => n.name === name);
}

const skipped = (id: ScenarioResult["id"], title: string, stage: Stage): ScenarioResult => ({
  id,
  title,
  verdict: "skip",
  detail: `no single holder to start from (held by ${describe(stage.observer.current)})`,
});

/**
 * The client on the LAN must reach the new holder, not the old one: with the old holder's address
 * still configured (killed keepalived) only the new holder's gratuitous ARP can redirect it. The
 * client's neighbour entry for the VIP shows where its packets go.
 */
async function garpCheck(stage: Stage, holder: string): Promise<string | undefined> {
  const expected = await stage.macOf(holder);
  const seen = await stage.clientNeighbour();
  if (seen === expected) return undefined;
  return `the client still sends VIP traffic to ${seen ?? "no MAC"}, not to ${holder} (${expected}): no gratuitous ARP reached it`;
}

/** keepalived (and its VRRP child) killed with SIGKILL on the holder; then started again. */
export async function keepalivedKilled(stage: Stage, limit: FaultBudgets): Promise<ScenarioResult[]> {
  const node = holderNode(stage);
  const title = `keepalived killed (SIGKILL) on ${node?.name ?? "the holder"}: VIP moves`;
  const healTitle = `keepalived back after SIGKILL: one holder`;
  if (!node) return [skipped("keepalived-killed", title, stage), skipped("keepalived-killed-heal", healTitle, stage)];
  stage.log(`killing keepalived on ${node.name} with SIGKILL`);
  const t0 = stage.observer.now();
  stage.observer.expectOverlap(t0);
  await stage.kill(node, "keepalived");
  const movedAt = await stage.observer.waitFor(
    (h) => others(h, node.name).length === 1,
    limit.takeover,
    stage.signal,
    t0,
  );
  let result: ScenarioResult;
  if (movedAt === undefined) {
    result = {
      id: "keepalived-killed",
      title,
      verdict: "fail",
      detail: `after ${seconds(limit.takeover)} s the VIP is held by ${describe(stage.observer.current)}`,
    };
  } else {
    const newHolder = others(stage.observer.current, node.name)[0] ?? "?";
    const answered = await stage.client.waitAnswer(limit.answer, () => stage.observer.now(), stage.signal);
    const garp = await garpCheck(stage, newHolder);
    const moved = `${newHolder} took the VIP ${seconds(movedAt - t0)} s after the kill`;
    const stale = stage.observer.current.includes(node.name)
      ? `; ${node.name} still has the address (nobody removes it after a SIGKILL)`
      : "";
    result =
      answered === undefined || garp
        ? {
            id: "keepalived-killed",
            title,
            verdict: "fail",
            seconds: seconds(movedAt - t0),
            detail: `${moved}, but ${garp ?? "the VIP did not answer"}`,
          }
        : {
            id: "keepalived-killed",
            title,
            verdict: "pass",
            seconds: seconds(movedAt - t0),
            detail: `${moved}; the client's ARP entry points at ${newHolder}${stale}`,
          };
  }
  stage.log(`starting keepalived again on ${node.name}`);
  const t1 = stage.observer.now();
  await stage.start(node, "keepalived");
  return [result, await healed(stage, "keepalived-killed-heal", healTitle, t1, limit)];
}

/** The holder's link cut at the bridge: the node drops off the LAN; then the link comes back. */
export async function linkCut(stage: Stage, limit: FaultBudgets): Promise<ScenarioResult[]> {
  const node = holderNode(stage);
  const title = `link of ${node?.name ?? "the holder"} cut: VIP moves`;
  const healTitle = "link back: one holder";
  if (!node) return [skipped("link-cut", title, stage), skipped("link-cut-heal", healTitle, stage)];
  stage.log(`cutting the link of ${node.name}`);
  const t0 = stage.observer.now();
  stage.observer.expectOverlap(t0);
  await stage.setLink(node, false);
  const movedAt = await stage.observer.waitFor(
    (h) => others(h, node.name).length === 1,
    limit.takeover,
    stage.signal,
    t0,
  );
  const result = await movedVerdict(stage, "link-cut", title, t0, movedAt, limit.takeover, limit.answer, () => {
    const newHolder = others(stage.observer.current, node.name)[0] ?? "?";
    return `${newHolder} took the VIP ${seconds(movedAt! - t0)} s after the cut`;
  });
  stage.log(`restoring the link of ${node.name}`);
  const t1 = stage.observer.now();
  await stage.setLink(node, true);
  return [result, await healed(stage, "link-cut-heal", healTitle, t1, limit)];
}

/** VRRP between the holder and the others dropped for PARTITION_MS, then allowed again. */
export async function partition(stage: Stage, limit: FaultBudgets): Promise<ScenarioResult[]> {
  const node = holderNode(stage);
  const title = `VRRP partitioned from ${node?.name ?? "the holder"} for ${seconds(PARTITION_MS)} s: the others take over`;
  const healTitle = "partition healed: exactly one holder, announced by gratuitous ARP";
  if (!node) return [skipped("partition", title, stage), skipped("partition-heal", healTitle, stage)];
  stage.log(`dropping VRRP between ${node.name} and the others for ${seconds(PARTITION_MS)} s`);
  const t0 = stage.observer.now();
  stage.observer.expectOverlap(t0);
  await stage.setVrrpBlocked(node, true);
  const splitAt = await stage.observer.waitFor(
    (h) => others(h, node.name).length >= 1,
    limit.takeover,
    stage.signal,
    t0,
  );
  const result: ScenarioResult =
    splitAt === undefined
      ? {
          id: "partition",
          title,
          verdict: "fail",
          detail: `after ${seconds(limit.takeover)} s the VIP is held by ${describe(stage.observer.current)} only`,
        }
      : {
          id: "partition",
          title,
          verdict: "pass",
          seconds: seconds(splitAt - t0),
          detail: `${describe(others(stage.observer.current, node.name))} claimed the VIP ${seconds(splitAt - t0)} s into the split, while ${node.name} ${stage.observer.current.includes(node.name) ? "kept it: both sides hold it, as VRRP must when its peers fall silent" : "gave it up"}`,
        };
  await sleep(Math.max(0, PARTITION_MS - (stage.observer.now() - t0)), stage.signal);
  stage.log(`healing the partition of ${node.name}`);
  const t1 = stage.observer.now();
  await stage.setVrrpBlocked(node, false);
  const heal = await healed(stage, "partition-heal", healTitle, t1, limit);
  if (heal.verdict === "pass") {
    const garp = await garpCheck(stage, stage.observer.current[0]!);
    if (garp) return [result, { ...heal, verdict: "fail", detail: `${heal.detail}, but ${garp}` }];
  }
  return [result, heal];
}

/** The holder's haproxy loses every apiserver (its packets to their port refused); then they are back. */
export async function backendsCut(stage: Stage, limit: FaultBudgets): Promise<ScenarioResult[]> {
  const node = holderNode(stage);
  const title = `${node?.name ?? "the holder"} cut off from every apiserver: VIP moves`;
  const healTitle = "apiservers reachable again: one holder";
  if (!node) return [skipped("backends-cut", title, stage), skipped("backends-cut-heal", healTitle, stage)];
  stage.log(`refusing ${node.name}'s connections to port ${stage.plan.apiserverPort}`);
  const t0 = stage.observer.now();
  await stage.setApiserversBlocked(node, true);
  const movedAt = await stage.observer.waitFor(
    (h) => h.length === 1 && h[0] !== node.name,
    limit.backendsTakeover,
    stage.signal,
    t0,
  );
  const { plan } = stage;
  const why = weightProblem(
    plan.nodes.map((n) => n.priority),
    plan.healthCheck.weight,
    plan.vrrp.preempt,
  );
  const result = await movedVerdict(
    stage,
    "backends-cut",
    title,
    t0,
    movedAt,
    limit.backendsTakeover,
    limit.answer,
    () => `${stage.observer.current[0]} took the VIP ${seconds(movedAt! - t0)} s after the cut`,
    why,
  );
  stage.log(`allowing ${node.name}'s connections to the apiservers again`);
  const t1 = stage.observer.now();
  await stage.setApiserversBlocked(node, false);
  return [result, await healed(stage, "backends-cut-heal", healTitle, t1, limit)];
}

/**
 * The verdict of a fault at t0 after which the VIP had to move: failed when it did not (with `why`,
 * when the spec explains it), else passed once the VIP answers again through the new holder.
 */
async function movedVerdict(
  stage: Stage,
  id: ScenarioResult["id"],
  title: string,
  t0: number,
  movedAt: number | undefined,
  takeoverMs: number,
  answerMs: number,
  moved: () => string,
  why?: string,
): Promise<ScenarioResult> {
  if (movedAt === undefined) {
    const held = `after ${seconds(takeoverMs)} s the VIP is held by ${describe(stage.observer.current)}`;
    return { id, title, verdict: "fail", detail: why ? `${held}: ${why}` : held };
  }
  const what = moved();
  const answered = await stage.client.waitAnswer(answerMs, () => stage.observer.now(), stage.signal);
  return answered === undefined
    ? {
        id,
        title,
        verdict: "fail",
        seconds: seconds(movedAt - t0),
        detail: `${what}, but the VIP did not answer within ${seconds(answerMs)} s`,
      }
    : {
        id,
        title,
        verdict: "pass",
        seconds: seconds(movedAt - t0),
        detail: `${what}; answers again ${seconds(stage.observer.now() - t0)} s after the cut`,
      };
}

/** After a heal at t1: exactly one holder within the budget (the top node when preempting), answering. */
async function healed(
  stage: Stage,
  id: ScenarioResult["id"],
  title: string,
  t1: number,
  limit: FaultBudgets,
): Promise<ScenarioResult> {
  const top = stage.plan.vrrp.preempt ? stage.expectedHolder : undefined;
  const oneAt = await stage.observer.waitFor(
    (h) => h.length === 1 && (top === undefined || h[0] === top),
    limit.heal,
    stage.signal,
    t1,
  );
  // from here on, two holders are a split brain again
  stage.observer.endExpectedOverlap(oneAt ?? stage.observer.now());
  if (oneAt === undefined)
    return {
      id,
      title,
      verdict: "fail",
      detail: `after ${seconds(limit.heal)} s the VIP is held by ${describe(stage.observer.current)}`,
    };
  const answered = await stage.client.waitAnswer(limit.answer, () => stage.observer.now(), stage.signal);
  const detail = `${stage.observer.current[0]} alone holds the VIP ${seconds(oneAt - t1)} s after the heal`;
  return answered === undefined
    ? { id, title, verdict: "fail", seconds: seconds(oneAt - t1), detail: `${detail}, but the VIP did not answer` }
    : { id, title, verdict: "pass", seconds: seconds(oneAt - t1), detail };
}

// The two ways a kube-apiserver goes away behind haproxy: stopped (connections refused) and failing
// (it accepts connections but /healthz answers 500, as with a broken etcd). Clients ask the VIP
// throughout; the verdicts are about what they saw.
import { TIMED_OUT } from "./client.js";
import type { ScenarioResult, Stage } from "./scenarios.js";
import { sleep } from "./wait.js";

interface Probe {
  atMs: number;
  ok: boolean;
  status: string;
  /** The first request got no answer in time; this is the answer to the one asked right after. */
  askedAgain?: boolean;
}

/** Milliseconds as seconds with one decimal, as every result reports them. */
export const seconds = (ms: number) => Math.round(ms / 100) / 10;

/**
 * Asks the VIP for `windowMs`, one request every ~100 ms. A request that got no answer within
 * curl's 2 s is asked once more at once: on a saturated machine (a CI runner with both cores
 * busy) a stall says nothing about haproxy's routing, while a server haproxy still sends requests
 * to answers 500 or refuses again, so the second answer is the one that counts. How many were
 * asked again is reported.
 */
async function probeFor(stage: Stage, windowMs: number): Promise<Probe[]> {
  const probes: Probe[] = [];
  const t0 = stage.observer.now();
  while (stage.observer.now() - t0 < windowMs) {
    const atMs = stage.observer.now() - t0;
    const first = await stage.client.probe();
    if (first.status === TIMED_OUT) probes.push({ atMs, ...(await stage.client.probe()), askedAgain: true });
    else probes.push({ atMs, ...first });
    await sleep(100, stage.signal);
  }
  return probes;
}

/** "; 2 asked again after no answer in 2 s", or nothing. */
function askedAgain(probes: readonly Probe[]): string {
  const n = probes.filter((p) => p.askedAgain).length;
  return n === 0 ? "" : `; ${n} asked again after no answer in 2 s`;
}

/** "3 × HTTP 500, 1 × timed out", most frequent first. */
function failures(probes: readonly Probe[]): string {
  const counts = new Map<string, number>();
  for (const p of probes) if (!p.ok) counts.set(p.status, (counts.get(p.status) ?? 0) + 1);
  return [...counts]
    .sort((a, b) => b[1] - a[1])
    .map(([status, n]) => `${n} × ${status}`)
    .join(", ");
}

/**
 * Resolves with the ms (since `t0`) at which the holder's haproxy logged the server of `node` in
 * `state` (haproxy -db writes "Server <backend>/<server> is DOWN" or "… is UP" to its stderr, our
 * log file) after the last line of the other state, or undefined when it did not within windowMs.
 */
async function marked(
  stage: Stage,
  holder: Stage["nodes"][number],
  node: string,
  state: "DOWN" | "UP",
  t0: number,
  windowMs: number,
): Promise<number | undefined> {
  const line = (s: string) => new RegExp(`Server \\S+/${node} is ${s}\\b`, "g");
  const other = state === "UP" ? "DOWN" : "UP";
  while (stage.observer.now() - t0 < windowMs) {
    const log = await stage.haproxyLog(holder);
    const since = Math.max(0, ...[...log.matchAll(line(other))].map((m) => m.index! + m[0].length));
    if (line(state).test(log.slice(since))) return stage.observer.now() - t0;
    await sleep(100, stage.signal);
  }
  return undefined;
}

/**
 * The holder's apiserver stops (killed, crashed): haproxy must send every request elsewhere at
 * once, mark the server down within its check window, and the VIP must stay where it is — the
 * check script asks the local haproxy, which still has healthy apiservers behind it, so a dead
 * local apiserver is no reason to fail over (OpenShift once moved its VIP for exactly this).
 * A refused connection is only retried on another server with `option redispatch`; without it,
 * haproxy retries the dead server and the client's connection is closed until the health check
 * has failed `fall` times.
 */
export async function apiserverStopped(stage: Stage, windowMs: number, backMs: number): Promise<ScenarioResult> {
  const holder = stage.observer.current.length === 1 ? stage.observer.current[0]! : stage.nodes[0]!.name;
  const node = stage.nodes.find((n) => n.name === holder)!;
  const title = `apiserver killed on ${holder}: marked down, requests keep succeeding, VIP stays`;
  stage.log(`stopping the apiserver on ${holder}; asking the VIP for ${seconds(windowMs)} s`);
  const t0 = stage.observer.now();
  await stage.stop(node, "apiserver");
  const [probes, downAt] = await Promise.all([
    probeFor(stage, windowMs),
    marked(stage, node, holder, "DOWN", t0, windowMs),
  ]);
  await stage.start(node, "apiserver");
  // The next scenario starts from every server in rotation: one still waiting for its `rise`
  // checks would leave the failing apiserver alone behind haproxy, and its timing to chance.
  const restarted = stage.observer.now();
  const upAt = downAt === undefined ? undefined : await marked(stage, node, holder, "UP", restarted, backMs);
  const ok = probes.filter((p) => p.ok).length;
  const moved = stage.observer.changes.some(
    (c) => c.atMs >= t0 && !(c.holders.length === 1 && c.holders[0] === holder),
  );
  const down =
    downAt === undefined
      ? `haproxy on ${holder} did not mark it down within ${seconds(windowMs)} s`
      : `marked down by haproxy after ${seconds(downAt)} s`;
  const back =
    upAt === undefined
      ? `not back in rotation ${seconds(backMs)} s after its restart`
      : `back up after ${seconds(upAt)} s`;
  const detail = `${ok}/${probes.length} requests answered 200 over ${seconds(windowMs)} s${askedAgain(probes)}; ${down}, ${back}; VIP ${moved ? `moved away (held by ${stage.observer.current.join(" and ") || "nobody"})` : `stayed on ${holder}`}`;
  if (moved || downAt === undefined || upAt === undefined)
    return {
      id: "apiserver-down",
      title,
      verdict: "fail",
      ...(downAt !== undefined ? { seconds: seconds(downAt) } : {}),
      detail,
    };
  if (ok === probes.length && ok > 0)
    return {
      id: "apiserver-down",
      title,
      verdict: "pass",
      seconds: seconds(downAt),
      detail: `${detail}; longest outage 0 s`,
    };
  let longest = 0;
  let since: number | undefined;
  for (const p of probes) {
    if (!p.ok) since ??= p.atMs;
    else if (since !== undefined) [longest, since] = [Math.max(longest, p.atMs - since), undefined];
  }
  if (since !== undefined) longest = Math.max(longest, windowMs - since);
  return {
    id: "apiserver-down",
    title,
    verdict: "fail",
    seconds: seconds(downAt),
    detail: `${detail}; longest outage ${seconds(longest)} s; failed: ${failures(probes)}`,
  };
}

/**
 * A non-holder's apiserver answers /healthz with 500. In TCP mode haproxy forwards requests to it
 * until its `httpchk GET /healthz` has failed `fall` times; after that no request may fail. (With
 * the recipe's `ssl-hello-chk`, which only checks that TLS answers, it would never be taken out.)
 */
export async function apiserverFailing(stage: Stage, windowMs: number, settledMs: number): Promise<ScenarioResult> {
  const holder = stage.observer.current[0];
  const node = stage.nodes.find((n) => n.name !== holder) ?? stage.nodes[0]!;
  const title = `apiserver failing (500) on ${node.name}: haproxy takes it out of rotation`;
  stage.log(`making the apiserver on ${node.name} answer 500; asking the VIP for ${seconds(windowMs)} s`);
  await stage.setApiserverFailing(node, true);
  const probes = await probeFor(stage, windowMs);
  await stage.setApiserverFailing(node, false);
  const lastFailure = probes.filter((p) => !p.ok).at(-1);
  const settled = probes.filter((p) => p.atMs >= windowMs - settledMs);
  const routedAround = settled.length > 0 && settled.every((p) => p.ok);
  const before = lastFailure ? `${failures(probes)}, the last at ${seconds(lastFailure.atMs)} s` : "none failed";
  const detail = `${probes.length} requests over ${seconds(windowMs)} s: ${before}${askedAgain(probes)}`;
  return routedAround
    ? {
        id: "apiserver-failing",
        title,
        verdict: "pass",
        seconds: seconds(lastFailure?.atMs ?? 0),
        detail: `${detail}; all answered 200 in the last ${seconds(settledMs)} s`,
      }
    : {
        id: "apiserver-failing",
        title,
        verdict: "fail",
        ...(lastFailure ? { seconds: seconds(lastFailure.atMs) } : {}),
        detail: `${detail}; still failing in the last ${seconds(settledMs)} s`,
      };
}

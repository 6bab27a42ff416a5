// The client on the lab's LAN (the bridge namespace) asking https://VIP:<lb port>/healthz, as
// kubectl and the kubelets would: only haproxy listens on the LB port, so an answer proves the path
// VIP → keepalived holder → haproxy → a kube-apiserver.
import { run } from "../tools/run.js";
import type { ToolPaths } from "./prerequisites.js";
import { checkAborted, sleep } from "./wait.js";

export interface ProbeResult {
  ok: boolean;
  /** HTTP status, or what went wrong before one arrived. */
  status: string;
}

/** The status of a request that got no answer within curl's --max-time. */
export const TIMED_OUT = "timed out";

export class VipClient {
  readonly url: string;

  constructor(
    private readonly tools: ToolPaths,
    private readonly netns: string,
    vip: string,
    lbPort: number,
  ) {
    this.url = `https://${vip}:${lbPort}/healthz`;
  }

  async probe(): Promise<ProbeResult> {
    const args = [
      "netns",
      "exec",
      this.netns,
      this.tools.curl,
      "-sk",
      "--max-time",
      "2",
      "-o",
      "/dev/null",
      "-w",
      "%{http_code}",
      this.url,
    ];
    const result = await run(this.tools.ip, args, { timeoutMs: 5000 });
    const status = result.stdout.trim();
    if (result.code === 0) return { ok: status === "200", status: `HTTP ${status}` };
    // curl's exit codes that matter here: 7 refused/unreachable, 28 timeout, 35/56 TLS or connection reset
    const reason: Record<number, string> = {
      7: "connection refused or no route",
      28: TIMED_OUT,
      35: "connection closed in the TLS handshake",
      52: "empty reply",
      56: "connection reset",
    };
    return { ok: false, status: reason[result.code ?? -1] ?? `curl exited ${result.code}` };
  }

  /** Probes until one succeeds; resolves with the time it took, or undefined after timeoutMs. */
  async waitAnswer(timeoutMs: number, now: () => number, signal?: AbortSignal): Promise<number | undefined> {
    const start = now();
    while (now() - start < timeoutMs) {
      checkAborted(signal);
      if ((await this.probe()).ok) return now() - start;
      await sleep(100, signal);
    }
    return undefined;
  }
}

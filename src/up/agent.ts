// The host side of the lab agent (lab-seed.ts): one request per connection to the VM's agent
// socket, "<id> <command>" out, "<id> <reply>" back. Lab VMs only.
import { connect } from "node:net";
import { randomBytes } from "node:crypto";
import { ExternalError } from "../errors.js";

export type AgentCommand =
  "ping" | "status" | "report" | "vip" | "stop keepalived" | "start keepalived" | "stop haproxy" | "start haproxy";

/** One try: the reply, or undefined when the agent is not there (a VM powered off, booting) or slow. */
export function askOnce(socket: string, command: AgentCommand, timeoutMs: number): Promise<string | undefined> {
  const id = randomBytes(4).toString("hex");
  return new Promise((resolve) => {
    const conn = connect(socket);
    let buffer = "";
    const finish = (value: string | undefined) => {
      clearTimeout(timer);
      conn.destroy();
      resolve(value);
    };
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    conn.setEncoding("utf8");
    conn.on("connect", () => conn.write(`${id} ${command}\n`));
    conn.on("data", (chunk: string) => {
      buffer += chunk;
      for (const line of buffer.split("\n").slice(0, -1)) {
        if (line.startsWith(`${id} `)) return finish(line.slice(id.length + 1).trim());
      }
    });
    conn.on("error", () => finish(undefined));
  });
}

/**
 * Sends `command`, retrying while the guest agent is not (yet) listening; throws after `totalMs`.
 * Each try waits up to a minute for its answer: in a TCG guest on a busy host, `systemctl stop`
 * alone has taken over 15 s, and a try abandoned early only sends the command again.
 */
export async function agentRequest(
  socket: string,
  node: string,
  command: AgentCommand,
  totalMs = 180_000,
): Promise<string> {
  const deadline = Date.now() + totalMs;
  while (Date.now() < deadline) {
    const reply = await askOnce(socket, command, Math.min(60_000, Math.max(1000, deadline - Date.now())));
    if (reply !== undefined) return reply;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new ExternalError(
    `the lab agent of ${node} did not answer "${command}" within ${totalMs / 1000} s`,
    "was the lab started with `up --stand-in-apiserver`?",
  );
}

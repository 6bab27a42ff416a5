// check_apiserver.sh run for real (sh, grep, curl) against loopback listeners: the haproxy mode
// that keepalived's check_haproxy runs every second passes while a socket listens on the LB port,
// IPv4 or IPv6 — haproxy balancing TCP listens (and accepts and closes) when no apiserver is up —
// and fails when nothing listens; the full check needs a /healthz answer.
import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { createServer, type AddressInfo, type Server } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HAPROXY_ALIVE_ARG, renderCheckScript } from "../../src/render/check-script.js";
import { tempDir } from "../helpers/cli.js";
import { planOf } from "../helpers/plan.js";
import { haveTools } from "../helpers/tools.js";

const ok = haveTools("sh", "grep", "curl");

/** Exit code of `sh script args…`. */
async function exitCode(script: string, args: string[]): Promise<number> {
  try {
    await promisify(execFile)("sh", [script, ...args], { timeout: 10_000 });
    return 0;
  } catch (error) {
    return (error as { code?: number }).code ?? -1;
  }
}

/** A loopback listener that accepts every connection and closes it at once, as haproxy does without servers. */
async function acceptAndClose(host = "127.0.0.1"): Promise<Server> {
  const server = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return server;
}

describe.skipIf(!ok)("check_apiserver.sh haproxy", () => {
  let server: Server;
  let dir: { dir: string; cleanup(): Promise<void> };
  let script: string;
  let freePort: number;

  beforeAll(async () => {
    server = await acceptAndClose();
    const port = (server.address() as AddressInfo).port;
    // a port nothing listens on: bound, then closed
    const probe = await acceptAndClose();
    freePort = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    dir = await tempDir();
    script = join(dir.dir, "check.sh");
    await writeFile(script, renderCheckScript(planOf((s) => (s.spec.loadBalancer.port = port))));
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await dir.cleanup();
  });

  it("passes while something accepts on the LB port, even without an answer (every apiserver down)", async () => {
    expect(await exitCode(script, [HAPROXY_ALIVE_ARG])).toBe(0);
  });

  it("the full check fails on the same listener: no /healthz answer is no health", async () => {
    expect(await exitCode(script, [])).toBe(1);
  });

  it("passes for a listener on IPv6 only (/proc/net/tcp6)", async () => {
    const v6 = await acceptAndClose("::1");
    const port = (v6.address() as AddressInfo).port;
    const script6 = join(dir.dir, "v6.sh");
    await writeFile(script6, renderCheckScript(planOf((s) => (s.spec.loadBalancer.port = port))));
    try {
      expect(await exitCode(script6, [HAPROXY_ALIVE_ARG])).toBe(0);
    } finally {
      await new Promise((resolve) => v6.close(resolve));
    }
  });

  it("fails when nothing listens on the LB port (haproxy does not run)", async () => {
    const dead = join(dir.dir, "dead.sh");
    await writeFile(dead, renderCheckScript(planOf((s) => (s.spec.loadBalancer.port = freePort))));
    expect(await exitCode(dead, [HAPROXY_ALIVE_ARG])).toBe(1);
  });
});

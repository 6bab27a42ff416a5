// Starting and stopping the programs of one node inside its namespace. Every daemon runs in the
// foreground (keepalived -n, haproxy -db) so its pid is the one we hold; every pid file lives in the
// lab folder, so nothing competes with a keepalived or haproxy the host may run itself.
import { readFile, rm } from "node:fs/promises";
import { ExternalError } from "../errors.js";
import { run, startDaemon, type Daemon } from "../tools/run.js";
import { STUB_FILE } from "./apiserver-stub.js";
import type { NodeFiles } from "./files.js";
import type { Ledger } from "./lab.js";
import type { ToolPaths } from "./prerequisites.js";
import { sleep } from "./wait.js";

export type Program = "keepalived" | "haproxy" | "apiserver" | "sentinel";

/** Set in the environment of every program of a lab, so its processes can be found by lab. */
export const LAB_ENV = "K8S_HA_LAB";

export interface LabContext {
  labId: string;
  tools: ToolPaths;
  ledger: Ledger;
  labDir: string;
  certFile: string;
  keyFile: string;
  lbPort: number;
  apiserverPort: number;
}

/** One node of the lab and the daemons now running in it. */
export interface LabNode {
  name: string;
  netns: string;
  files: NodeFiles;
  running: Partial<Record<Program, Daemon>>;
}

function argv(ctx: LabContext, node: LabNode, program: Program): [string, string[]] {
  const f = node.files;
  switch (program) {
    case "keepalived":
      // -n foreground, -l -D log to our log file, -G not to the host's syslog, -P VRRP only
      return [
        ctx.tools.keepalived,
        ["-n", "-l", "-D", "-G", "-P", "-f", f.keepalivedConf, "-p", f.keepalivedPid, "-r", f.vrrpPid],
      ];
    case "haproxy":
      // -db stays in the foreground although the rendered global section says `daemon`
      return [ctx.tools.haproxy, ["-db", "-f", f.haproxyCfg, "-p", f.haproxyPid]];
    case "apiserver":
      return [
        process.execPath,
        [
          `${ctx.labDir}/${STUB_FILE}`,
          String(ctx.apiserverPort),
          ctx.certFile,
          ctx.keyFile,
          f.apiserverMode,
          f.apiserverReady,
        ],
      ];
    case "sentinel":
      // a process that lives as long as the node: observe.ts reads the namespace's addresses
      // through /proc/<its pid>/net, without starting a program per sample
      return ["sleep", ["infinity"]];
  }
}

export async function startProgram(ctx: LabContext, node: LabNode, program: Program): Promise<Daemon> {
  if (node.running[program]?.running()) return node.running[program]!;
  if (program === "apiserver") await rm(node.files.apiserverReady, { force: true });
  // a pid file left by a killed keepalived makes the next one refuse to start ("already running")
  if (program === "keepalived")
    await Promise.all([node.files.keepalivedPid, node.files.vrrpPid].map((f) => rm(f, { force: true })));
  const [path, args] = argv(ctx, node, program);
  const daemon = await startDaemon(ctx.tools.ip, ["netns", "exec", node.netns, path, ...args], {
    logFile: node.files.log(program),
    env: { ...process.env, [LAB_ENV]: ctx.labId },
  });
  ctx.ledger.daemons.push(daemon);
  node.running[program] = daemon;
  if (program === "apiserver")
    await waitFile(node, daemon, "apiserver", node.files.apiserverReady, `listening on :${ctx.apiserverPort}`);
  // keepalived writes the VRRP pid file once its VRRP process runs, after the config was accepted
  if (program === "keepalived")
    await waitFile(node, daemon, "keepalived", node.files.vrrpPid, "running its VRRP process");
  if (program === "haproxy") await waitHaproxy(ctx, node, daemon);
  return daemon;
}

/** Stops one program the way systemd would (SIGTERM) and waits until it has ended. */
export async function stopProgram(node: LabNode, program: Program): Promise<void> {
  const daemon = node.running[program];
  if (!daemon) return;
  await daemon.stop({ graceMs: 5000 });
  delete node.running[program];
}

/** SIGKILL to the program's process group (keepalived's VRRP child too): it ends without a word. */
export async function killProgram(node: LabNode, program: Program): Promise<void> {
  const daemon = node.running[program];
  if (!daemon) return;
  await daemon.kill();
  delete node.running[program];
}

/** Waits until the program has written `file` (its sign of life); fails when it exits first. */
async function waitFile(node: LabNode, daemon: Daemon, program: Program, file: string, what: string): Promise<void> {
  for (let waited = 0; waited < 10_000; waited += 50) {
    if (!daemon.running()) await startFailed(node, program);
    try {
      if ((await readFile(file, "utf8")).trim() !== "") return;
    } catch {
      // not written yet
    }
    await sleep(50);
  }
  throw new ExternalError(`${program} on ${node.name} was not ${what} within 10 s; see ${node.files.log(program)}`);
}

/** haproxy is up when the node's own check would pass: https://localhost:<lb port>/healthz. */
async function waitHaproxy(ctx: LabContext, node: LabNode, daemon: Daemon): Promise<void> {
  const url = `https://localhost:${ctx.lbPort}/healthz`;
  for (let waited = 0; waited < 10_000; waited += 200) {
    if (!daemon.running()) await startFailed(node, "haproxy");
    const probe = await run(
      ctx.tools.ip,
      ["netns", "exec", node.netns, ctx.tools.curl, "-sfk", "--max-time", "1", "-o", "/dev/null", url],
      {
        timeoutMs: 5000,
      },
    );
    if (probe.code === 0) return;
    await sleep(200);
  }
  throw new ExternalError(
    `haproxy on ${node.name} did not answer ${url} within 10 s; see ${node.files.log("haproxy")}`,
  );
}

async function startFailed(node: LabNode, program: Program): Promise<never> {
  const log = await readFile(node.files.log(program), "utf8").catch(() => "");
  const tail = log.trim().split("\n").slice(-8).join("\n    ");
  throw new ExternalError(
    `${program} on ${node.name} exited right after starting`,
    tail ? `its log ends:\n    ${tail}` : undefined,
  );
}

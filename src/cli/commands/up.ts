// `up`, `down`, `status`: the lab in real VMs (src/up/). The seeds are built as `k8s-ha seed`
// builds them (src/seed); with --stand-in-apiserver they are lab seeds (src/up/lab-seed.ts).
// `up` writes only under DIR/up/; `down` removes what DIR/up/state.json lists.
import { readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { ExternalError, UsageError } from "../../errors.js";
import { imageRecordPath } from "../../packer/record.js";
import type { ClusterPlan } from "../../plan/plan.js";
import { renderNodes } from "../../render/index.js";
import { buildSeeds } from "../../seed/seed-artifacts.js";
import { watchInterrupts } from "../../publish/interrupt.js";
import { compileSpec } from "../compile.js";

export interface UpCommandOptions {
  output: string;
  provider: "qemu" | "virtualbox";
  image?: string;
  rehearse?: boolean;
  standInApiserver?: boolean;
  json?: boolean;
  accel: "auto" | "kvm" | "tcg";
  memory?: string;
  cpus?: string;
  timeout: string;
}

const log = (line: string) => process.stderr.write(`${line}\n`);

function positiveInt(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[1-9][0-9]*$/.test(value)) throw new UsageError(`${flag} must be a positive whole number, not ${JSON.stringify(value)}`);
  return Number(value);
}

/** --image, else the image record DIR/images/<name>-<version>.json (its `file`, beside it). */
async function imagePath(plan: ClusterPlan, outDir: string, image: string | undefined): Promise<string> {
  if (image !== undefined) return resolve(image);
  const record = imageRecordPath(outDir, plan.image);
  let file: unknown;
  try {
    file = (JSON.parse(await readFile(record, "utf8")) as { file?: unknown }).file;
  } catch {
    throw new ExternalError(`no image record ${record}`, "bake one with `k8s-ha build-image`, fetch one with `k8s-ha images pull`, or give --image PATH");
  }
  if (typeof file !== "string" || file.includes("/")) throw new ExternalError(`${record}: its "file" is not a file name beside the record`);
  return resolve(dirname(record), file);
}

export async function runUp(spec: string | undefined, options: UpCommandOptions): Promise<void> {
  const memory = positiveInt(options.memory, "--memory");
  const cpus = positiveInt(options.cpus, "--cpus");
  const timeoutSeconds = positiveInt(options.timeout, "--timeout")!;
  if (options.rehearse && !options.standInApiserver) {
    throw new UsageError("--rehearse stops keepalived and haproxy through the lab agent, which only lab seeds carry", "add --stand-in-apiserver");
  }
  const { plan } = await compileSpec(spec);
  const image = await imagePath(plan, options.output, options.image);
  let rendered = renderNodes(plan);
  if (options.standInApiserver) {
    const { labArtifacts } = await import("../../up/lab-seed.js");
    rendered = labArtifacts(plan, rendered);
  }
  const seeds = buildSeeds(plan, rendered);
  if (options.provider === "virtualbox") {
    const { upVirtualBox } = await import("../../up/virtualbox.js");
    await upVirtualBox(plan, seeds, { outDir: options.output, image, log });
    return;
  }
  const { upQemu, vmConfig } = await import("../../up/qemu-provider.js");
  const { nodesTable, faultsTable } = await import("../../up/report.js");
  const { labStatus } = await import("../../up/status.js");
  const { findQemuTools } = await import("../../up/preflight.js");
  const interrupts = watchInterrupts(process.stderr, "stopping the VMs this run started and removing what it created");
  try {
    const { state, nodes } = await upQemu(plan, seeds, {
      outDir: options.output,
      image,
      labMode: options.standInApiserver === true,
      accel: options.accel,
      memoryMiB: memory ?? plan.image.memoryMiB,
      cpus: cpus ?? plan.image.cpus,
      timeoutSeconds,
      signal: interrupts.signal,
      log,
    });
    const tools = await findQemuTools();
    const status = await labStatus(tools, state);
    let faults;
    if (options.rehearse) {
      const { rehearseFaults } = await import("../../up/faults.js");
      faults = await rehearseFaults({ plan, state, tools, vmConfig: (vm) => vmConfig(plan, state, vm), timeoutSeconds, signal: interrupts.signal, log });
      const { writeUpState } = await import("../../up/state.js");
      await writeUpState(options.output, state);
    }
    if (options.json) {
      process.stdout.write(`${JSON.stringify({ cluster: plan.name, provider: "qemu", vip: plan.vip, lbPort: plan.lbPort, vipAnswers: status.vipAnswers, holder: status.holder ?? null, nodes, faults: faults ?? null }, null, 2)}\n`);
    } else {
      process.stdout.write(nodesTable(nodes, status.holder));
      process.stdout.write(`VIP ${plan.vip}:${plan.lbPort} ${status.vipAnswers ? `answers through ${status.holder ?? "?"}` : "does NOT answer"} (asked from namespace ${state.netns})\n`);
      if (faults) process.stdout.write(`\n${faultsTable(faults)}`);
    }
    if (!status.vipAnswers) throw new ExternalError(`the VIP ${plan.vip} does not answer on port ${plan.lbPort}`);
    if (faults?.some((f) => !f.passed)) throw new ExternalError(`up --rehearse: ${faults.filter((f) => !f.passed).map((f) => f.fault).join(", ")} failed`);
  } finally {
    interrupts.dispose();
  }
}

export async function runDown(spec: string | undefined, options: { output: string; keepDisks?: boolean }): Promise<void> {
  void spec; // the state file says what to remove; the spec only names the default
  const { readUpState } = await import("../../up/state.js");
  const state = await readUpState(options.output);
  if (!state) {
    log(`nothing to remove: no ${join(options.output, "up", "state.json")}`);
    return;
  }
  if (state.provider === "virtualbox") {
    const { downVirtualBox } = await import("../../up/virtualbox.js");
    await downVirtualBox(options.output, state, options.keepDisks === true, log);
    return;
  }
  const { downQemu } = await import("../../up/qemu-provider.js");
  const { which } = await import("../../tools/run.js");
  const ip = await which("ip");
  if (!ip) throw new ExternalError("down needs `ip` (iproute2) to remove the lab namespace", "apt-get install iproute2");
  await downQemu(ip, options.output, state, options.keepDisks === true, log);
  log(`removed ${state.vms.length} VM(s) of cluster ${state.cluster}${options.keepDisks ? " (disks kept)" : ""}`);
}

export async function runStatus(spec: string | undefined, options: { output: string; json?: boolean }): Promise<void> {
  void spec;
  const { readUpState } = await import("../../up/state.js");
  const state = await readUpState(options.output);
  if (!state) {
    if (options.json) process.stdout.write(`${JSON.stringify({ running: false, nodes: [] }, null, 2)}\n`);
    else log(`no lab: no ${join(options.output, "up", "state.json")}`);
    return;
  }
  const { findQemuTools } = await import("../../up/preflight.js");
  const { labStatus } = await import("../../up/status.js");
  const { nodesTable } = await import("../../up/report.js");
  const status = await labStatus(await findQemuTools(), state);
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ running: true, cluster: state.cluster, provider: state.provider, vip: state.vip, vipAnswers: status.vipAnswers, holder: status.holder ?? null, nodes: status.nodes }, null, 2)}\n`);
  } else {
    process.stdout.write(nodesTable(status.nodes, status.holder));
    process.stdout.write(`VIP ${state.vip}:${state.lbPort} ${status.vipAnswers ? `answers through ${status.holder ?? "?"}` : "does NOT answer"}\n`);
  }
}

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
import { watchInterrupts } from "../../tools/interrupts.js";
import type { VmState } from "../../up/state.js";
import { compileSpec } from "../compile.js";
import { stderr, stdout } from "../../terminal.js";

export interface UpCommandOptions {
  output: string;
  provider: "qemu" | "virtualbox";
  image?: string;
  rehearse?: boolean;
  /** With --rehearse: only these faults (comma-separated). */
  faults?: string;
  standInApiserver?: boolean;
  json?: boolean;
  accel: "auto" | "kvm" | "tcg";
  memory?: string;
  cpus?: string;
  timeout: string;
}

const log = (line: string) => stderr.write(`${line}\n`);

function positiveInt(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[1-9][0-9]*$/.test(value))
    throw new UsageError(`${flag} must be a positive whole number, not ${JSON.stringify(value)}`);
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
    throw new ExternalError(
      `no image record ${record}`,
      "bake one with `k8s-ha build-image`, fetch one with `k8s-ha images pull`, or give --image PATH",
    );
  }
  if (typeof file !== "string" || file.includes("/"))
    throw new ExternalError(`${record}: its "file" is not a file name beside the record`);
  return resolve(dirname(record), file);
}

export async function runUp(spec: string | undefined, options: UpCommandOptions): Promise<void> {
  const memory = positiveInt(options.memory, "--memory");
  const cpus = positiveInt(options.cpus, "--cpus");
  const timeoutSeconds = positiveInt(options.timeout, "--timeout")!;
  if (options.rehearse && !options.standInApiserver) {
    throw new UsageError(
      "--rehearse stops keepalived and haproxy through the lab agent, which only lab seeds carry",
      "add --stand-in-apiserver",
    );
  }
  if (options.faults !== undefined && !options.rehearse)
    throw new UsageError("--faults chooses among the faults of --rehearse", "add --rehearse");
  const faultIds =
    options.faults === undefined ? undefined : (await import("../../up/fault-ids.js")).parseFaultList(options.faults);
  const { plan } = await compileSpec(spec);
  const image = await imagePath(plan, options.output, options.image);
  let rendered = renderNodes(plan);
  if (options.standInApiserver) {
    const { labArtifacts } = await import("../../up/lab-seed.js");
    rendered = labArtifacts(plan, rendered);
  }
  const seeds = buildSeeds(plan, rendered);
  if (options.rehearse && options.provider !== "qemu") {
    throw new UsageError(
      "--rehearse needs the qemu provider: its agent talks over qemu's virtio-serial port",
      "use --provider qemu",
    );
  }
  const { nodesTable, faultsTable } = await import("../../up/report.js");
  const { labStatus } = await import("../../up/status.js");
  const interrupts = watchInterrupts({ cleanup: "stopping the VMs this run started and removing what it created" });
  try {
    const common = {
      // absolute: the state file's paths must hold from any working directory
      outDir: resolve(options.output),
      image,
      labMode: options.standInApiserver === true,
      memoryMiB: memory ?? plan.image.memoryMiB,
      cpus: cpus ?? plan.image.cpus,
      timeoutSeconds,
      signal: interrupts.signal,
      log,
    };
    const provider = await loadProvider(options.provider);
    const { state, nodes } =
      options.provider === "qemu"
        ? await (await import("../../up/qemu-provider.js")).upQemu(plan, seeds, { ...common, accel: options.accel })
        : await (await import("../../up/virtualbox.js")).upVirtualBox(plan, seeds, common);
    const status = await labStatus(provider.tools, state, provider.alive);
    let faults;
    if (options.rehearse) {
      const { rehearseFaults } = await import("../../up/faults.js");
      const { vmConfig } = await import("../../up/qemu-provider.js");
      const { findQemuTools } = await import("../../up/preflight.js");
      const { writeUpState } = await import("../../up/state.js");
      const saveState = () => writeUpState(options.output, state);
      faults = await rehearseFaults(
        {
          plan,
          state,
          tools: await findQemuTools(),
          vmConfig: (vm) => vmConfig(plan, state, vm),
          saveState,
          timeoutSeconds,
          signal: interrupts.signal,
          log,
        },
        faultIds,
      );
      await saveState();
    }
    if (options.json) {
      stdout.write(
        `${JSON.stringify({ cluster: plan.name, provider: options.provider, vip: plan.vip, lbPort: plan.lbPort, vipAnswers: status.vipAnswers, holder: status.holder ?? null, nodes, faults: faults ?? null }, null, 2)}\n`,
      );
    } else {
      stdout.write(nodesTable(nodes, status.holder));
      stdout.write(
        `VIP ${plan.vip}:${plan.lbPort} ${status.vipAnswers ? `answers through ${status.holder ?? "?"}` : "does NOT answer"}\n`,
      );
      if (faults) stdout.write(`\n${faultsTable(faults)}`);
    }
    if (!status.vipAnswers) throw new ExternalError(`the VIP ${plan.vip} does not answer on port ${plan.lbPort}`);
    if (faults?.some((f) => !f.passed))
      throw new ExternalError(
        `up --rehearse: ${faults
          .filter((f) => !f.passed)
          .map((f) => f.fault)
          .join(", ")} failed`,
      );
  } finally {
    interrupts.dispose();
  }
}

/** What `status` needs of a provider: the probe's tools and whether a VM runs. */
async function loadProvider(provider: "qemu" | "virtualbox") {
  const { which } = await import("../../tools/run.js");
  const [ip, curl] = [await which("ip"), await which("curl")];
  if (!ip || !curl)
    throw new ExternalError(
      "k8s-ha asks the VIP with curl and reads its holder with ip: not both found on PATH",
      "apt-get install curl iproute2",
    );
  if (provider === "qemu") {
    const { isQemu } = await import("../../up/qemu.js");
    return { tools: { ip, curl }, alive: (vm: VmState) => isQemu(vm.pid) };
  }
  const { vboxRunning } = await import("../../up/virtualbox.js");
  return { tools: { ip, curl }, alive: vboxRunning };
}

export async function runDown(
  spec: string | undefined,
  options: { output: string; keepDisks?: boolean },
): Promise<void> {
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
  if (!ip)
    throw new ExternalError("down needs `ip` (iproute2) to remove the lab namespace", "apt-get install iproute2");
  await downQemu(ip, options.output, state, options.keepDisks === true, log);
  log(`removed ${state.vms.length} VM(s) of cluster ${state.cluster}${options.keepDisks ? " (disks kept)" : ""}`);
}

export async function runStatus(
  spec: string | undefined,
  options: { output: string; json?: boolean; report?: boolean },
): Promise<void> {
  void spec;
  const { readUpState } = await import("../../up/state.js");
  const state = await readUpState(options.output);
  if (!state) {
    if (options.json) stdout.write(`${JSON.stringify({ running: false, nodes: [] }, null, 2)}\n`);
    else log(`no lab: no ${join(options.output, "up", "state.json")}`);
    return;
  }
  const { labStatus } = await import("../../up/status.js");
  const { nodesTable } = await import("../../up/report.js");
  const provider = await loadProvider(state.provider);
  const status = await labStatus(provider.tools, state, provider.alive);
  let reports;
  if (options.report) {
    const { writeNodeReports } = await import("../../up/node-report.js");
    reports = await writeNodeReports(state, provider.alive, log);
  }
  if (options.json) {
    stdout.write(
      `${JSON.stringify({ running: true, cluster: state.cluster, provider: state.provider, vip: state.vip, vipAnswers: status.vipAnswers, holder: status.holder ?? null, nodes: status.nodes, ...(reports ? { reports } : {}) }, null, 2)}\n`,
    );
  } else {
    stdout.write(nodesTable(status.nodes, status.holder));
    stdout.write(
      `VIP ${state.vip}:${state.lbPort} ${status.vipAnswers ? `answers through ${status.holder ?? "?"}` : "does NOT answer"}\n`,
    );
  }
}

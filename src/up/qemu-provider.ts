// `up`, `down` and `status` with qemu: the lab network (as root, a namespace with a bridge and
// taps, network.ts; without root, qemu's multicast socket network on loopback), one VM per node
// (qemu.ts) on a copy-on-write overlay of the golden image, its seed as CD-ROM. Idempotent: a VM
// that runs with the seed it has is left alone; one whose seed changed is powered off, given the
// new ISO and booted; one that is not running is booted. What exists is in the state file, written
// after every step, so Ctrl-C or a failure removes what this run created and nothing else.
import { mkdir, rm } from "node:fs/promises";
import { ExternalError } from "../errors.js";
import { broadcastOf, networkOf, numberToIPv4 } from "../spec/ipv4.js";
import type { ClusterPlan } from "../plan/plan.js";
import type { Seed } from "../seed/seed-artifacts.js";
import { sha256 } from "../write/hash.js";
import { writeFileAtomic } from "../write/atomic.js";
import { describeExit, run } from "../tools/run.js";
import { checkAborted } from "../rehearse/wait.js";
import { labNetns, labSegment, macAddress, BRIDGE, statePath, tapName, upDir, vmPaths } from "./layout.js";
import { createLabNetwork, createTap, deleteLabNetwork, namespaceExists, tapExists } from "./network.js";
import { nicSlot } from "./nic-slot.js";
import { checkAddressClash, checkImage, checkMemory, findQemuTools, probeAccel, type QemuTools } from "./preflight.js";
import { waitReady } from "./ready.js";
import { isQemu, startVm, stopVm, type Nic, type VmConfig } from "./qemu.js";
import { readUpState, writeUpState, type UpState, type VmState } from "./state.js";

export interface QemuUpOptions {
  outDir: string;
  image: string;
  labMode: boolean;
  accel: "auto" | "kvm" | "tcg";
  memoryMiB: number;
  cpus: number;
  /** Seconds to wait for every node to be ready. */
  timeoutSeconds: number;
  signal: AbortSignal;
  log: (line: string) => void;
}

import type { NodeReport, VmAction } from "./report-types.js";

/** The host's address on the lab bridge: the spec's gateway, else the highest free one. */
export function hostAddress(plan: ClusterPlan): string {
  const used = new Set([plan.vip, ...plan.nodes.map((n) => n.address)]);
  if (plan.network.gateway && !used.has(plan.network.gateway)) return plan.network.gateway;
  const prefix = plan.network.prefixLength;
  const first = networkOf(plan.vip, prefix) + 1;
  for (let n = broadcastOf(plan.vip, prefix) - 1; n >= first; n--) {
    if (!used.has(numberToIPv4(n))) return numberToIPv4(n);
  }
  throw new ExternalError(`no free address for the host in ${plan.vip}/${prefix}`);
}

/** The lab's cluster network: a bridge when root can make one, else qemu's socket network. */
type LabNetwork = "bridge" | "socket";

/**
 * NICs of a node: the cluster NIC (on a tap, or on the rootless segment), and a user-mode (NAT,
 * DHCP) NIC per dhcpInterfaces entry.
 */
function nics(plan: ClusterPlan, index: number, network: LabNetwork, segment: string | undefined): Nic[] {
  const cluster: Nic = {
    slot: nicSlot(plan.network.interface, "spec.network.interface"),
    mac: macAddress(index, 0),
    kind: network === "socket" ? { segment: segment! } : { tap: tapName(index) },
  };
  // spec.network.dhcpInterfaces (issue 19) is read when the plan has it
  const dhcp = (plan.network as { dhcpInterfaces?: string[] }).dhcpInterfaces ?? [];
  return [
    cluster,
    ...dhcp.map((name, i): Nic => ({
      slot: nicSlot(name, `spec.network.dhcpInterfaces[${i}]`),
      mac: macAddress(index, i + 1),
      kind: { user: true },
    })),
  ];
}

/** How qemu runs the VM of `vm`: the same at creation, after a re-seed and after node loss. */
export function vmConfig(plan: ClusterPlan, state: UpState, vm: VmState): VmConfig {
  const index = plan.nodes.findIndex((n) => n.name === vm.node);
  return {
    name: vm.node,
    paths: {
      dir: vm.dir,
      disk: vm.disk,
      seed: vm.seed,
      serialLog: vm.serialLog,
      qmp: vm.qmp,
      agent: vm.agent,
      pidFile: vm.pidFile,
    },
    accel: state.accel ?? "tcg",
    cpus: state.cpus,
    memoryMiB: state.memoryMiB,
    nics: nics(plan, index, state.network ?? "bridge", state.segment),
    agent: state.labMode,
  };
}

async function qemuImg(tools: QemuTools, args: string[]): Promise<void> {
  const result = await run(tools.qemuImg, args, { timeoutMs: 60_000 });
  if (result.code !== 0)
    throw new ExternalError(`qemu-img ${args.join(" ")}: ${describeExit("qemu-img", result)}: ${result.stderr.trim()}`);
}

/**
 * Root gets a bridge the host is on; anyone else qemu's socket network, where only the lab agents
 * can see the VIP. A lab keeps the network it was made with.
 */
function labNetwork(previous: UpState | undefined, labMode: boolean): LabNetwork {
  const root = process.getuid?.() === 0;
  const network = previous ? (previous.network ?? "bridge") : root ? "bridge" : "socket";
  if (network === "bridge" && !root) {
    throw new ExternalError(
      "this lab was made by root, on a bridge in a network namespace: only root can change or boot its VMs",
      "run k8s-ha as root for this -o DIR (sudo), or `sudo k8s-ha down` it and start a rootless lab",
    );
  }
  if (network === "socket" && !labMode) {
    throw new ExternalError(
      "without root, the lab's cluster network is qemu's socket network on loopback, which the host is not on: only the nodes' lab agents can tell whether the VIP answers",
      "add --stand-in-apiserver (lab seeds with the agent), or run as root for a bridge the host is on",
    );
  }
  return network;
}

export async function upQemu(
  plan: ClusterPlan,
  seeds: readonly Seed[],
  options: QemuUpOptions,
): Promise<{ state: UpState; nodes: NodeReport[] }> {
  const { outDir, log, signal } = options;
  const tools = await findQemuTools();
  await checkImage(options.image);
  const previous = await readUpState(outDir);
  if (previous && (previous.provider !== "qemu" || previous.cluster !== plan.name)) {
    throw new ExternalError(
      `${statePath(outDir)} records a ${previous.provider} lab of cluster ${previous.cluster}`,
      "run `k8s-ha down` for it first, or use another -o DIR",
    );
  }
  const network = labNetwork(previous, options.labMode);
  const segment = network === "socket" ? (previous?.segment ?? labSegment(outDir)) : undefined;
  for (const [i] of plan.nodes.entries()) nics(plan, i, network, segment); // bad NIC names fail before anything is made
  const accel = previous?.accel ?? (await probeAccel(tools.qemu, options.accel));
  const netns = network === "bridge" ? (previous?.netns ?? labNetns(plan.name, outDir)) : undefined;
  const state: UpState = previous ?? {
    version: 1,
    provider: "qemu",
    cluster: plan.name,
    vip: plan.vip,
    lbPort: plan.lbPort,
    image: options.image,
    accel,
    labMode: options.labMode,
    cpus: options.cpus,
    memoryMiB: options.memoryMiB,
    network,
    ...(network === "bridge" ? { netns, bridge: BRIDGE, hostAddress: hostAddress(plan) } : { segment }),
    prefixLength: plan.network.prefixLength,
    vms: [],
  };
  state.labMode = options.labMode;

  // What this run made, so an interrupt or a failure removes exactly that.
  const made = { lab: false, vms: [] as string[] };
  const reports: NodeReport[] = [];
  const started = new Map<string, number>();
  const waitFor = (nodes: Map<string, number>) =>
    waitReady({ tools, plan, state, started: nodes, reports, alive: (vm) => isQemu(vm.pid), ...options });
  try {
    const running = new Map<string, boolean>();
    for (const vm of state.vms) running.set(vm.node, await isQemu(vm.pid));
    const toBoot = plan.nodes.filter((n) => !running.get(n.name));
    await checkMemory(toBoot.length, options.memoryMiB);
    if (netns && !(await namespaceExists(tools.ip, netns))) {
      checkAddressClash(plan);
      await mkdir(upDir(outDir), { recursive: true });
      await createLabNetwork(tools.ip, netns, state.hostAddress!, plan.network.prefixLength);
      made.lab = true;
      state.netns = netns;
      await writeUpState(outDir, state);
      log(`lab network: namespace ${netns}, bridge ${BRIDGE}, host ${state.hostAddress}/${plan.network.prefixLength}`);
    }
    if (!previous && network === "socket") {
      await mkdir(upDir(outDir), { recursive: true });
      made.lab = true;
      await writeUpState(outDir, state);
      log(
        `lab network (rootless): qemu's socket network, multicast ${segment} on loopback; the host is not on it, the nodes' lab agents report the VIP`,
      );
    }

    // nodes no longer in the spec: theirs to remove
    for (const vm of [...state.vms]) {
      if (plan.nodes.some((n) => n.name === vm.node)) continue;
      log(`${vm.node}: no longer in the spec; removing its VM`);
      await removeVm(tools, state, vm, false);
      state.vms = state.vms.filter((v) => v !== vm);
      await writeUpState(outDir, state);
    }

    for (const [index, node] of plan.nodes.entries()) {
      checkAborted(signal);
      const seed = seeds.find((s) => s.node === node.name)!;
      const seedSha = sha256(seed.contents);
      const paths = vmPaths(outDir, node.name);
      let vm = state.vms.find((v) => v.node === node.name);
      const isRunning = running.get(node.name) === true;
      let action: VmAction;
      if (vm && isRunning && vm.seedSha256 === seedSha) {
        reports.push({
          node: node.name,
          address: node.address,
          action: "unchanged",
          state: "running",
          ...(vm.readySeconds !== undefined ? { readySeconds: vm.readySeconds } : {}),
        });
        // booted by an earlier `up` that ended before it was ready: wait for it now
        if (vm.readySeconds === undefined) started.set(node.name, vm.startedAt ?? Date.now());
        continue;
      }
      if (vm && isRunning) {
        log(`${node.name}: its seed changed (instance-id ${seed.instanceId}): powering off to swap the ISO`);
        await stopVm(vm.pid, vm.qmp, 120_000);
        action = "reseeded";
      } else {
        action = vm ? "started" : "created";
      }
      if (!vm) {
        await mkdir(paths.dir, { recursive: true });
        made.vms.push(node.name);
        vm = {
          node: node.name,
          address: node.address,
          mac: macAddress(index, 0),
          ...(netns ? { tap: tapName(index) } : {}),
          dir: paths.dir,
          disk: paths.disk,
          seed: paths.seed,
          seedSha256: seedSha,
          instanceId: seed.instanceId,
          qmp: paths.qmp,
          agent: paths.agent,
          serialLog: paths.serialLog,
          pidFile: paths.pidFile,
        };
        state.vms.push(vm);
        await writeUpState(outDir, state);
        await qemuImg(tools, ["create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", options.image, paths.disk]);
      }
      await writeFileAtomic(paths.seed, seed.contents);
      vm.seedSha256 = seedSha;
      vm.instanceId = seed.instanceId;
      if (netns && !(await tapExists(tools.ip, netns, vm.tap!))) await createTap(tools.ip, netns, vm.tap!);
      await rm(paths.serialLog, { force: true });
      vm.pid = await startVm(tools.ip, tools.qemu, netns, vmConfig(plan, state, vm));
      delete vm.readySeconds;
      vm.startedAt = Date.now();
      started.set(node.name, vm.startedAt);
      await writeUpState(outDir, state);
      log(`${node.name}: ${action}, qemu pid ${vm.pid} (${accel.toUpperCase()}), serial log ${paths.serialLog}`);
      reports.push({ node: node.name, address: node.address, action, state: "running" });
      if (action === "reseeded") {
        // One node at a time, as an operator rolls a change through an HA pair: the others keep
        // the VIP while this one boots its new seed, and the next waits until it is ready again.
        await waitFor(new Map([[node.name, vm.startedAt]]));
        started.delete(node.name);
        await writeUpState(outDir, state);
      }
    }

    if (started.size > 0) await waitFor(started);
    await writeUpState(outDir, state);
    return { state, nodes: reports };
  } catch (error) {
    await undo(tools, outDir, state, made, log);
    throw error;
  }
}

/** Removes what this run created (VMs it made, the namespace if it made it); leaves the rest as recorded. */
async function undo(
  tools: QemuTools,
  outDir: string,
  state: UpState,
  made: { lab: boolean; vms: string[] },
  log: (line: string) => void,
): Promise<void> {
  for (const name of made.vms) {
    const vm = state.vms.find((v) => v.node === name);
    if (!vm) continue;
    log(`${name}: removing the half-created VM`);
    await removeVm(tools, state, vm, false);
    state.vms = state.vms.filter((v) => v !== vm);
  }
  if (made.lab && state.vms.length === 0) {
    if (state.netns) await deleteLabNetwork(tools.ip, state.netns);
    await rm(statePath(outDir), { force: true });
    await rm(upDir(outDir), { recursive: true, force: true }).catch(() => undefined);
    return;
  }
  // nothing was recorded before and nothing was made: there is no state to write
  if (state.vms.length === 0 && !(state.netns && (await namespaceExists(tools.ip, state.netns)))) return;
  await writeUpState(outDir, state);
}

/** Stops a VM and removes its files (all but the disk with keepDisk). */
export async function removeVm(
  tools: Pick<QemuTools, "ip">,
  state: UpState,
  vm: VmState,
  keepDisk: boolean,
): Promise<void> {
  await stopVm(vm.pid, vm.qmp, keepDisk ? 60_000 : 0);
  if (state.netns && vm.tap && (await namespaceExists(tools.ip, state.netns))) {
    await run(tools.ip, ["-n", state.netns, "link", "delete", vm.tap], { timeoutMs: 10_000 });
  }
  for (const file of [vm.seed, vm.serialLog, vm.qmp, vm.agent, vm.pidFile, ...(keepDisk ? [] : [vm.disk])])
    await rm(file, { force: true });
  if (!keepDisk) await rm(vm.dir, { recursive: true, force: true });
}

/** `down`: every VM in the state file, then the namespace, then the state file. */
export async function downQemu(
  ipPath: string,
  outDir: string,
  state: UpState,
  keepDisks: boolean,
  log: (line: string) => void,
): Promise<void> {
  for (const vm of state.vms) {
    log(
      `${vm.node}: stopping qemu${vm.pid ? ` (pid ${vm.pid})` : ""} and removing ${keepDisks ? "all but its disk" : "its files"}`,
    );
    await removeVm({ ip: ipPath }, state, vm, keepDisks);
  }
  if (state.netns) {
    log(`removing namespace ${state.netns} (bridge and taps with it)`);
    await deleteLabNetwork(ipPath, state.netns);
  }
  await rm(statePath(outDir), { force: true });
  if (!keepDisks) await rm(upDir(outDir), { recursive: true, force: true });
}

// `up`/`down` with VirtualBox: each node's VM imported from the golden OVA, its NICs set with
// modifyvm (the cluster NIC on a host-only network `up` creates, where the host polls the VIP; a
// NAT adapter per dhcpInterfaces entry), its seed attached at a free storage slot read from
// `showvminfo --machinereadable`, started headless; the serial console goes to a file, so the
// readiness check is the one the qemu provider uses. The rehearsal agent needs qemu's
// virtio-serial port, so `--rehearse` is qemu-only.
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { ExternalError } from "../errors.js";
import type { ClusterPlan } from "../plan/plan.js";
import type { Seed } from "../seed/seed-artifacts.js";
import { sleep } from "../rehearse/wait.js";
import { writeFileAtomic } from "../write/atomic.js";
import { which } from "../tools/run.js";
import { sha256 } from "../write/hash.js";
import { macAddress, statePath, upDir, vmPaths } from "./layout.js";
import { nicSlot } from "./nic-slot.js";
import { checkAddressClash, checkImage, checkMemory } from "./preflight.js";
import { hostAddress } from "./qemu-provider.js";
import { waitReady } from "./ready.js";
import type { NodeReport, VmAction } from "./report-types.js";
import { readUpState, writeUpState, type UpState, type VmState } from "./state.js";
import {
  adapterOfSlot,
  freeStorageSlot,
  importArgs,
  modifyVmArgs,
  parseMachineReadable,
  storageAttachSeedArgs,
  vbox,
  type VboxNic,
} from "./vbox-manage.js";

export interface VboxUpOptions {
  outDir: string;
  image: string;
  labMode: boolean;
  memoryMiB: number;
  cpus: number;
  timeoutSeconds: number;
  signal: AbortSignal;
  log: (line: string) => void;
}

async function vboxManagePath(): Promise<string> {
  const path = await which("VBoxManage");
  if (!path)
    throw new ExternalError(
      "up --provider virtualbox needs VBoxManage, not found on PATH",
      "install VirtualBox from virtualbox.org",
    );
  return path;
}

async function hostTools(): Promise<{ ip: string; curl: string }> {
  const [ip, curl] = [await which("ip"), await which("curl")];
  if (!ip || !curl)
    throw new ExternalError(
      "up polls the VIP with curl and reads the holder with ip, not both found on PATH",
      "apt-get install curl iproute2",
    );
  return { ip, curl };
}

async function vmInfo(vboxManage: string, vm: string): Promise<Map<string, string>> {
  return parseMachineReadable(await vbox(vboxManage, ["showvminfo", vm, "--machinereadable"]));
}

async function isRunning(vboxManage: string, vm: string | undefined): Promise<boolean> {
  if (!vm) return false;
  try {
    return (await vmInfo(vboxManage, vm)).get("VMState") === "running";
  } catch {
    return false;
  }
}

/** ACPI power button, then a hard power-off when the guest has not stopped within `graceMs`. */
async function powerOff(vboxManage: string, vm: string, graceMs: number): Promise<void> {
  if (!(await isRunning(vboxManage, vm))) return;
  if (graceMs > 0) {
    await vbox(vboxManage, ["controlvm", vm, "acpipowerbutton"]).catch(() => "");
    for (let waited = 0; waited < graceMs; waited += 1000) {
      if (!(await isRunning(vboxManage, vm))) return;
      await sleep(1000);
    }
  }
  await vbox(vboxManage, ["controlvm", vm, "poweroff"]).catch(() => "");
}

function prefixToNetmask(prefix: number): string {
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return [24, 16, 8, 0].map((shift) => (mask >>> shift) & 255).join(".");
}

function nics(plan: ClusterPlan, index: number, hostOnly: string): VboxNic[] {
  const cluster = plan.network.interface;
  const dhcp = (plan.network as { dhcpInterfaces?: string[] }).dhcpInterfaces ?? [];
  return [
    {
      adapter: adapterOfSlot(nicSlot(cluster, "spec.network.interface"), "spec.network.interface", cluster),
      mac: macAddress(index, 0),
      kind: { hostOnly },
    },
    ...dhcp.map((name, i): VboxNic => ({
      adapter: adapterOfSlot(
        nicSlot(name, `spec.network.dhcpInterfaces[${i}]`),
        `spec.network.dhcpInterfaces[${i}]`,
        name,
      ),
      mac: macAddress(index, i + 1),
      kind: { nat: true },
    })),
  ];
}

export async function upVirtualBox(
  plan: ClusterPlan,
  seeds: readonly Seed[],
  options: VboxUpOptions,
): Promise<{ state: UpState; nodes: NodeReport[] }> {
  const { outDir, log } = options;
  const vboxManage = await vboxManagePath();
  const tools = await hostTools();
  await checkImage(options.image);
  for (const [i] of plan.nodes.entries()) nics(plan, i, "-");
  const previous = await readUpState(outDir);
  if (previous && (previous.provider !== "virtualbox" || previous.cluster !== plan.name)) {
    throw new ExternalError(
      `${statePath(outDir)} records a ${previous.provider} lab of cluster ${previous.cluster}`,
      "run `k8s-ha down` for it first, or use another -o DIR",
    );
  }
  const state: UpState = previous ?? {
    version: 1,
    provider: "virtualbox",
    cluster: plan.name,
    vip: plan.vip,
    lbPort: plan.lbPort,
    image: options.image,
    labMode: options.labMode,
    cpus: options.cpus,
    memoryMiB: options.memoryMiB,
    hostAddress: hostAddress(plan),
    prefixLength: plan.network.prefixLength,
    vms: [],
  };
  state.labMode = options.labMode;
  const made = { hostOnly: false, vms: [] as string[] };
  const reports: NodeReport[] = [];
  const started = new Map<string, number>();
  const waitFor = (nodes: Map<string, number>) =>
    waitReady({
      tools,
      plan,
      state,
      started: nodes,
      reports,
      alive: (v) => isRunning(vboxManage, v.vm),
      timeoutSeconds: options.timeoutSeconds,
      signal: options.signal,
      log,
    });
  try {
    const running = new Map<string, boolean>();
    for (const vm of state.vms) running.set(vm.node, await isRunning(vboxManage, vm.vm));
    await checkMemory(plan.nodes.filter((n) => !running.get(n.name)).length, options.memoryMiB);
    if (!state.hostOnlyInterface) {
      checkAddressClash(plan);
      await mkdir(upDir(outDir), { recursive: true });
      const created = await vbox(vboxManage, ["hostonlyif", "create"]);
      const name = /Interface '([^']+)'/.exec(created)?.[1];
      if (!name)
        throw new ExternalError(`VBoxManage hostonlyif create did not name the interface it made: ${created.trim()}`);
      state.hostOnlyInterface = name;
      made.hostOnly = true;
      await writeUpState(outDir, state);
      await vbox(vboxManage, [
        "hostonlyif",
        "ipconfig",
        name,
        "--ip",
        state.hostAddress!,
        "--netmask",
        prefixToNetmask(plan.network.prefixLength),
      ]);
      log(`lab network: host-only interface ${name}, host ${state.hostAddress}/${plan.network.prefixLength}`);
    }
    for (const [index, node] of plan.nodes.entries()) {
      const seed = seeds.find((s) => s.node === node.name)!;
      const seedSha = sha256(seed.contents);
      const paths = vmPaths(outDir, node.name);
      let vm = state.vms.find((v) => v.node === node.name);
      const isUp = running.get(node.name) === true;
      if (vm && isUp && vm.seedSha256 === seedSha) {
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
      let action: VmAction = vm ? (isUp ? "reseeded" : "started") : "created";
      if (!vm) {
        const name = `${plan.name}-${node.name}`;
        await mkdir(paths.dir, { recursive: true });
        made.vms.push(node.name);
        vm = {
          node: node.name,
          address: node.address,
          mac: macAddress(index, 0),
          vm: name,
          dir: paths.dir,
          disk: join(paths.dir, "vbox"),
          seed: paths.seed,
          seedSha256: seedSha,
          instanceId: seed.instanceId,
          qmp: "",
          agent: "",
          serialLog: paths.serialLog,
          pidFile: "",
        };
        state.vms.push(vm);
        await writeUpState(outDir, state);
        log(`${node.name}: importing ${options.image} as VM ${name}`);
        await vbox(vboxManage, importArgs(options.image, name, vm.disk));
        await vbox(
          vboxManage,
          modifyVmArgs(
            name,
            nics(plan, index, state.hostOnlyInterface!),
            paths.serialLog,
            options.cpus,
            options.memoryMiB,
          ),
        );
      } else if (isUp) {
        log(`${node.name}: its seed changed (instance-id ${seed.instanceId}): powering off to swap the ISO`);
        await powerOff(vboxManage, vm.vm!, 120_000);
      }
      await writeFileAtomic(paths.seed, seed.contents);
      const slot = freeStorageSlot(await vmInfo(vboxManage, vm.vm!), paths.seed);
      if (!slot)
        throw new ExternalError(
          `VM ${vm.vm} has no free storage slot for its seed`,
          "add an optical drive: VBoxManage storagectl <vm> --name IDE --add ide",
        );
      await vbox(vboxManage, storageAttachSeedArgs(vm.vm!, slot, paths.seed));
      vm.seedSha256 = seedSha;
      vm.instanceId = seed.instanceId;
      await rm(paths.serialLog, { force: true });
      await vbox(vboxManage, ["startvm", vm.vm!, "--type", "headless"]);
      vm.startedAt = Date.now();
      started.set(node.name, vm.startedAt);
      await writeUpState(outDir, state);
      log(
        `${node.name}: ${action}, seed on ${slot.controller} port ${slot.port} device ${slot.device}, started headless`,
      );
      reports.push({ node: node.name, address: node.address, action, state: "running" });
      if (action === "reseeded") {
        // one node at a time: the others keep the VIP while this one boots its new seed
        await waitFor(new Map([[node.name, vm.startedAt]]));
        started.delete(node.name);
        await writeUpState(outDir, state);
      }
      action = "unchanged";
    }
    if (started.size > 0) await waitFor(started);
    await writeUpState(outDir, state);
    return { state, nodes: reports };
  } catch (error) {
    for (const name of made.vms) {
      const vm = state.vms.find((v) => v.node === name)!;
      log(`${name}: removing the half-created VM ${vm.vm}`);
      await removeVm(vboxManage, vm, false);
      state.vms = state.vms.filter((v) => v !== vm);
    }
    if (made.hostOnly && state.vms.length === 0) {
      await vbox(vboxManage, ["hostonlyif", "remove", state.hostOnlyInterface!]).catch(() => "");
      await rm(upDir(outDir), { recursive: true, force: true });
    } else if (state.vms.length > 0 || previous) {
      await writeUpState(outDir, state);
    }
    throw error;
  }
}

async function removeVm(vboxManage: string, vm: VmState, keepDisk: boolean): Promise<void> {
  await powerOff(vboxManage, vm.vm!, keepDisk ? 60_000 : 0);
  // a VM that was never registered (import failed) has nothing to unregister
  await vbox(vboxManage, ["unregistervm", vm.vm!, ...(keepDisk ? [] : ["--delete"])]).catch(() => "");
  for (const file of [vm.seed, vm.serialLog]) await rm(file, { force: true });
  if (!keepDisk) await rm(vm.dir, { recursive: true, force: true });
}

export async function downVirtualBox(
  outDir: string,
  state: UpState,
  keepDisks: boolean,
  log: (line: string) => void,
): Promise<void> {
  const vboxManage = await vboxManagePath();
  for (const vm of state.vms) {
    log(`${vm.node}: powering off and ${keepDisks ? "unregistering" : "deleting"} VM ${vm.vm}`);
    await removeVm(vboxManage, vm, keepDisks);
  }
  if (state.hostOnlyInterface) {
    log(`removing host-only interface ${state.hostOnlyInterface}`);
    await vbox(vboxManage, ["hostonlyif", "remove", state.hostOnlyInterface]);
  }
  await rm(statePath(outDir), { force: true });
  if (!keepDisks) await rm(upDir(outDir), { recursive: true, force: true });
}

/** Whether a VirtualBox VM of the state file runs (for `status`). */
export async function vboxRunning(vm: VmState): Promise<boolean> {
  return isRunning(await vboxManagePath(), vm.vm);
}

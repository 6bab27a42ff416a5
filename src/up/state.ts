// The state file, DIR/up/state.json: exactly what `up` created, so that `down` removes that and
// nothing else, and a second `up` knows what already runs. It is rewritten after every step that
// creates something, so an interrupted `up` still leaves a true record.
import { readFile } from "node:fs/promises";
import { z } from "../zod.js";
import { ExitError, EXIT } from "../errors.js";
import { writeFileAtomic } from "../write/atomic.js";
import { statePath } from "./layout.js";

const vmState = z.object({
  node: z.string(),
  address: z.string(),
  mac: z.string(),
  /** The tap in the lab namespace (qemu). */
  tap: z.string().optional(),
  /** The VM's name (VirtualBox). */
  vm: z.string().optional(),
  dir: z.string(),
  disk: z.string(),
  seed: z.string(),
  seedSha256: z.string(),
  instanceId: z.string(),
  /** qemu's pid while it runs. */
  pid: z.number().int().optional(),
  qmp: z.string(),
  agent: z.string(),
  serialLog: z.string(),
  pidFile: z.string(),
  /** When qemu or VirtualBox last started it (ms since the epoch). */
  startedAt: z.number().optional(),
  /** Seconds from start to ready in the run that booted it; absent until `up` saw it ready. */
  readySeconds: z.number().optional(),
});

export const upStateSchema = z.object({
  version: z.literal(1),
  provider: z.enum(["qemu", "virtualbox"]),
  cluster: z.string(),
  vip: z.string(),
  lbPort: z.number().int(),
  image: z.string(),
  accel: z.enum(["kvm", "tcg"]).optional(),
  labMode: z.boolean(),
  cpus: z.number().int(),
  memoryMiB: z.number().int(),
  /**
   * The qemu lab's cluster network: "bridge" (root: a namespace with a bridge and taps, the host
   * on it) or "socket" (rootless: qemu's multicast socket network on loopback, `segment`; the host
   * sees the VIP through the lab agents). Absent in state files from before: a bridge.
   */
  network: z.enum(["bridge", "socket"]).optional(),
  /** The rootless lab's multicast group:port (layout.ts labSegment). */
  segment: z.string().optional(),
  /** The network namespace `up` created (qemu), with its bridge and the host's address there. */
  netns: z.string().optional(),
  bridge: z.string().optional(),
  hostAddress: z.string().optional(),
  /** The host-only interface `up` created (VirtualBox), with hostAddress on it. */
  hostOnlyInterface: z.string().optional(),
  prefixLength: z.number().int(),
  vms: z.array(vmState),
});

export type UpState = z.infer<typeof upStateSchema>;
export type VmState = z.infer<typeof vmState>;

export async function readUpState(outDir: string): Promise<UpState | undefined> {
  const path = statePath(outDir);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    return undefined;
  }
  try {
    return upStateSchema.parse(JSON.parse(text));
  } catch (error) {
    throw new ExitError(
      EXIT.invalid,
      `${path}: not a state file k8s-ha up wrote (${(error as Error).message.split("\n")[0]})`,
      "remove what it lists by hand, then the file",
    );
  }
}

export async function writeUpState(outDir: string, state: UpState): Promise<void> {
  await writeFileAtomic(statePath(outDir), `${JSON.stringify(state, null, 2)}\n`);
}

// The VirtualBox provider of `up` is not built yet (issue 14): the qemu provider came first, as the
// one CI can prove. Until then `--provider virtualbox` says so and changes nothing.
import { ExternalError } from "../errors.js";
import type { ClusterPlan } from "../plan/plan.js";
import type { Seed } from "../seed/seed-artifacts.js";
import type { UpState } from "./state.js";

const NOT_YET = "up --provider virtualbox is not implemented yet; nothing was changed";
const HINT = "use --provider qemu, or attach the seeds by hand as `k8s-ha seed` prints (README: Booting the VMs)";

export async function upVirtualBox(_plan: ClusterPlan, _seeds: readonly Seed[], _options: { outDir: string; image: string; log: (line: string) => void }): Promise<never> {
  throw new ExternalError(NOT_YET, HINT);
}

export async function downVirtualBox(_outDir: string, _state: UpState, _keepDisks: boolean, _log: (line: string) => void): Promise<never> {
  throw new ExternalError(NOT_YET, HINT);
}

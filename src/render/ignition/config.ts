// nodes/<node>/config.ign: everything a Fedora CoreOS or Flatcar node needs at first boot, from
// the same plan and the same config renderers as the cloud-init files: hostname, login users,
// the static network, the three config files, and keepalived and haproxy as container units or
// static pods. Deterministic, pretty-printed JSON; keys in the order types.ts declares them.
import type { ClusterPlan, NodePlan } from "../../plan/plan.js";
import { configFiles, VM_MODES, VM_PATHS } from "../paths.js";
import type { NodeFiles, StaticPods } from "../user-data.js";
import { renderNetworkFile } from "./network.js";
import { IGNITION_VERSION, type IgnitionConfig, type IgnitionFile, type IgnitionUser } from "./types.js";
import { containerUnits } from "./units.js";

/**
 * An RFC 2397 data URL with percent-encoded text, the form Ignition and Butane read. Everything
 * but unreserved characters is escaped (encodeURIComponent), so no byte of a file can end the
 * JSON string or the URL early.
 */
export function dataUrl(text: string): string {
  return `data:,${encodeURIComponent(text)}`;
}

function file(path: string, contents: string, mode: number): IgnitionFile {
  return {
    path,
    mode,
    user: { name: "root" },
    group: { name: "root" },
    overwrite: true,
    contents: { source: dataUrl(contents) },
  };
}

/**
 * Users as the spec names them: `core`, the login user both OSes ship, gets the keys given for
 * it; any other user is created, in the `sudo` group (passwordless sudo on both OSes) when asked.
 */
function users(plan: ClusterPlan): IgnitionUser[] {
  return plan.users.map((user) => ({
    name: user.name,
    ...(user.sshAuthorizedKeys.length > 0 ? { sshAuthorizedKeys: user.sshAuthorizedKeys } : {}),
    ...(user.name !== "core" && user.sudo ? { groups: ["sudo"] } : {}),
  }));
}

function buildIgnition(
  plan: ClusterPlan,
  node: NodePlan,
  files: NodeFiles,
  pods: StaticPods | undefined,
): IgnitionConfig {
  const network = renderNetworkFile(plan, node);
  const storage: IgnitionFile[] = [
    file(VM_PATHS.hostname, `${node.name}\n`, VM_MODES.hostname),
    file(network.path, network.contents, network.mode),
    ...configFiles(files, pods).map((f) => file(VM_PATHS[f.key], f.contents, f.mode)),
  ];
  const userList = users(plan);
  const units = containerUnits(plan);
  return {
    ignition: { version: IGNITION_VERSION },
    ...(userList.length > 0 ? { passwd: { users: userList } } : {}),
    storage: { files: storage },
    ...(units.length > 0 ? { systemd: { units } } : {}),
  };
}

export function renderIgnition(
  plan: ClusterPlan,
  node: NodePlan,
  files: NodeFiles,
  pods: StaticPods | undefined,
): string {
  return `${JSON.stringify(buildIgnition(plan, node, files, pods), null, 2)}\n`;
}

// What each target OS is: its name, how a node is provisioned, and who runs keepalived and haproxy
// there. The one place per-OS facts live; the schema's enum, the semantic checks and the planner
// all read it, so a new target is added here first.

/** Where the cluster runs. */
export const TARGET_OSES = ["ubuntu-20.04", "fcos", "flatcar"] as const;
export type TargetOs = (typeof TARGET_OSES)[number];

/** Who runs keepalived and haproxy: the OS (systemd) or the kubelet (static pods). */
export const SERVICE_MODES = ["systemd", "static-pods"] as const;
export type ServiceMode = (typeof SERVICE_MODES)[number];

/** Human names, for messages and comments. */
export const OS_NAMES: Record<TargetOs, string> = {
  "ubuntu-20.04": "Ubuntu 20.04",
  fcos: "Fedora CoreOS",
  flatcar: "Flatcar Container Linux",
};

/** Fedora CoreOS and Flatcar boot with Ignition; the others with cloud-init. */
export function isIgnitionOs(os: TargetOs): boolean {
  return os === "fcos" || os === "flatcar";
}

/** True when keepalived and haproxy run in containers (their images, not the OS packages). */
export function runsContainers(target: { os: TargetOs; services: ServiceMode }): boolean {
  return target.services === "static-pods" || isIgnitionOs(target.os);
}

// What each target OS is and ships: its name, how a node is provisioned, and the keepalived and
// haproxy releases that will read the rendered configs. The one place per-OS facts live; the
// schema's enum, the semantic checks, the planner and the renderers all read it, so a new target
// (or a target's new release of a tool) is added here first.

/** Where the cluster runs. ubuntu-20.04 stays the default for existing specs. */
export const TARGET_OSES = ["ubuntu-20.04", "ubuntu-22.04", "ubuntu-24.04", "debian-12", "fcos", "flatcar"] as const;
export type TargetOs = (typeof TARGET_OSES)[number];

/** Who runs keepalived and haproxy: the OS (systemd) or the kubelet (static pods). */
export const SERVICE_MODES = ["systemd", "static-pods"] as const;
export type ServiceMode = (typeof SERVICE_MODES)[number];

export interface OsFacts {
  /** Human name, for messages and comments. */
  name: string;
  /** cloud-init NoCloud files, or one Ignition config per node. */
  provisioning: "cloud-init" | "ignition";
  /**
   * The haproxy and keepalived that read our configs there: the distribution's packages on the
   * cloud-init targets; on fcos/flatcar the pinned container images (render/images.ts).
   */
  haproxy: string;
  keepalived: string;
}

export const OS_FACTS: Record<TargetOs, OsFacts> = {
  "ubuntu-20.04": { name: "Ubuntu 20.04", provisioning: "cloud-init", haproxy: "2.0", keepalived: "2.0.19" },
  "ubuntu-22.04": { name: "Ubuntu 22.04", provisioning: "cloud-init", haproxy: "2.4", keepalived: "2.2.4" },
  "ubuntu-24.04": { name: "Ubuntu 24.04", provisioning: "cloud-init", haproxy: "2.8", keepalived: "2.2.8" },
  "debian-12": { name: "Debian 12", provisioning: "cloud-init", haproxy: "2.6", keepalived: "2.2.7" },
  fcos: { name: "Fedora CoreOS", provisioning: "ignition", haproxy: "2.6", keepalived: "2.0.20" },
  flatcar: { name: "Flatcar Container Linux", provisioning: "ignition", haproxy: "2.6", keepalived: "2.0.20" },
};

/** Human names, for messages and comments. */
export const OS_NAMES: Record<TargetOs, string> = Object.fromEntries(
  TARGET_OSES.map((os) => [os, OS_FACTS[os].name]),
) as Record<TargetOs, string>;

/** Fedora CoreOS and Flatcar boot with Ignition; the others with cloud-init. */
export function isIgnitionOs(os: TargetOs): boolean {
  return OS_FACTS[os].provisioning === "ignition";
}

/** True when keepalived and haproxy run in containers (their images, not the OS packages). */
export function runsContainers(target: { os: TargetOs; services: ServiceMode }): boolean {
  return target.services === "static-pods" || isIgnitionOs(target.os);
}

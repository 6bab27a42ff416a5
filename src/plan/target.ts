// The target (spec.target) resolved into the facts renderers need: how a node is provisioned,
// who runs keepalived and haproxy, and which network configuration the OS reads. Every
// per-OS decision lives here, so that renderers only print what the plan says.
import type { TargetSpec } from "../spec/schema.js";
import { targetReleases, type ToolReleases } from "../spec/releases.js";
import { isIgnitionOs, type ServiceMode, type TargetOs } from "../spec/targets.js";

export interface TargetPlan {
  os: TargetOs;
  services: ServiceMode;
  /** cloud-init (NoCloud user-data, meta-data, network-config) or one Ignition config. */
  provisioning: "cloud-init" | "ignition";
  /**
   * Who runs keepalived and haproxy: the OS packages under systemd (Ubuntu), a systemd unit per
   * service that runs it as a container (podman on Fedora CoreOS, docker on Flatcar, the engine
   * each ships), or the kubelet from static pod manifests.
   */
  runner: "packages" | "podman" | "docker" | "kubelet";
  /** The static network configuration in the form the OS reads. */
  network: "netplan" | "networkmanager" | "networkd";
  /** The haproxy and keepalived releases that read the configs there: what the renderers may emit. */
  releases: ToolReleases;
}

export function planTarget(target: TargetSpec): TargetPlan {
  const { os, services } = target;
  const runner: TargetPlan["runner"] =
    services === "static-pods" ? "kubelet" : os === "fcos" ? "podman" : os === "flatcar" ? "docker" : "packages";
  const network: TargetPlan["network"] = os === "fcos" ? "networkmanager" : os === "flatcar" ? "networkd" : "netplan";
  return {
    os,
    services,
    provisioning: isIgnitionOs(os) ? "ignition" : "cloud-init",
    runner,
    network,
    releases: targetReleases(target),
  };
}

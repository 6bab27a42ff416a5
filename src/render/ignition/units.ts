// systemd units that run keepalived and haproxy as containers on Fedora CoreOS (podman) and
// Flatcar (docker, which Flatcar ships; podman is not in its base image). `run` in the
// foreground under systemd: the unit's state is the container's, its output is in the unit's
// journal, and Restart=on-failure brings a crashed container back. A stale container of the same
// name (after a power cut) is removed first; the '-' lets that fail when there is none.
import type { ClusterPlan } from "../../plan/plan.js";
import { GENERATED_BANNER } from "../artifact.js";
import { serviceContainers, type ContainerSpec } from "../containers.js";
import { unitWord } from "../quote.js";
import type { IgnitionUnit } from "./types.js";

const F = "a systemd unit";
/** Seconds between a container's exit and its restart; 5 s stays under systemd's start limit. */
const RESTART_SEC = 5;
const STOP_TIMEOUT_SEC = 10;

const ENGINES = {
  podman: {
    binary: "/usr/bin/podman",
    after: ["network-online.target"],
    requires: [] as string[],
    // relabel the mounted files for SELinux, which Fedora CoreOS enforces
    volumeOptions: "ro,z",
  },
  docker: {
    binary: "/usr/bin/docker",
    after: ["network-online.target", "docker.service"],
    requires: ["docker.service"],
    volumeOptions: "ro",
  },
} as const;

export type Engine = keyof typeof ENGINES;

export function unitName(container: ContainerSpec): string {
  return `${container.name}.service`;
}

export function renderContainerUnit(engine: Engine, container: ContainerSpec): string {
  const e = ENGINES[engine];
  const w = (value: string) => unitWord(F, value);
  const name = w(container.name);
  const runArgs = [
    [`--name ${name}`, "--rm"],
    ["--network host"],
    ["--cap-drop ALL", ...container.capabilities.map((cap) => `--cap-add ${w(cap)}`)],
    ["--security-opt no-new-privileges"],
    ...container.mounts.map((m) => [`--volume ${w(m.hostPath)}:${w(m.containerPath)}:${e.volumeOptions}`]),
    [`--entrypoint ${w(container.command)}`],
    [w(container.image)],
    container.args.map(w),
  ].map((group) => group.join(" "));
  return [
    `# ${GENERATED_BANNER}`,
    "[Unit]",
    `Description=${container.description}, in a ${engine} container`,
    "Wants=network-online.target",
    `After=${e.after.join(" ")}`,
    ...(e.requires.length > 0 ? [`Requires=${e.requires.join(" ")}`] : []),
    "",
    "[Service]",
    "Restart=on-failure",
    `RestartSec=${RESTART_SEC}`,
    `ExecStartPre=-${e.binary} rm --force ${name}`,
    `ExecStart=${e.binary} run ${runArgs.join(" \\\n    ")}`,
    `ExecStop=${e.binary} stop --time ${STOP_TIMEOUT_SEC} ${name}`,
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
  ].join("\n");
}

/** The units of a plan whose runner is podman or docker; none for the other runners. */
export function containerUnits(plan: ClusterPlan): IgnitionUnit[] {
  const { runner } = plan.target;
  if (runner !== "podman" && runner !== "docker") return [];
  return serviceContainers(plan).map((container) => ({
    name: unitName(container),
    enabled: true,
    contents: renderContainerUnit(runner, container),
  }));
}

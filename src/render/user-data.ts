// user-data (#cloud-config) for one node: packages, users, the three config files, the firewall
// and the services. Fixes over the recipe: the services are enabled from a list (no hand-typed
// `haporyx`), and restarted, because apt already started haproxy with its stock config; ufw is
// reset and given every rule (firewall.ts) before it is enabled, so nobody is locked out.
// `ssh_deletekeys: false`: a changed seed is a new instance-id, and cloud-init would otherwise
// replace the SSH host keys on every re-seed; the golden image ships without host keys
// (packer/scripts/90-generalize.sh), so each clone still generates its own at first boot.
import type { ClusterPlan, NodePlan } from "../plan/plan.js";
import { GENERATED_BANNER } from "./artifact.js";
import { ufwCommands } from "./firewall.js";
import { configFiles, VM_MODES, VM_PATHS } from "./paths.js";
import { toCloudYaml, yamlComments } from "./yaml.js";

const PACKAGES = ["keepalived", "haproxy", "curl", "ufw"] as const;
const SERVICES = ["keepalived.service", "haproxy.service"] as const;

/** With static pods, keepalived and haproxy come from images: only the firewall needs a package. */
const STATIC_POD_PACKAGES = ["ufw"] as const;

export interface NodeFiles {
  keepalivedConf: string;
  checkScript: string;
  haproxyCfg: string;
  /** The first node's kubeadm config (spec.kubernetes), delivered to VM_PATHS.kubeadmConfig. */
  kubeadmConfig?: string;
}

/** The static pod manifests (services: static-pods), rendered by static-pods.ts. */
export interface StaticPods {
  keepalived: string;
  haproxy: string;
}

/** '0640' as cloud-init wants it: a quoted octal string. */
function octal(mode: number): string {
  return `0${mode.toString(8)}`;
}

/** bootstrap: init-first: the first node runs kubeadm init once its front door is up (runcmd runs once per instance). */
function kubeadmCommands(plan: ClusterPlan, node: NodePlan, files: NodeFiles): string[][] {
  if (
    plan.kubernetes?.bootstrap !== "init-first" ||
    files.kubeadmConfig === undefined ||
    node.name !== plan.kubernetes.initNode
  )
    return [];
  return [["kubeadm", "init", "--config", VM_PATHS.kubeadmConfig, "--upload-certs"]];
}

function packages(plan: ClusterPlan, pods: StaticPods | undefined): string[] {
  if (!plan.installPackages) return [];
  if (!pods) return [...PACKAGES];
  return plan.firewall.enabled ? [...STATIC_POD_PACKAGES] : [];
}

function packagesComment(plan: ClusterPlan, pods: StaticPods | undefined): string {
  if (!pods) {
    return plan.installPackages
      ? "for a stock Ubuntu image: installs keepalived, haproxy, curl and ufw with apt (needs the network)"
      : "for the k8s-ha golden image: packages are already there, so first boot needs no network";
  }
  return packages(plan, pods).length > 0
    ? "keepalived and haproxy run as static pods (the kubelet pulls their images); installs ufw with apt"
    : "keepalived and haproxy run as static pods (the kubelet pulls their images); installs nothing";
}

/** `pods` present: services: static-pods; the manifests are written, and no service is enabled. */
export function renderUserData(plan: ClusterPlan, node: NodePlan, files: NodeFiles, pods?: StaticPods): string {
  const config: Record<string, unknown> = {
    hostname: node.name,
    manage_etc_hosts: true,
    ssh_deletekeys: false,
  };
  const toInstall = packages(plan, pods);
  if (toInstall.length > 0) {
    config.package_update = true;
    config.packages = toInstall;
  }
  if (plan.users.length > 0) {
    config.users = plan.users.map((user) => ({
      name: user.name,
      shell: "/bin/bash",
      lock_passwd: true,
      ...(user.sudo ? { sudo: "ALL=(ALL) NOPASSWD:ALL", groups: "sudo" } : {}),
      ...(user.sshAuthorizedKeys.length > 0 ? { ssh_authorized_keys: user.sshAuthorizedKeys } : {}),
    }));
  }
  const file = (path: string, content: string, mode: number) => ({
    path,
    owner: "root:root",
    permissions: octal(mode),
    // written in the final stage, after packages: the package install would otherwise own them
    defer: true,
    content,
  });
  config.write_files = configFiles(files, pods).map((f) => file(VM_PATHS[f.key], f.contents, f.mode));
  if (files.kubeadmConfig !== undefined) {
    (config.write_files as unknown[]).push(file(VM_PATHS.kubeadmConfig, files.kubeadmConfig, VM_MODES.kubeadmConfig));
  }
  const runcmd = [
    ...ufwCommands(plan, node),
    // static pods: the kubelet starts them; the packages' services must stay off
    ...(pods
      ? []
      : [
          // Without the SysV sync: both packages also ship /etc/init.d scripts, so a plain
          // `systemctl enable` runs update-rc.d (Perl) for each, and each of those reloads
          // systemd. systemd never reads rc.d links for a unit it has a unit file for; under
          // emulation the two runs took ~45 s of a boot, and a reload on a slow guest can outlast
          // systemctl's D-Bus timeout. systemctl's own reload (one) stays.
          ["env", "SYSTEMCTL_SKIP_SYSV=1", "systemctl", "enable", ...SERVICES],
          ["systemctl", "restart", ...SERVICES],
        ]),
    ...kubeadmCommands(plan, node, files),
  ];
  if (runcmd.length > 0) config.runcmd = runcmd;
  return (
    "#cloud-config\n" +
    yamlComments(
      GENERATED_BANNER,
      `cluster ${plan.name}, node ${node.name} (${node.state.toLowerCase()}, priority ${node.priority})`,
      packagesComment(plan, pods),
    ) +
    toCloudYaml(config)
  );
}

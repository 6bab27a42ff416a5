// Writes each node's rendered files into the lab folder. The text is the renderers' own; the only
// changes are the paths that must point into the lab, and those are computed as a line diff
// against the VM rendering and reported, so a user sees exactly what differs from their VMs.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { ClusterPlan, NodePlan } from "../plan/plan.js";
import { renderCheckScript } from "../render/check-script.js";
import { renderHaproxy } from "../render/haproxy.js";
import { renderKeepalived } from "../render/keepalived.js";
import { VM_MODES, VM_PATHS } from "../render/paths.js";
import { lineDiff } from "../render/relocate.js";

/** One difference between what runs in the lab and what runs on the VMs. */
export interface Rewrite {
  node: string;
  /** The file (or command line) that differs. */
  where: string;
  vm: string;
  lab: string;
}

export interface NodeFiles {
  dir: string;
  keepalivedConf: string;
  checkScript: string;
  haproxyCfg: string;
  /** "ok" or "fail": read by the stub apiserver on every request. */
  apiserverMode: string;
  apiserverReady: string;
  keepalivedPid: string;
  vrrpPid: string;
  haproxyPid: string;
  log: (program: string) => string;
}

export function nodeFiles(labDir: string, node: string): NodeFiles {
  const dir = join(labDir, node);
  return {
    dir,
    keepalivedConf: join(dir, "keepalived.conf"),
    checkScript: join(dir, "check_apiserver.sh"),
    haproxyCfg: join(dir, "haproxy.cfg"),
    apiserverMode: join(dir, "apiserver-mode"),
    apiserverReady: join(dir, "apiserver.ready"),
    keepalivedPid: join(dir, "keepalived.pid"),
    vrrpPid: join(dir, "keepalived_vrrp.pid"),
    haproxyPid: join(dir, "haproxy.pid"),
    log: (program) => join(dir, `${program}.log`),
  };
}

/** Writes keepalived.conf, check_apiserver.sh and haproxy.cfg for one node; returns the rewrites. */
export async function writeNodeFiles(plan: ClusterPlan, node: NodePlan, files: NodeFiles): Promise<Rewrite[]> {
  // keepalived's enable_script_security wants the script and every folder above it root-owned
  // and not writable by others: the lab folder is created 0700 by root, the script is 0755
  await mkdir(files.dir, { recursive: true, mode: 0o755 });
  const keepalived = renderKeepalived(plan, node, files.checkScript);
  await writeFile(files.keepalivedConf, keepalived, { mode: VM_MODES.keepalivedConf });
  await writeFile(files.checkScript, renderCheckScript(plan), { mode: VM_MODES.checkScript });
  await writeFile(files.haproxyCfg, renderHaproxy(plan), { mode: VM_MODES.haproxyCfg });
  await writeFile(files.apiserverMode, "ok\n");
  return [
    ...lineDiff(renderKeepalived(plan, node, VM_PATHS.checkScript), keepalived).map((change) => ({
      node: node.name,
      where: `keepalived.conf:${change.line}`,
      vm: change.vm.trim(),
      lab: change.local.trim(),
    })),
    // pid files are command-line options, not config text; the defaults are host-wide, and a lab
    // keepalived left with them overwrites the host's /run/keepalived.pid (seen on Debian 12)
    { node: node.name, where: "keepalived -p", vm: "/run/keepalived.pid", lab: files.keepalivedPid },
    { node: node.name, where: "keepalived -r", vm: "/run/vrrp.pid", lab: files.vrrpPid },
    { node: node.name, where: "haproxy -p", vm: "/run/haproxy.pid", lab: files.haproxyPid },
  ];
}

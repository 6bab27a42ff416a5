// keepalived.conf for one node. The fixes over the recipe: script_user + enable_script_security
// (else keepalived warns or drops the check), a weight that really moves the VIP (plan/failover.ts),
// VIP written with its prefix, and unicast peers for networks that drop VRRP multicast.
import type { ClusterPlan, NodePlan } from "../plan/plan.js";
import { vrrpVersion } from "../spec/schema.js";
import { GENERATED_BANNER } from "./artifact.js";
import { HAPROXY_ALIVE_ARG } from "./check-script.js";
import { VM_PATHS } from "./paths.js";
import { configWord, ipv4Word, keepalivedQuotedCommand, keepalivedQuotedPath } from "./quote.js";

const F = "keepalived.conf";
export const VRRP_INSTANCE = "k8s_apiserver";
export const VRRP_SCRIPT = "check_apiserver";
/** Seconds keepalived lets the check script run: two curls of at most 2 s each, plus margin. */
export const CHECK_SCRIPT_TIMEOUT = 5;

export const HAPROXY_SCRIPT = "check_haproxy";
/**
 * The haproxy liveness check's timers (seconds): fixed, since they only ask whether haproxy runs.
 * A run that keepalived times out counts as a failure, and without KVM a busy guest has taken over
 * 2 s to start even a small program (a 2 s timeout made a healthy node flap into FAULT in the bake
 * test's VM); the check itself is one grep of the kernel's socket tables (check-script.ts).
 */
export const HAPROXY_CHECK = { interval: 1, timeout: CHECK_SCRIPT_TIMEOUT, fall: 2, rise: 1 } as const;

export function renderKeepalived(plan: ClusterPlan, node: NodePlan, scriptPath: string = VM_PATHS.checkScript): string {
  const { vrrp, healthCheck } = plan;
  const lines: string[] = [
    `# ${GENERATED_BANNER}`,
    `# cluster ${configWord(F, plan.name)}, node ${configWord(F, node.name)}: VIP ${ipv4Word(F, plan.vip)} on ${configWord(F, plan.network.interface)}`,
    "",
    "global_defs {",
    `    router_id ${configWord(F, node.name)}`,
    ...(vrrpVersion(vrrp.advertInterval) === 3
      ? ["    # sub-second adverts (advert_int in hundredths of a second) need VRRP version 3", "    vrrp_version 3"]
      : []),
    "    # run the check as root, and refuse scripts that others could modify",
    "    script_user root",
    "    enable_script_security",
    "}",
    "",
    `vrrp_script ${VRRP_SCRIPT} {`,
    `    script ${keepalivedQuotedPath(scriptPath)}`,
    `    interval ${healthCheck.interval}`,
    `    timeout ${CHECK_SCRIPT_TIMEOUT}`,
    `    fall ${healthCheck.fall}`,
    `    rise ${healthCheck.rise}`,
    healthCheck.weight === 0
      ? "    # weight 0: a failing check puts this node into FAULT and releases the VIP"
      : `    # while failing, priority ${node.priority} drops by ${-healthCheck.weight}, below every healthy node`,
    `    weight ${healthCheck.weight}`,
    "}",
    "",
    // Without this, a dead haproxy costs fall × interval for the weight to drop and then the
    // backup's master-down timer (3 × advert + skew) on top, since a VRRP backup ignores adverts of
    // a lower priority: 7.5-9 s with the defaults. FAULT instead sends priority 0 at once, and the
    // backup takes over after its skew time. Weight 0 is safe here, unlike for the apiserver check:
    // a node whose haproxy is dead cannot serve the VIP, whatever the other nodes' state.
    `vrrp_script ${HAPROXY_SCRIPT} {`,
    `    script ${keepalivedQuotedCommand(scriptPath, HAPROXY_ALIVE_ARG)}`,
    `    interval ${HAPROXY_CHECK.interval}`,
    `    timeout ${HAPROXY_CHECK.timeout}`,
    `    fall ${HAPROXY_CHECK.fall}`,
    `    rise ${HAPROXY_CHECK.rise}`,
    "    # weight 0: haproxy dead here puts this node into FAULT and releases the VIP at once",
    "    weight 0",
    "}",
    "",
    `vrrp_instance ${VRRP_INSTANCE} {`,
    `    state ${node.state}`,
    ...(vrrp.preempt ? [] : ["    nopreempt"]),
    `    interface ${configWord(F, plan.network.interface)}`,
    `    virtual_router_id ${vrrp.virtualRouterId}`,
    `    priority ${node.priority}`,
    `    advert_int ${vrrp.advertInterval}`,
  ];
  if (vrrp.authPass !== undefined) {
    lines.push(
      "    # PASS authentication travels in plain text: it only avoids clashes with other VRRP routers",
      "    authentication {",
      "        auth_type PASS",
      `        auth_pass ${configWord(F, vrrp.authPass)}`,
      "    }",
    );
  }
  if (vrrp.unicast) {
    lines.push(
      `    unicast_src_ip ${ipv4Word(F, node.address)}`,
      "    unicast_peer {",
      ...node.peers.map((peer) => `        ${ipv4Word(F, peer.address)}`),
      "    }",
    );
  }
  lines.push(
    "    virtual_ipaddress {",
    `        ${ipv4Word(F, plan.vip)}/${plan.network.prefixLength}`,
    "    }",
    "    track_script {",
    `        ${VRRP_SCRIPT}`,
    `        ${HAPROXY_SCRIPT}`,
    "    }",
    "}",
    "",
  );
  return lines.join("\n");
}

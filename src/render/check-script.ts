// check_apiserver.sh: keepalived's health check. Fixes over the recipe: `curl -f` (an HTTP 500
// is a failure, not health) on /healthz rather than `/`, quoted variables, and a fixed PATH
// because keepalived runs scripts with a minimal environment.
// Called with the argument `haproxy` (keepalived's second check, every second) it only asks whether
// haproxy runs here at all: whether a socket listens on the LB port. It asks the kernel's socket
// tables with one grep, not curl: in a VM without hardware virtualisation (TCG, a nested lab)
// starting curl and its TLS libraries every second kept a vCPU busy by itself, the checks ran
// past keepalived's timeout and a healthy node flapped into FAULT (seen in `up --rehearse`).
import type { ClusterPlan } from "../plan/plan.js";
import { GENERATED_BANNER } from "./artifact.js";
import { shellQuote } from "./quote.js";

/** The argument that makes check_apiserver.sh check only that haproxy listens (keepalived.ts). */
export const HAPROXY_ALIVE_ARG = "haproxy";

/** A port as /proc/net/tcp writes it: four upper-case hex digits. */
export const procNetPort = (port: number): string => port.toString(16).toUpperCase().padStart(4, "0");

export function renderCheckScript(plan: ClusterPlan): string {
  return [
    "#!/bin/sh",
    `# ${GENERATED_BANNER}`,
    "# keepalived runs this; a non-zero exit counts as one failed health check.",
    "# It passes while haproxy on this node answers /healthz from a healthy kube-apiserver.",
    `# With the argument ${HAPROXY_ALIVE_ARG}: it passes while something (haproxy) listens on the LB port.`,
    "set -u",
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    `LB_PORT=${shellQuote(String(plan.lbPort))}`,
    `LB_PORT_HEX=${shellQuote(procNetPort(plan.lbPort))}`,
    `VIP=${shellQuote(plan.vip)}`,
    `IFACE=${shellQuote(plan.network.interface)}`,
    "",
    "fail() {",
    '    echo "*** $*" >&2',
    "    exit 1",
    "}",
    "",
    `if [ "\${1:-}" = ${shellQuote(HAPROXY_ALIVE_ARG)} ]; then`,
    "    # A listening socket on the LB port, IPv4 or IPv6 (state 0A is LISTEN), read from the kernel:",
    "    # no connection, no TLS. haproxy balancing TCP listens even with every apiserver down, so a",
    "    # cluster being set up is not put into FAULT; the full check below judges the apiservers.",
    '    grep -Eq "^ *[0-9]+: [0-9A-F]+:${LB_PORT_HEX} [0-9A-F]+:0000 0A " /proc/net/tcp /proc/net/tcp6 2>/dev/null ||',
    '        fail "nothing listens on port ${LB_PORT}: haproxy does not run"',
    "    exit 0",
    "fi",
    "",
    'curl -sfk --max-time 2 -o /dev/null "https://localhost:${LB_PORT}/healthz" ||',
    '    fail "GET https://localhost:${LB_PORT}/healthz failed"',
    "# While this node holds the VIP, the VIP itself must answer too.",
    'if ip -o -4 addr show dev "${IFACE}" | grep -qF " ${VIP}/"; then',
    '    curl -sfk --max-time 2 -o /dev/null "https://${VIP}:${LB_PORT}/healthz" ||',
    '        fail "GET https://${VIP}:${LB_PORT}/healthz failed"',
    "fi",
    "",
  ].join("\n");
}

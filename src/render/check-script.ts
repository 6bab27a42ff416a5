// check_apiserver.sh: keepalived's health check. Fixes over the recipe: `curl -f` (an HTTP 500
// is a failure, not health) on /healthz rather than `/`, quoted variables, and a fixed PATH
// because keepalived runs scripts with a minimal environment.
// Called with the argument `haproxy` (keepalived's second, faster check) it only asks whether
// haproxy runs here at all: whether anything accepts connections on the LB port.
import type { ClusterPlan } from "../plan/plan.js";
import { GENERATED_BANNER } from "./artifact.js";
import { shellQuote } from "./quote.js";

/** The argument that makes check_apiserver.sh check only that haproxy answers (keepalived.ts). */
export const HAPROXY_ALIVE_ARG = "haproxy";

export function renderCheckScript(plan: ClusterPlan): string {
  return [
    "#!/bin/sh",
    `# ${GENERATED_BANNER}`,
    "# keepalived runs this; a non-zero exit counts as one failed health check.",
    "# It passes while haproxy on this node answers /healthz from a healthy kube-apiserver.",
    `# With the argument ${HAPROXY_ALIVE_ARG}: it passes while haproxy accepts connections at all.`,
    "set -u",
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    `LB_PORT=${shellQuote(String(plan.lbPort))}`,
    `VIP=${shellQuote(plan.vip)}`,
    `IFACE=${shellQuote(plan.network.interface)}`,
    "",
    "fail() {",
    '    echo "*** $*" >&2',
    "    exit 1",
    "}",
    "",
    `if [ "\${1:-}" = ${shellQuote(HAPROXY_ALIVE_ARG)} ]; then`,
    "    # haproxy balances TCP: with every apiserver down it still accepts the connection (and closes",
    "    # it), so only a refused connection (curl exit code 7) means that haproxy does not run here.",
    "    rc=0",
    '    curl -sk --max-time 1 -o /dev/null "https://localhost:${LB_PORT}/healthz" || rc=$?',
    '    [ "${rc}" -ne 7 ] || fail "nothing listens on port ${LB_PORT}: haproxy does not run"',
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

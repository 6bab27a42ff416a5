// haproxy.cfg: a TCP load balancer for the kube-apiservers. Fixes over the recipe: TCP defaults
// (httplog/forwardfor in TCP sections only make warnings), and a health check that really asks
// /healthz over TLS — the recipe's `option ssl-hello-chk` silently replaced its httpchk. `check-ssl
// verify none` on the servers is the form haproxy 2.0 (Ubuntu 20.04) accepts; `http-check connect
// ssl` needs 2.2.
//
// Least privilege: where haproxy is the OS package under systemd, it starts as root (to bind and
// read its config) and drops to user/group haproxy inside a chroot of /var/lib/haproxy, as
// Debian's and Ubuntu's stock haproxy.cfg do (the package creates both). The container images
// already run haproxy as the unprivileged user haproxy (images.ts): there a chroot has no folder.
import type { ClusterPlan } from "../plan/plan.js";
import { haproxyKeywordsBeyond } from "../spec/releases.js";
import { GENERATED_BANNER } from "./artifact.js";
import { configWord, ipv4Word } from "./quote.js";

const F = "haproxy.cfg";

export function renderHaproxy(plan: ClusterPlan): string {
  const config = haproxyConfig(plan);
  // Only what the target's haproxy reads (spec/releases.ts): a keyword newer than its release is a
  // bug here, caught before any file is written rather than by haproxy on the node.
  const release = plan.target.releases.haproxy;
  const beyond = haproxyKeywordsBeyond(config, release);
  if (beyond.length > 0) {
    const list = beyond.map((k) => `'${k.keyword}' (haproxy ${k.since}+, line ${k.line})`).join(", ");
    throw new Error(
      `internal error: haproxy.cfg for ${plan.target.os} uses ${list}, but that target runs haproxy ${release}`,
    );
  }
  return config;
}

function haproxyConfig(plan: ClusterPlan): string {
  const hc = plan.healthCheck;
  return [
    `# ${GENERATED_BANNER}`,
    `# cluster ${configWord(F, plan.name)}: clients reach the kube-apiservers through VIP ${ipv4Word(F, plan.vip)}:${plan.lbPort}`,
    "",
    "global",
    "    log /dev/log local0",
    "    log /dev/log local1 notice",
    ...(plan.target.runner === "packages"
      ? ["    chroot /var/lib/haproxy", "    user haproxy", "    group haproxy"]
      : []),
    "    daemon",
    "",
    "defaults",
    "    mode tcp",
    "    log global",
    "    option tcplog",
    "    option dontlognull",
    "    retries 1",
    "    # retry a refused connection on another apiserver, not the dead one, until checks mark it down",
    "    option redispatch",
    "    timeout connect 5s",
    "    # watches and exec/logs streams stay open for long: do not cut them after 20 s",
    "    timeout client 1h",
    "    timeout server 1h",
    "    timeout check 2s",
    "",
    "frontend apiserver",
    `    bind *:${plan.lbPort}`,
    "    default_backend apiserverbackend",
    "",
    // a backend named like its frontend: haproxy 3.2 warns, 3.3+ refuses the config (the recipe's
    // naming); the kubeadm HA guide names it apiserverbackend
    "backend apiserverbackend",
    "    option httpchk GET /healthz",
    "    http-check expect status 200",
    `    balance ${configWord(F, plan.balance)}`,
    `    default-server inter ${hc.interval}s fall ${hc.fall} rise ${hc.rise}`,
    ...plan.nodes.map(
      (node) =>
        `    server ${configWord(F, node.name)} ${ipv4Word(F, node.address)}:${plan.apiserverPort} check check-ssl verify none`,
    ),
    "",
  ].join("\n");
}

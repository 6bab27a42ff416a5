// Lab-only additions to a node's user-data, for `up --stand-in-apiserver` and never for production
// seeds: a stand-in kube-apiserver (HTTPS, 200 on /healthz, so keepalived's check and haproxy's
// backends pass before kubeadm exists) and the rehearsal agent, which lets `up --rehearse` stop and
// start keepalived and haproxy without SSH, over a virtio-serial port that only qemu provides.
// Pure: rendered user-data in, user-data out; meta-data is re-rendered, as its instance-id hashes
// the user-data.
import { parse } from "yaml";
import type { ClusterPlan, NodePlan } from "../plan/plan.js";
import type { Artifact } from "../render/artifact.js";
import { renderMetaData } from "../render/meta-data.js";
import { NODE_FILES, nodeDir } from "../render/paths.js";
import { shellQuote } from "../render/quote.js";
import { toCloudYaml, yamlComments } from "../render/yaml.js";

/** The virtio-serial port name the agent reads: /dev/virtio-ports/<name> in the guest. */
export const AGENT_PORT = "k8s-ha.agent";

// The stand-in kube-apiserver is a second haproxy (every golden image has haproxy; written in C,
// it answers in milliseconds where a Python server took 1–4 s in a TCG guest — longer than
// haproxy's and keepalived's 2 s check timeouts, so no backend ever stayed up). `monitor-uri`
// answers 200 to GET /healthz without any backend, on every haproxy release the targets ship (2.0
// on). Its own config, pid-less in the foreground, next to the node's real haproxy.service.
const LAB_DIR = "/etc/k8s-ha-lab";
const APISERVER_PEM = `${LAB_DIR}/apiserver.pem`;
export const LAB_APISERVER_CONFIG = `${LAB_DIR}/apiserver.cfg`;

export const labApiserverConfig = (
  port: number,
) => `# k8s-ha lab only (up --stand-in-apiserver): a stand-in kube-apiserver before kubeadm runs.
# HTTPS with a self-signed certificate; 200 on GET /healthz, so haproxy's and keepalived's checks pass.
global
    maxconn 256
    # haproxy 2.0 (Ubuntu 20.04) warns without it
    tune.ssl.default-dh-param 2048

defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s

frontend stand-in-apiserver
    bind :${port} ssl crt ${APISERVER_PEM}
    monitor-uri /healthz
`;

const apiserverUnit = `[Unit]
Description=k8s-ha lab: stand-in kube-apiserver (up --stand-in-apiserver)
After=network.target

[Service]
ExecStartPre=/bin/sh -c 'test -s ${APISERVER_PEM} || { openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 -subj /CN=kube-apiserver -keyout ${LAB_DIR}/apiserver.key -out ${LAB_DIR}/apiserver.crt && cat ${LAB_DIR}/apiserver.crt ${LAB_DIR}/apiserver.key >${APISERVER_PEM}; }'
ExecStart=/usr/sbin/haproxy -db -f ${LAB_APISERVER_CONFIG}
Restart=always
RestartSec=1
# the key and the PEM made on first start: the owner's only
UMask=0077
# on the serial console too: the only window into a lab VM without SSH
StandardOutput=journal+console
StandardError=journal+console

[Install]
WantedBy=multi-user.target
`;

// Fixed commands only: nothing read from the port reaches a shell as code. Each request is
// "<id> <command>", each answer "<id> <reply>", so a late answer is never taken for the next one.
// The port reads EOF while the host side is not connected: reopen it after a pause.
// "vip" is the host's eyes in a rootless lab, where the host has no leg on the cluster segment:
// whether this node holds the VIP, and whether the VIP answers on the LB port from here.
const agentScript = (plan: ClusterPlan) => `#!/bin/sh
# k8s-ha lab only (up --stand-in-apiserver): the rehearsal agent of \`k8s-ha up --rehearse\`.
port=/dev/virtio-ports/${AGENT_PORT}
vip=${shellQuote(plan.vip)}
lb_port=${shellQuote(String(plan.lbPort))}
while :; do
    if [ ! -e "$port" ]; then sleep 1; continue; fi
    exec 3<>"$port"
    while read -r id verb unit <&3; do
        case "$verb $unit" in
            "ping ") reply=pong ;;
            "stop keepalived" | "start keepalived" | "stop haproxy" | "start haproxy")
                if systemctl "$verb" "$unit.service"; then reply=ok; else reply=failed; fi ;;
            "vip ")
                if ip -4 -o addr show | grep -qF "inet $vip/"; then held=yes; else held=no; fi
                if curl -sfk --max-time 2 -o /dev/null "https://$vip:$lb_port/healthz"; then answers=yes; else answers=no; fi
                reply="held=$held answers=$answers" ;;
            "status ")
                reply="keepalived=$(systemctl is-active keepalived.service) haproxy=$(systemctl is-active haproxy.service)" ;;
            # the report is many lines: one line of base64 keeps the protocol one answer per line
            "report ") reply=$(/usr/local/sbin/k8s-ha-lab-report 2>&1 | base64 -w0) ;;
            *) reply=unknown ;;
        esac
        printf '%s %s\\n' "$id" "$reply" >&3
    done
    exec 3>&-
    sleep 1
done
`;

// What `k8s-ha status --report` shows of a lab node: cloud-init's result, the files the seed wrote,
// the services, the network as cloud-init set it up, the firewall and keepalived's state changes.
// Fixed commands on fixed paths only, nothing from the host. No Python (`cloud-init status`):
// it takes seconds in a TCG guest; cloud-init's own result files say the same.
const REPORT = `#!/bin/sh
# k8s-ha lab only (up --stand-in-apiserver): the node report of \`k8s-ha status --report\`.
set -- /etc/keepalived/keepalived.conf /etc/keepalived/check_apiserver.sh /etc/haproxy/haproxy.cfg
section() { printf '\\n--- %s\\n' "$1"; }
section boot-finished; if [ -e /var/lib/cloud/instance/boot-finished ]; then echo yes; else echo no; fi
section result.json; cat /run/cloud-init/result.json 2>&1
section instance-id; cat /var/lib/cloud/data/instance-id 2>&1
section hostname; hostname
section users; awk -F: '$3 >= 1000 && $3 < 65534 { print $1 }' /etc/passwd
section files; stat -c '%a %U:%G %n' "$@" 2>&1
section sha256; sha256sum "$@" 2>&1
section is-active; systemctl is-active keepalived.service haproxy.service 2>&1
section is-enabled; systemctl is-enabled keepalived.service haproxy.service 2>&1
# "master|worker user root-directory" per haproxy process (/proc: a minimal image has no ps)
section haproxy-processes
for proc in /proc/[0-9]*; do
    [ "$(cat "$proc/comm" 2>/dev/null)" = haproxy ] || continue
    # the lab's stand-in apiserver is a haproxy too: only the node's own (haproxy.cfg) counts
    tr '\\0' ' ' <"$proc/cmdline" | grep -q /etc/haproxy/haproxy.cfg || continue
    parent=$(awk '/^PPid:/ { print $2 }' "$proc/status")
    role=master
    [ "$(cat "/proc/$parent/comm" 2>/dev/null)" = haproxy ] && role=worker
    echo "$role $(stat -c %U "$proc") $(readlink "$proc/root")"
done
section addresses; ip -4 -o addr show 2>&1
section routes; ip -4 route show 2>&1
section network-renderer
# -a: a node that lost power mid-write (rehearse's node loss) can have NUL bytes in the log
grep -ao "Selected renderer '[a-z]*'" /var/log/cloud-init.log 2>&1 | tail -n 1
ls /etc/netplan /run/systemd/network 2>&1
section networkctl; networkctl --no-pager status 2>&1 | head -n 20
section ufw; grep '^ENABLED=' /etc/ufw/ufw.conf 2>&1; iptables -S ufw-user-input 2>&1
section ufw-routed; grep '^DEFAULT_FORWARD_POLICY=' /etc/default/ufw 2>&1; iptables -S FORWARD 2>&1 | head -n 1
section ssh-host-keys; for key in /etc/ssh/ssh_host_*_key.pub; do ssh-keygen -lf "$key" 2>&1; done
section cloud-init-warnings; grep -aE 'WARNING|ERROR|Traceback' /var/log/cloud-init.log 2>&1 | tail -n 40
# keepalived's state changes of this boot, with nothing in between to push them out
section vrrp; journalctl -b --no-pager -o short-monotonic -u keepalived.service 2>&1 | grep -E 'Entering|STATE|Stopped|Started' | tail -n 40
`;

const AGENT_UNIT = `[Unit]
Description=k8s-ha lab: rehearsal agent on virtio-serial port ${AGENT_PORT} (up --stand-in-apiserver)

[Service]
ExecStart=/usr/local/sbin/k8s-ha-lab-agent
Restart=always
RestartSec=1
StandardOutput=journal+console
StandardError=journal+console

[Install]
WantedBy=multi-user.target
`;

const LAB_UNITS = ["k8s-ha-lab-apiserver.service", "k8s-ha-lab-agent.service"];

// Queues the lab units' start, trying again while systemd is too busy to answer, and says on the
// console (serial.log, the only window into a lab VM) whether it could; systemd then prints a
// "Started" line there for each unit.
const labStart = `for _ in 1 2 3 4 5 6; do
    if systemctl --no-block start ${LAB_UNITS.join(" ")}; then echo "k8s-ha lab units: start queued" >/dev/console; exit 0; fi
    sleep 10
done
echo "k8s-ha lab units: systemd did not take their start (6 tries)" >/dev/console
exit 1
`;

function labFiles(plan: ClusterPlan): { path: string; content: string; permissions: string }[] {
  return [
    { path: LAB_APISERVER_CONFIG, content: labApiserverConfig(plan.apiserverPort), permissions: "0644" },
    { path: "/etc/systemd/system/k8s-ha-lab-apiserver.service", content: apiserverUnit, permissions: "0644" },
    { path: "/usr/local/sbin/k8s-ha-lab-agent", content: agentScript(plan), permissions: "0755" },
    { path: "/usr/local/sbin/k8s-ha-lab-report", content: REPORT, permissions: "0755" },
    { path: "/etc/systemd/system/k8s-ha-lab-agent.service", content: AGENT_UNIT, permissions: "0644" },
  ];
}

/** The node's user-data with the lab pieces added: files, the units enabled and started. */
export function labUserData(plan: ClusterPlan, node: NodePlan, userData: string): string {
  const config = parse(userData, { version: "1.1" }) as Record<string, unknown>;
  const files = labFiles(plan).map((f) => ({ ...f, owner: "root:root", defer: true }));
  config.write_files = [...((config.write_files as unknown[] | undefined) ?? []), ...files];
  config.runcmd = [
    ...((config.runcmd as unknown[] | undefined) ?? []),
    // No systemd reload: in a TCG guest on a busy host one outlasts systemctl's 25 s D-Bus timeout
    // ("Reload daemon failed: Connection timed out"), and the start after it failed the same way —
    // the lab units never ran. None is needed: the seed's `systemctl enable keepalived haproxy`
    // above reloaded with these files on disk (deferred files come first), and systemd loads a unit
    // it does not know yet on demand. --no-block: queue the start, do not wait on a busy manager.
    ["systemctl", "--no-reload", "enable", ...LAB_UNITS],
    ["sh", "-c", labStart],
  ];
  return (
    "#cloud-config\n" +
    yamlComments(
      `LAB SEED of node ${node.name} (k8s-ha up --stand-in-apiserver): adds a stand-in kube-apiserver and`,
      "the rehearsal agent to the seed below. Never use it in production: run `k8s-ha seed` for that.",
    ) +
    toCloudYaml(config)
  );
}

/** The rendered node artifacts with each node's user-data made a lab seed and its meta-data re-rendered. */
export function labArtifacts(plan: ClusterPlan, rendered: readonly Artifact[]): Artifact[] {
  const byPath = new Map(rendered.map((a) => [a.path, a]));
  const text = (path: string) => String(byPath.get(path)?.contents ?? "");
  for (const node of plan.nodes) {
    const dir = nodeDir(node.name);
    const userData = labUserData(plan, node, text(`${dir}/${NODE_FILES.userData}`));
    const metaData = renderMetaData(plan, node, userData, text(`${dir}/${NODE_FILES.networkConfig}`));
    byPath.set(`${dir}/${NODE_FILES.userData}`, {
      ...byPath.get(`${dir}/${NODE_FILES.userData}`)!,
      contents: userData,
    });
    byPath.set(`${dir}/${NODE_FILES.metaData}`, {
      ...byPath.get(`${dir}/${NODE_FILES.metaData}`)!,
      contents: metaData,
    });
  }
  return [...byPath.values()];
}

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
import { toCloudYaml, yamlComments } from "../render/yaml.js";

/** The virtio-serial port name the agent reads: /dev/virtio-ports/<name> in the guest. */
export const AGENT_PORT = "k8s-ha.agent";

const APISERVER = `#!/usr/bin/python3
# k8s-ha lab only (up --stand-in-apiserver): a stand-in kube-apiserver before kubeadm runs.
# HTTPS with a self-signed certificate; 200 "ok" on every GET, so /healthz passes.
import http.server
import ssl
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"ok"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        pass


context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain("/etc/k8s-ha-lab/apiserver.crt", "/etc/k8s-ha-lab/apiserver.key")
server = http.server.ThreadingHTTPServer(("0.0.0.0", int(sys.argv[1])), Handler)
server.socket = context.wrap_socket(server.socket, server_side=True)
server.serve_forever()
`;

const apiserverUnit = (port: number) => `[Unit]
Description=k8s-ha lab: stand-in kube-apiserver (up --stand-in-apiserver)
After=network.target

[Service]
ExecStartPre=/bin/sh -c 'test -s /etc/k8s-ha-lab/apiserver.crt || openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 -subj /CN=kube-apiserver -keyout /etc/k8s-ha-lab/apiserver.key -out /etc/k8s-ha-lab/apiserver.crt'
ExecStart=/usr/local/sbin/k8s-ha-lab-apiserver ${port}
Restart=always
# on the serial console too: the only window into a lab VM without SSH
StandardOutput=journal+console
StandardError=journal+console

[Install]
WantedBy=multi-user.target
`;

// Fixed commands only: nothing read from the port reaches a shell as code. Each request is
// "<id> <command>", each answer "<id> <reply>", so a late answer is never taken for the next one.
// The port reads EOF while the host side is not connected: reopen it after a pause.
const AGENT = `#!/bin/sh
# k8s-ha lab only (up --stand-in-apiserver): the rehearsal agent of \`k8s-ha up --rehearse\`.
port=/dev/virtio-ports/${AGENT_PORT}
while :; do
    if [ ! -e "$port" ]; then sleep 1; continue; fi
    exec 3<>"$port"
    while read -r id verb unit <&3; do
        case "$verb $unit" in
            "ping ") reply=pong ;;
            "stop keepalived" | "start keepalived" | "stop haproxy" | "start haproxy")
                if systemctl "$verb" "$unit.service"; then reply=ok; else reply=failed; fi ;;
            "status ")
                reply="keepalived=$(systemctl is-active keepalived.service) haproxy=$(systemctl is-active haproxy.service)" ;;
            *) reply=unknown ;;
        esac
        printf '%s %s\\n' "$id" "$reply" >&3
    done
    exec 3>&-
    sleep 1
done
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

function labFiles(plan: ClusterPlan): { path: string; content: string; permissions: string }[] {
  return [
    { path: "/usr/local/sbin/k8s-ha-lab-apiserver", content: APISERVER, permissions: "0755" },
    { path: "/etc/systemd/system/k8s-ha-lab-apiserver.service", content: apiserverUnit(plan.apiserverPort), permissions: "0644" },
    { path: "/usr/local/sbin/k8s-ha-lab-agent", content: AGENT, permissions: "0755" },
    { path: "/etc/systemd/system/k8s-ha-lab-agent.service", content: AGENT_UNIT, permissions: "0644" },
  ];
}

/** The node's user-data with the lab pieces added: files, a folder for the certificate, the units started. */
export function labUserData(plan: ClusterPlan, node: NodePlan, userData: string): string {
  const config = parse(userData, { version: "1.1" }) as Record<string, unknown>;
  const files = labFiles(plan).map((f) => ({ ...f, owner: "root:root", defer: true }));
  config.write_files = [...((config.write_files as unknown[] | undefined) ?? []), ...files];
  config.runcmd = [
    ...((config.runcmd as unknown[] | undefined) ?? []),
    ["mkdir", "-p", "-m", "0700", "/etc/k8s-ha-lab"],
    ["systemctl", "daemon-reload"],
    ["systemctl", "enable", "--now", ...LAB_UNITS],
    // a line on the console (serial.log) saying whether the lab units run
    ["sh", "-c", `echo "k8s-ha lab units: $(systemctl is-active ${LAB_UNITS.join(" ")} | tr '\\n' ' ')" >/dev/console`],
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
    byPath.set(`${dir}/${NODE_FILES.userData}`, { ...byPath.get(`${dir}/${NODE_FILES.userData}`)!, contents: userData });
    byPath.set(`${dir}/${NODE_FILES.metaData}`, { ...byPath.get(`${dir}/${NODE_FILES.metaData}`)!, contents: metaData });
  }
  return [...byPath.values()];
}

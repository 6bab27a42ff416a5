// Where the rendered files land on the VM (DESIGN.md) and in the output directory.

export const VM_PATHS = {
  keepalivedConf: "/etc/keepalived/keepalived.conf",
  checkScript: "/etc/keepalived/check_apiserver.sh",
  haproxyCfg: "/etc/haproxy/haproxy.cfg",
} as const;

export const VM_MODES = {
  keepalivedConf: 0o640,
  checkScript: 0o755,
  haproxyCfg: 0o644,
} as const;

export function nodeDir(node: string): string {
  return `nodes/${node}`;
}

export const NODE_FILES = {
  userData: "user-data",
  metaData: "meta-data",
  networkConfig: "network-config",
  seedIso: "seed.iso",
  keepalivedConf: "files/keepalived.conf",
  checkScript: "files/check_apiserver.sh",
  haproxyCfg: "files/haproxy.cfg",
} as const;

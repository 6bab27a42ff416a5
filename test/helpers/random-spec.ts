// Random valid specs from a seeded generator: the same seed gives the same specs on every run,
// so a failure names a spec that can be reproduced. Every field the schema allows is exercised.
import { resolvePriorities } from "../../src/spec/failover.js";
import { numberToIPv4 } from "../../src/spec/ipv4.js";

/** mulberry32: tiny, fast, good enough for test data. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomSpec(seed: number): Record<string, any> {
  const r = prng(seed);
  const int = (min: number, max: number) => min + Math.floor(r() * (max - min + 1));
  const pick = <T>(items: readonly T[]): T => items[int(0, items.length - 1)]!;
  const chance = (p: number) => r() < p;
  const label = (length: number) => {
    const chars = "abcdefghijklmnopqrstuvwxyz0123456789";
    let s = pick("abcdefghijklmnopqrstuvwxyz".split(""));
    for (let i = 1; i < length; i++) s += i < length - 1 && chance(0.15) ? "-" : pick(chars.split(""));
    return s;
  };

  const prefixLength = int(16, 29);
  const hosts = 2 ** (32 - prefixLength) - 2;
  const nodeCount = int(1, Math.min(6, hosts - 2));
  // somewhere in 10/8, 172.16/12 or 192.168/16, aligned to the subnet
  const anchor = pick([0x0a000000 + int(0, 0xffffff), 0xac100000 + int(0, 0xfffff), 0xc0a80000 + int(0, 0xffff)]);
  const size = 2 ** (32 - prefixLength);
  const base = Math.floor(anchor / size) * size;
  const offsets = new Set<number>();
  while (offsets.size < nodeCount + 2) offsets.add(int(1, hosts));
  const [vipOffset, gatewayOffset, ...nodeOffsets] = [...offsets];
  const names = new Set<string>();
  while (names.size < nodeCount) names.add(label(int(1, 12)));
  const nodes: Record<string, any>[] = [...names].map((name, i) => ({
    name,
    address: numberToIPv4(base + nodeOffsets[i]!),
  }));
  if (chance(0.4)) {
    const priorities = new Set<number>();
    while (priorities.size < nodeCount) priorities.add(int(1, 254));
    [...priorities].forEach((p, i) => (nodes[i]!.priority = p));
  }
  const preempt = chance(0.75);
  const priorities = resolvePriorities(nodes);
  const spread = Math.max(...priorities) - Math.min(...priorities);
  const weight =
    chance(0.5) || spread >= 253
      ? "auto"
      : !preempt || nodeCount < 2
        ? 0
        : -int(spread + 1, Math.min(253, spread + 40));
  const apiserverPort = int(1, 65535);
  let lbPort = int(1, 65535);
  while (lbPort === apiserverPort) lbPort = int(1, 65535);
  const authChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~+=@%^-";
  const authPass = Array.from({ length: int(1, 8) }, () => pick(authChars.split(""))).join("");
  const iface = pick(["eth0", "enp0s3", "enp0s8", "ens160", "bond0.100", "br-lan", "vlan_42", label(int(1, 15))]);

  const subSecond = chance(0.2);
  return {
    apiVersion: "k8s-ha/v1alpha1",
    kind: "Cluster",
    metadata: { name: label(int(1, 20)) },
    spec: {
      vip: numberToIPv4(base + vipOffset!),
      network: {
        interface: iface,
        prefixLength,
        ...(chance(0.7) ? { gateway: numberToIPv4(base + gatewayOffset!) } : {}),
        ...(chance(0.6)
          ? { nameservers: Array.from({ length: int(1, 3) }, () => numberToIPv4(int(0x01000000, 0xdfffffff))) }
          : {}),
      },
      apiserver: { port: apiserverPort },
      loadBalancer: { port: lbPort, balance: pick(["roundrobin", "leastconn", "source"]) },
      nodes,
      vrrp: {
        virtualRouterId: int(1, 255),
        // sub-second adverts are VRRP v3, which has no authentication
        ...(subSecond
          ? { advertInterval: pick([0.5, 0.25, 0.1]) }
          : { advertInterval: int(1, 5), ...(chance(0.6) ? { authPass } : {}) }),
        unicast: nodeCount >= 2 && chance(0.4),
        preempt,
      },
      healthCheck: { interval: int(1, 10), fall: int(1, 5), rise: int(1, 5), weight },
      firewall: {
        enabled: chance(0.8),
        allowSsh: chance(0.9),
        allow: Array.from({ length: int(0, 3) }, () => {
          const port = int(1, 65000);
          return pick([`${port}`, `${port}/tcp`, `${port}/udp`, `${port}:${port + int(1, 500)}/tcp`]);
        }),
      },
      installPackages: chance(0.5),
      users: chance(0.5)
        ? [
            {
              name: pick(["ubuntu", "ops", "k8s_admin", "deploy-bot"]),
              sshAuthorizedKeys: [
                "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMQOqA/g+Q2Og5yWI588HYHVroOOL/NjApqNbKN/deM4 tester@ci",
              ],
              sudo: chance(0.8),
            },
          ]
        : [],
      image: {
        name: "k8s-ha-ubuntu-20.04",
        version: `${int(0, 3)}.${int(0, 20)}.${int(0, 50)}`,
        extraPackages: chance(0.3) ? ["jq", "chrony"] : [],
      },
    },
  };
}

// Rules that relate fields to each other: one subnet, unique names/addresses/priorities, ports
// that can both bind, a health-check weight that really fails the VIP over, and secrets that
// keepalived would silently mangle. Each finding says where and what to change.
import { autoWeight, MIN_WEIGHT, resolvePriorities, weightProblem } from "./failover.js";
import type { Finding, Locator } from "./findings.js";
import { broadcastOf, cidrOf, ipv4ToNumber, networkOf } from "./ipv4.js";
import { AUTH_PASS, type Spec, vrrpVersion } from "./schema.js";
import { checkFirewall, checkNetworkInterfaces, checkSshKeys } from "./check-nodes.js";
import { isIgnitionOs, OS_NAMES, runsContainers } from "./targets.js";
import { checkKubernetes } from "./check-kubernetes.js";

export type Env = Readonly<Record<string, string | undefined>>;

export function checkSpec(spec: Spec, at: Locator, env: Env): Finding[] {
  return [
    ...checkAddresses(spec, at),
    ...checkNames(spec, at),
    ...checkPorts(spec, at),
    ...checkPriorities(spec, at),
    ...checkVrrp(spec, at, env),
    ...checkUsers(spec, at),
    ...checkTarget(spec, at),
    ...checkNetworkInterfaces(spec, at),
    ...checkFirewall(spec, at),
    ...checkSshKeys(spec, at),
    ...checkImageTarget(spec, at),
    ...checkKubernetes(spec, at),
  ];
}

function checkAddresses(spec: Spec, at: Locator): Finding[] {
  const { vip, network, nodes } = spec.spec;
  const prefix = network.prefixLength;
  const findings: Finding[] = [];
  // The subnet every address is held to: the VIP's, unless no node is in it — then the VIP is the
  // one wrong value, and the first node's subnet is the nodes' subnet.
  const vipNetwork = networkOf(vip, prefix);
  const vipAlone = !nodes.some((node) => networkOf(node.address, prefix) === vipNetwork);
  const reference = vipAlone ? nodes[0]!.address : vip;
  const subnet = cidrOf(reference, prefix);
  const network0 = networkOf(reference, prefix);
  const inSubnet = (address: string) => networkOf(address, prefix) === network0;
  const reserved = (address: string) => {
    const n = ipv4ToNumber(address);
    return n === network0
      ? "the network address"
      : n === broadcastOf(reference, prefix)
        ? "the broadcast address"
        : undefined;
  };
  if (vipAlone) {
    findings.push(
      at.error(
        ["spec", "vip"],
        `${vip} is outside ${subnet}, the nodes' subnet (prefixLength ${prefix})`,
        `keepalived can only move the VIP between nodes on one subnet: pick an unused address in ${subnet}`,
      ),
    );
  } else {
    const vipReserved = reserved(vip);
    if (vipReserved)
      findings.push(
        at.error(["spec", "vip"], `${vip} is ${vipReserved} of ${subnet}`, "pick an unused host address in the subnet"),
      );
  }
  const seen = new Map<string, number>();
  nodes.forEach((node, i) => {
    const path = ["spec", "nodes", i, "address"];
    if (!inSubnet(node.address)) {
      findings.push(
        at.error(
          path,
          `${node.address} is outside ${subnet}, the ${vipAlone ? "first node's" : "VIP's"} subnet (prefixLength ${prefix})`,
          "keepalived can only move the VIP between nodes on one subnet: fix the address, the VIP or prefixLength",
        ),
      );
    } else {
      const r = reserved(node.address);
      if (r) findings.push(at.error(path, `${node.address} is ${r} of ${subnet}`, "give the node a host address"));
    }
    if (node.address === vip) {
      findings.push(at.error(path, `${node.address} is also the VIP`, "the VIP must be an address no node owns"));
    }
    const first = seen.get(node.address);
    if (first !== undefined) {
      findings.push(
        at.error(
          path,
          `${node.address} is already the address of ${nodes[first]!.name} (spec.nodes[${first}])`,
          "every node needs its own address",
        ),
      );
    } else seen.set(node.address, i);
  });
  const { gateway } = network;
  if (gateway !== undefined) {
    const path = ["spec", "network", "gateway"];
    if (!inSubnet(gateway))
      findings.push(
        at.error(path, `gateway ${gateway} is outside ${subnet}`, "the gateway must be reachable on the nodes' subnet"),
      );
    else if (reserved(gateway))
      findings.push(at.error(path, `gateway ${gateway} is ${reserved(gateway)} of ${subnet}`));
    if (gateway === vip) findings.push(at.error(path, "the gateway is the VIP", "use the router's address"));
    const owner = nodes.findIndex((n) => n.address === gateway);
    if (owner >= 0)
      findings.push(at.error(path, `the gateway is the address of ${nodes[owner]!.name}`, "use the router's address"));
  }
  return findings;
}

function checkNames(spec: Spec, at: Locator): Finding[] {
  const findings: Finding[] = [];
  const seen = new Map<string, number>();
  spec.spec.nodes.forEach((node, i) => {
    const first = seen.get(node.name);
    if (first !== undefined) {
      findings.push(
        at.error(
          ["spec", "nodes", i, "name"],
          `node name '${node.name}' is already used by spec.nodes[${first}]`,
          "node names become hostnames and file paths: make each unique",
        ),
      );
    } else seen.set(node.name, i);
  });
  return findings;
}

function checkPorts(spec: Spec, at: Locator): Finding[] {
  const { apiserver, loadBalancer } = spec.spec;
  if (apiserver.port !== loadBalancer.port) return [];
  return [
    at.error(
      ["spec", "loadBalancer", "port"],
      `loadBalancer.port ${loadBalancer.port} equals apiserver.port: haproxy and the kube-apiserver both bind it on every node`,
      "use another port for haproxy, e.g. 1644 (the recipe's) or 8443",
    ),
  ];
}

function checkPriorities(spec: Spec, at: Locator): Finding[] {
  const { nodes, healthCheck, vrrp } = spec.spec;
  const findings: Finding[] = [];
  const given = nodes.filter((n) => n.priority !== undefined).length;
  if (given > 0 && given < nodes.length) {
    const missing = nodes.findIndex((n) => n.priority === undefined);
    findings.push(
      at.error(
        ["spec", "nodes", missing],
        `${given} of ${nodes.length} nodes set a priority; this one does not`,
        "give every node a priority, or none (then the first node gets the highest)",
      ),
    );
    return findings;
  }
  const priorities = resolvePriorities(nodes);
  const seen = new Map<number, number>();
  priorities.forEach((p, i) => {
    const first = seen.get(p);
    if (first !== undefined) {
      findings.push(
        at.error(
          ["spec", "nodes", i, "priority"],
          `priority ${p} is also the priority of ${nodes[first]!.name}`,
          "equal priorities make keepalived break ties by IP address: give each node its own",
        ),
      );
    } else seen.set(p, i);
  });
  if (healthCheck.weight === "auto") {
    const weight = autoWeight(priorities, vrrp.preempt);
    if (weight < MIN_WEIGHT) {
      findings.push(
        at.error(
          ["spec", "healthCheck", "weight"],
          `the priorities spread over ${Math.max(...priorities) - Math.min(...priorities)}, more than a weight can cover (${-MIN_WEIGHT})`,
          "keep the priorities closer together, e.g. 101, 100, 99",
        ),
      );
    }
  } else {
    const problem = weightProblem(priorities, healthCheck.weight, vrrp.preempt);
    if (problem) {
      findings.push(
        at.error(
          ["spec", "healthCheck", "weight"],
          problem,
          vrrp.preempt
            ? `use weight: auto (here ${autoWeight(priorities, true)}), or any weight from ${MIN_WEIGHT} to ${autoWeight(priorities, true)}`
            : "use weight: auto (0: a failing check puts the node in FAULT and releases the VIP)",
        ),
      );
    }
  }
  return findings;
}

function checkVrrp(spec: Spec, at: Locator, env: Env): Finding[] {
  const { vrrp, nodes } = spec.spec;
  const findings: Finding[] = [];
  if (vrrp.authPass !== undefined && vrrp.authPassEnv !== undefined) {
    findings.push(
      at.error(
        ["spec", "vrrp", "authPassEnv"],
        "both authPass and authPassEnv are set",
        "keep one: authPassEnv keeps the password out of the spec",
      ),
    );
  }
  if (vrrp.authPassEnv !== undefined) {
    const value = env[vrrp.authPassEnv];
    if (value === undefined || value === "") {
      findings.push(
        at.error(
          ["spec", "vrrp", "authPassEnv"],
          `environment variable ${vrrp.authPassEnv} is not set or empty`,
          `export ${vrrp.authPassEnv}=<at most 8 characters> before running k8s-ha`,
        ),
      );
    } else if (value.length > 8) {
      findings.push(
        at.error(
          ["spec", "vrrp", "authPassEnv"],
          `${vrrp.authPassEnv} holds ${value.length} characters; keepalived silently uses only the first 8`,
          "use a password of at most 8 characters",
        ),
      );
    } else if (!AUTH_PASS.test(value)) {
      findings.push(
        at.error(
          ["spec", "vrrp", "authPassEnv"],
          `${vrrp.authPassEnv} holds characters keepalived's config cannot carry safely`,
          "use only A-Z a-z 0-9 . _ ~ + = @ % ^ -",
        ),
      );
    }
  }
  if (vrrp.authPass !== undefined || vrrp.authPassEnv !== undefined) {
    const key = vrrp.authPass !== undefined ? "authPass" : "authPassEnv";
    findings.push(
      at.warning(
        ["spec", "vrrp", key],
        "VRRP PASS authentication sends the password in plain text in every advertisement",
        "it only guards against accidental clashes with other VRRP routers, not attackers",
      ),
    );
  }
  if (vrrpVersion(vrrp.advertInterval) === 3 && (vrrp.authPass !== undefined || vrrp.authPassEnv !== undefined)) {
    const key = vrrp.authPass !== undefined ? "authPass" : "authPassEnv";
    findings.push(
      at.error(
        ["spec", "vrrp", key],
        `advertInterval ${vrrp.advertInterval} needs VRRP version 3, which has no authentication: keepalived would ignore the password`,
        "remove the password (use a virtualRouterId no other router on the segment uses), or use whole-second adverts",
      ),
    );
  }
  if (vrrp.unicast && nodes.length < 2) {
    findings.push(
      at.error(
        ["spec", "vrrp", "unicast"],
        "unicast needs at least 2 nodes: each node sends adverts to its peers",
        "add a node or set unicast: false",
      ),
    );
  }
  return findings;
}

function checkUsers(spec: Spec, at: Locator): Finding[] {
  const findings: Finding[] = [];
  const seen = new Set<string>();
  spec.spec.users.forEach((user, i) => {
    if (seen.has(user.name))
      findings.push(at.error(["spec", "users", i, "name"], `user '${user.name}' appears twice`, "merge the entries"));
    seen.add(user.name);
    if (user.name === "root")
      findings.push(
        at.error(
          ["spec", "users", i, "name"],
          "root cannot be a cloud-init login user here",
          "create a named user with sudo: true",
        ),
      );
  });
  return findings;
}

/** The lowest port an unprivileged process may bind (Linux's net.ipv4.ip_unprivileged_port_start). */
const FIRST_UNPRIVILEGED_PORT = 1024;

/**
 * What a target cannot do. Fedora CoreOS and Flatcar have neither apt nor ufw, nor keepalived and
 * haproxy packages: there both run as containers (services: systemd, a unit per container) or as
 * static pods, and the spec must not promise what the node will not do.
 */
function checkTarget(spec: Spec, at: Locator): Finding[] {
  const { target, installPackages, firewall, loadBalancer, users } = spec.spec;
  const findings: Finding[] = [];
  const os = OS_NAMES[target.os];
  if (isIgnitionOs(target.os)) {
    if (installPackages === true) {
      findings.push(
        at.error(
          ["spec", "installPackages"],
          `${os} has no apt and no keepalived or haproxy packages: installPackages: true cannot be done`,
          "remove installPackages: there keepalived and haproxy run as containers (services: systemd) or as static pods (services: static-pods)",
        ),
      );
    }
    if (firewall.enabled) {
      findings.push(
        at.error(
          ["spec", "firewall", "enabled"],
          `${os} has no ufw: k8s-ha cannot write the firewall that firewall.enabled asks for`,
          "set firewall: {enabled: false} and filter traffic outside the VMs (VirtualBox network) or with rules of your own; the nodes must still reach each other (VRRP, protocol 112) and the LB port",
        ),
      );
    }
    users.forEach((user, i) => {
      if (user.name === "core" && !user.sudo) {
        findings.push(
          at.error(
            ["spec", "users", i, "sudo"],
            `the core user of ${os} always has passwordless sudo; sudo: false cannot be done`,
            "remove sudo: false, or give the user another name",
          ),
        );
      }
    });
    if (!users.some((user) => user.sshAuthorizedKeys.length > 0)) {
      findings.push(
        at.warning(
          ["spec", "users"],
          `no SSH key: ${os} has no password login, so nobody can log in to the nodes`,
          'add e.g. users: [{name: core, sshAuthorizedKeys: ["ssh-ed25519 AAAA… you@laptop"]}]',
        ),
      );
    }
  }
  if (runsContainers(target) && loadBalancer.port < FIRST_UNPRIVILEGED_PORT) {
    findings.push(
      at.error(
        ["spec", "loadBalancer", "port"],
        `loadBalancer.port ${loadBalancer.port} is below ${FIRST_UNPRIVILEGED_PORT}: the haproxy container runs as an unprivileged user and cannot bind it`,
        "use a port from 1024 up, e.g. 1644 (the recipe's) or 8443",
      ),
    );
  }
  return findings;
}

/**
 * What the golden image will be: Ubuntu 20.04 left standard support in May 2025, and Debian 12
 * has no autoinstall ISO, so the VirtualBox build cannot bake it (the qemu build can).
 */
function checkImageTarget(spec: Spec, at: Locator): Finding[] {
  const { target, image } = spec.spec;
  const findings: Finding[] = [];
  if (target.os === "ubuntu-20.04") {
    findings.push(
      at.warning(
        ["spec", "target", "os"],
        "Ubuntu 20.04 left standard support in May 2025: its packages get no more security updates without Ubuntu Pro",
        "new clusters: set target: {os: ubuntu-24.04} (or ubuntu-22.04, debian-12)",
      ),
    );
  }
  if (target.os === "debian-12" && image.builder === "virtualbox") {
    findings.push(
      at.warning(
        ["spec", "image", "builder"],
        "build-image bakes Debian 12 only with the qemu builder (from Debian's cloud image); the VirtualBox build installs Ubuntu from its ISO",
        "set image: {builder: qemu} to bake a Debian 12 qcow2, or seed a Debian 12 system you installed yourself",
      ),
    );
  }
  return findings;
}

// Rules for what a node needs to be usable in the field: its other NICs, a firewall whose every
// rule ufw accepts, and users who can log in. Each finding points at the line to edit.
import type { Finding, Locator } from "./findings.js";
import { allowRule, portProblem, sourceProblem } from "./firewall.js";
import type { Spec } from "./schema.js";
import { sshKeyProblem } from "./ssh-keys.js";
import { isIgnitionOs } from "./targets.js";

export function checkNetworkInterfaces(spec: Spec, at: Locator): Finding[] {
  const { network, installPackages, target } = spec.spec;
  const findings: Finding[] = [];
  const seen = new Set<string>();
  network.dhcpInterfaces.forEach((name, i) => {
    const path = ["spec", "network", "dhcpInterfaces", i];
    if (name === network.interface) {
      findings.push(
        at.error(
          path,
          `${name} is the cluster NIC (network.interface): it has the static address, it cannot also use DHCP`,
          "list only the other NICs here, e.g. VirtualBox's NAT adapter enp0s3 when the cluster NIC is enp0s8",
        ),
      );
    } else if (seen.has(name)) {
      findings.push(at.error(path, `${name} is listed twice`, "remove the repeated name"));
    }
    seen.add(name);
  });
  const installs = !isIgnitionOs(target.os) && (installPackages ?? true);
  if (installs && network.gateway === undefined && network.dhcpInterfaces.length === 0) {
    findings.push(
      at.warning(
        ["spec", "network"],
        "installPackages is true but no NIC can reach a package mirror: no network.gateway and no network.dhcpInterfaces",
        "add dhcpInterfaces: [enp0s3] (VirtualBox's NAT adapter) or a gateway, or set installPackages: false for the golden image",
      ),
    );
  }
  return findings;
}

export function checkFirewall(spec: Spec, at: Locator): Finding[] {
  const findings: Finding[] = [];
  spec.spec.firewall.allow.forEach((entry, i) => {
    const rule = allowRule(entry);
    const path = ["spec", "firewall", "allow", i];
    const bad = portProblem(rule.port);
    if (bad)
      findings.push(
        at.error(
          typeof entry === "string" ? path : [...path, "port"],
          `${bad}: ufw refuses "${rule.port}" at first boot`,
          'write PORT/PROTO or LOW:HIGH/PROTO with ports from 1 to 65535, e.g. "8472/udp" or "30000:32767/tcp"',
        ),
      );
    const source = rule.from === undefined ? undefined : sourceProblem(rule.from);
    if (source) findings.push(at.error([...path, "from"], source, "write an address or a CIDR, e.g. 192.168.56.0/24"));
  });
  return findings;
}

export function checkSshKeys(spec: Spec, at: Locator): Finding[] {
  const findings: Finding[] = [];
  spec.spec.users.forEach((user, i) => {
    if (user.sshAuthorizedKeys.length === 0) {
      findings.push(
        at.error(
          ["spec", "users", i],
          `user '${user.name}' has no sshAuthorizedKeys: the user's password is locked, so nobody could log in as ${user.name}`,
          'add sshAuthorizedKeys: ["ssh-ed25519 AAAA… you@laptop"] (the line of ~/.ssh/id_ed25519.pub)',
        ),
      );
    }
    user.sshAuthorizedKeys.forEach((key, k) => {
      const problem = sshKeyProblem(key);
      if (problem) {
        findings.push(
          at.error(
            ["spec", "users", i, "sshAuthorizedKeys", k],
            `not a usable SSH public key: ${problem}`,
            "paste the whole line of the .pub file again (ssh-keygen -y -f KEY prints it)",
          ),
        );
      }
    });
  });
  return findings;
}

// firewall.allow entries as ufw reads them. The schema only admits the shape (digits, ':', '/tcp',
// an address); the numbers are judged here, because ufw 0.36 accepts the shape of
// `ufw allow 70000/tcp` and then fails at first boot with "ERROR: Bad port".
import { isIPv4 } from "./ipv4.js";
import type { FirewallRule } from "./schema.js";

export interface AllowRule {
  /** As ufw takes it: "8472/udp", "2379:2380/tcp", "80". */
  port: string;
  /** An IPv4 address or CIDR; absent: from anywhere. */
  from?: string;
}

/** The string form and the {port, from} form, as one shape. */
export function allowRule(entry: FirewallRule): AllowRule {
  return typeof entry === "string"
    ? { port: entry }
    : { port: entry.port, ...(entry.from !== undefined ? { from: entry.from } : {}) };
}

/** What is wrong with a port rule that matched schema.UFW_RULE, in ufw's terms; undefined when ufw accepts it. */
export function portProblem(port: string): string | undefined {
  const [range, proto] = port.split("/");
  const [low, high] = range!.split(":").map(Number);
  const outside = [low, high].find((p) => p !== undefined && (p < 1 || p > 65535));
  if (outside !== undefined) return `port ${outside} is outside 1-65535`;
  if (high !== undefined) {
    if (low! >= high) return `the range ${range} must go from a lower to a higher port`;
    if (proto === undefined) return `ufw needs a protocol for a port range: ${range}/tcp or ${range}/udp`;
  }
  return undefined;
}

/** What is wrong with a source that matched schema.IPV4_SOURCE; undefined when it is an address or CIDR. */
export function sourceProblem(from: string): string | undefined {
  const [address, prefix] = from.split("/");
  if (!isIPv4(address!)) return `${address} is not an IPv4 address in dotted-quad form`;
  if (prefix !== undefined && (!/^(0|[1-9][0-9]?)$/.test(prefix) || Number(prefix) > 32))
    return `/${prefix} is not a prefix length from 0 to 32`;
  return undefined;
}

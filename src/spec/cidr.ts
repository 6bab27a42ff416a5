// IPv4 CIDRs ("10.244.0.0/16") for the Kubernetes subnets, on top of the helpers in ipv4.ts.
import { isIPv4, networkOf, numberToIPv4 } from "./ipv4.js";

export interface Cidr {
  address: string;
  prefixLength: number;
}

export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf("/");
  if (slash < 0) return undefined;
  const address = text.slice(0, slash);
  const prefix = text.slice(slash + 1);
  if (!isIPv4(address) || !/^(0|[1-9][0-9]?)$/.test(prefix) || Number(prefix) > 32) return undefined;
  return { address, prefixLength: Number(prefix) };
}

export function isCidr(text: string): boolean {
  return parseCidr(text) !== undefined;
}

/** The network of the CIDR, "10.244.0.0/16" for "10.244.3.1/16". */
export function canonicalCidr(cidr: Cidr): string {
  return `${numberToIPv4(networkOf(cidr.address, cidr.prefixLength))}/${cidr.prefixLength}`;
}

/** Whether two CIDRs share any address. */
export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  const shorter = Math.min(a.prefixLength, b.prefixLength);
  return networkOf(a.address, shorter) === networkOf(b.address, shorter);
}

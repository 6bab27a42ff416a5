// IPv4 for the subnet checks and the renderers, on ipaddr.js (parsing, prefixes, network and
// broadcast addresses; it knows IPv6 too, for when the spec does). Addresses cross this module's
// boundary as plain numbers (0..2^32-1) so that callers compare and order them without a library.
import ipaddr from "ipaddr.js";

/** Strict dotted quad: four decimal parts, no leading zeros (which some parsers read as octal). */
export function isIPv4(text: string): boolean {
  return (
    ipaddr.IPv4.isValidFourPartDecimal(text) && text.split(".").every((part) => part === "0" || !part.startsWith("0"))
  );
}

export function ipv4ToNumber(text: string): number {
  if (!isIPv4(text)) throw new Error(`not an IPv4 address: ${JSON.stringify(text)}`);
  return ipaddr.IPv4.parse(text)
    .toByteArray()
    .reduce((acc, byte) => acc * 256 + byte, 0);
}

export function numberToIPv4(value: number): string {
  return ipaddr.fromByteArray([24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256)).toString();
}

export function networkOf(address: string, prefixLength: number): number {
  return ipv4ToNumber(ipaddr.IPv4.networkAddressFromCIDR(`${address}/${prefixLength}`).toString());
}

export function broadcastOf(address: string, prefixLength: number): number {
  return ipv4ToNumber(ipaddr.IPv4.broadcastAddressFromCIDR(`${address}/${prefixLength}`).toString());
}

/** "10.0.2.0/24" for any address inside it. */
export function cidrOf(address: string, prefixLength: number): string {
  return `${numberToIPv4(networkOf(address, prefixLength))}/${prefixLength}`;
}

// IPv4 arithmetic for the subnet checks and the renderers. Addresses are plain numbers
// (0..2^32-1) so that masks and comparisons need no library.

const DOTTED_QUAD = /^(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3}$/;

/** Strict dotted quad: no leading zeros (which some parsers read as octal), no spaces. */
export function isIPv4(text: string): boolean {
  return DOTTED_QUAD.test(text);
}

export function ipv4ToNumber(text: string): number {
  if (!isIPv4(text)) throw new Error(`not an IPv4 address: ${JSON.stringify(text)}`);
  return text.split(".").reduce((acc, part) => acc * 256 + Number(part), 0);
}

export function numberToIPv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join(".");
}

export function networkOf(address: string, prefixLength: number): number {
  const size = 2 ** (32 - prefixLength);
  return Math.floor(ipv4ToNumber(address) / size) * size;
}

export function broadcastOf(address: string, prefixLength: number): number {
  return networkOf(address, prefixLength) + 2 ** (32 - prefixLength) - 1;
}

/** "10.0.2.0/24" for any address inside it. */
export function cidrOf(address: string, prefixLength: number): string {
  return `${numberToIPv4(networkOf(address, prefixLength))}/${prefixLength}`;
}

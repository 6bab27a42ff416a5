// Serializers for the formats we emit. The spec schema already restricts every value to a safe
// character set; these refuse anything else again, so a value can never change the structure of
// a keepalived or haproxy config or a shell script, even if a check upstream were bypassed.
import { isIPv4 } from "../spec/ipv4.js";

export class UnsafeValueError extends Error {
  constructor(format: string, value: string) {
    super(
      `refusing to write ${JSON.stringify(value)} into ${format}: not a safe value (internal error: the spec check should have caught it)`,
    );
    this.name = "UnsafeValueError";
  }
}

/** A bare word in keepalived.conf or haproxy.cfg: no whitespace, quotes, braces, comment marks. */
const CONFIG_WORD = /^[A-Za-z0-9._~+=@%^:\/-]+$/;

export function configWord(format: string, value: string | number): string {
  const text = String(value);
  if (!CONFIG_WORD.test(text)) throw new UnsafeValueError(format, text);
  return text;
}

export function ipv4Word(format: string, value: string): string {
  if (!isIPv4(value)) throw new UnsafeValueError(format, value);
  return value;
}

/** A double-quoted path in keepalived.conf (`script "…"`): keepalived splits on spaces otherwise. */
export function keepalivedQuotedPath(value: string): string {
  return keepalivedQuotedCommand(value);
}

/**
 * A script with arguments, for keepalived's `script`: the whole command in one quoted string.
 * keepalived 2.0–2.3 pass the arguments only in this form; `"/path" arg` runs the script without
 * them (verified with each release of the version matrix).
 */
export function keepalivedQuotedCommand(path: string, ...args: string[]): string {
  if (!/^\/[A-Za-z0-9._\/-]+$/.test(path)) throw new UnsafeValueError("keepalived.conf", path);
  for (const arg of args) if (!/^[A-Za-z0-9._-]+$/.test(arg)) throw new UnsafeValueError("keepalived.conf", arg);
  return `"${[path, ...args].join(" ")}"`;
}

/**
 * A word in a systemd unit's Exec line, a systemd-networkd file or a NetworkManager keyfile:
 * no whitespace, quotes, backslashes, ';' or '#', and neither '%' nor '$', which systemd expands.
 */
const UNIT_WORD = /^[A-Za-z0-9._:\/,=@+-]+$/;

export function unitWord(format: string, value: string | number): string {
  const text = String(value);
  if (!UNIT_WORD.test(text)) throw new UnsafeValueError(format, text);
  return text;
}

/** POSIX sh single quoting: safe for any string, since nothing is special inside '…'. */
export function shellQuote(value: string): string {
  if (value.includes("\u0000")) throw new UnsafeValueError("a shell script", value);
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Characters a shell reads as themselves: such a word needs no quotes on a command line. */
export const PLAIN_SHELL_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** A word of a command line shown to users: bare when plain, else single-quoted. */
export function shellWord(value: string): string {
  return PLAIN_SHELL_WORD.test(value) ? value : shellQuote(value);
}

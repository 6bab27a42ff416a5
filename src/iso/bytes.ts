// Byte-level encodings shared by every ISO 9660 structure (ECMA-119 §7): both-endian numbers,
// padded character fields and the two date formats. Everything here is pure.

/** ECMA-119 §6.1.2: every logical sector (and, here, logical block) is 2048 bytes. */
export const SECTOR = 2048;

/** Sectors needed for `bytes` bytes. */
export function sectorsFor(bytes: number): number {
  return Math.ceil(bytes / SECTOR);
}

/** ECMA-119 §7.2.3: 16-bit both-byte orders (LE then BE), 4 bytes at `offset`. */
export function putU16Both(buf: Buffer, offset: number, value: number): void {
  buf.writeUInt16LE(value, offset);
  buf.writeUInt16BE(value, offset + 2);
}

/** ECMA-119 §7.3.3: 32-bit both-byte orders (LE then BE), 8 bytes at `offset`. */
export function putU32Both(buf: Buffer, offset: number, value: number): void {
  buf.writeUInt32LE(value, offset);
  buf.writeUInt32BE(value, offset + 4);
}

/** An ASCII field padded with spaces (ECMA-119 §7.4: a-/d-character fields are space-filled). */
export function asciiField(text: string, length: number): Buffer {
  const buf = Buffer.alloc(length, 0x20);
  buf.write(text.slice(0, length), 0, "ascii");
  return buf;
}

/** UCS-2 big-endian, the only encoding Joliet allows (Joliet spec §3, escape sequence %/E). */
export function ucs2be(text: string): Buffer {
  const buf = Buffer.alloc(text.length * 2);
  for (let i = 0; i < text.length; i++) buf.writeUInt16BE(text.charCodeAt(i), i * 2);
  return buf;
}

/** A Joliet descriptor text field: UCS-2 BE, padded with UCS-2 spaces (0x0020). */
export function ucs2Field(text: string, length: number): Buffer {
  const buf = Buffer.alloc(length);
  for (let i = 0; i + 1 < length; i += 2) buf.writeUInt16BE(0x0020, i);
  ucs2be(text.slice(0, Math.floor(length / 2))).copy(buf, 0);
  return buf;
}

const two = (n: number): string => String(n).padStart(2, "0");

/**
 * ECMA-119 §8.4.26.1 volume date: "YYYYMMDDHHMMSScc" in ASCII digits plus a signed offset from
 * GMT in 15-minute units. We always write UTC (offset 0). blkid builds the volume UUID from the
 * modification date in this format, so a fixed date gives a fixed UUID.
 */
export function volumeDate(date: Date): Buffer {
  const buf = Buffer.alloc(17);
  buf.write(volumeDateFields(date).join(""), 0, "ascii");
  return buf;
}

/** The digits of a volume date: year, month, day, hours, minutes, seconds, hundredths (UTC). */
export function volumeDateFields(date: Date): string[] {
  return [
    String(date.getUTCFullYear()).padStart(4, "0"),
    two(date.getUTCMonth() + 1),
    two(date.getUTCDate()),
    two(date.getUTCHours()),
    two(date.getUTCMinutes()),
    two(date.getUTCSeconds()),
    two(Math.floor(date.getUTCMilliseconds() / 10)),
  ];
}

/** ECMA-119 §8.4.26.1: "not specified" is sixteen '0' digits and a zero offset. */
export function unsetVolumeDate(): Buffer {
  const buf = Buffer.alloc(17);
  buf.write("0".repeat(16), 0, "ascii");
  return buf;
}

/**
 * ECMA-119 §9.1.5 recording date (7 bytes: years since 1900, month, day, hour, minute, second,
 * GMT offset). RRIP TF uses the same format in its short form (RRIP §4.1.6).
 */
export function recordDate(date: Date): Buffer {
  return Buffer.from([
    date.getUTCFullYear() - 1900,
    date.getUTCMonth() + 1,
    date.getUTCDate(),
    date.getUTCHours(),
    date.getUTCMinutes(),
    date.getUTCSeconds(),
    0,
  ]);
}

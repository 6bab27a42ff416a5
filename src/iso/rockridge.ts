// Rock Ridge (RRIP 1.09/1.10, "RRIP_1991A") on top of SUSP 1.10, in the primary hierarchy only.
// Linux turns Rock Ridge on only when it finds the ER entry through the root's "." record
// (fs/isofs/rock.c sets s_rock on ER); without it, it shows the Level 1 names "user_dat.".
import { putU32Both, recordDate } from "./bytes.js";

/** SUSP §5.1: CE entry length; reserved whenever some entries must move to a continuation area. */
export const CE_LENGTH = 28;

function entry(sig: string, body: Buffer, version = 1): Buffer {
  const head = Buffer.from([sig.charCodeAt(0), sig.charCodeAt(1), 4 + body.length, version]);
  return Buffer.concat([head, body]);
}

/** SUSP §5.3 SP: "SUSP is in use", first entry of the root's "." record; LEN_SKP 0. */
export function spEntry(): Buffer {
  return entry("SP", Buffer.from([0xbe, 0xef, 0]));
}

// RRIP §4.3 / SUSP §5.5: the registered identifier, description and source of RRIP 1.09/1.10.
const ER_ID = "RRIP_1991A";
const ER_DESCRIPTION = "THE ROCK RIDGE INTERCHANGE PROTOCOL PROVIDES SUPPORT FOR POSIX FILE SYSTEM SEMANTICS";
const ER_SOURCE =
  "PLEASE CONTACT DISC PUBLISHER FOR SPECIFICATION SOURCE.  SEE PUBLISHER IDENTIFIER IN PRIMARY VOLUME DESCRIPTOR FOR CONTACT INFORMATION.";

/** SUSP §5.5 ER: declares RRIP. 237 bytes: too big for a record, so it lives in a CE area. */
export function erEntry(): Buffer {
  const head = Buffer.from([ER_ID.length, ER_DESCRIPTION.length, ER_SOURCE.length, 1]);
  return entry("ER", Buffer.concat([head, Buffer.from(ER_ID + ER_DESCRIPTION + ER_SOURCE, "ascii")]));
}

/** SUSP §5.1 CE: where the rest of this record's system use entries continue. */
export function ceEntry(block: number, offset: number, length: number): Buffer {
  const body = Buffer.alloc(24);
  putU32Both(body, 0, block);
  putU32Both(body, 8, offset);
  putU32Both(body, 16, length);
  return entry("CE", body);
}

// RRIP 1.09 §4.1 RR flags. Linux reads names only when the record's RR says NM is present,
// and attributes only when it says PX or TF (fs/isofs/rock.c), so the flags must be exact.
const RR_PX = 0x01;
const RR_NM = 0x08;
const RR_TF = 0x80;

/** RRIP §4.1.1 PX: POSIX mode, links, uid, gid (RRIP 1.10 form, 36 bytes; no inode number). */
function pxEntry(mode: number, links: number): Buffer {
  const body = Buffer.alloc(32);
  putU32Both(body, 0, mode);
  putU32Both(body, 8, links);
  // uid and gid stay 0 (root): the seed belongs to nobody in particular.
  return entry("PX", body);
}

/** RRIP §4.1.6 TF: modify, access and attribute-change times, 7-byte short form. */
function tfEntry(date: Date): Buffer {
  const stamp = recordDate(date);
  return entry("TF", Buffer.concat([Buffer.from([0x02 | 0x04 | 0x08]), stamp, stamp, stamp]));
}

/** RRIP §4.1.4 NM: the real name, UTF-8 bytes (Linux and libarchive pass them through). */
function nmEntry(name: string): Buffer {
  return entry("NM", Buffer.concat([Buffer.from([0]), Buffer.from(name, "utf8")]));
}

export const S_IFREG = 0o100000;
export const S_IFDIR = 0o040000;

export interface RockRidgeEntries {
  /** Entries that stay in the record when there is room, in order. */
  inline: Buffer[];
  /** Entries that always go to a continuation area (the root's ER). */
  continued: Buffer[];
}

/**
 * Rock Ridge for one record. `name` is undefined for "." and ".." (their names are implied);
 * `isRootDot` adds SP first and ER (SUSP §5.3, §5.5: both belong to the root's "." record).
 */
export function rockRidgeFor(p: {
  mode: number;
  links: number;
  date: Date;
  name?: string;
  isRootDot?: boolean;
}): RockRidgeEntries {
  const inline: Buffer[] = [];
  if (p.isRootDot) inline.push(spEntry());
  const flags = RR_PX | RR_TF | (p.name === undefined ? 0 : RR_NM);
  inline.push(entry("RR", Buffer.from([flags])), pxEntry(p.mode, p.links), tfEntry(p.date));
  if (p.name !== undefined) inline.push(nmEntry(p.name));
  return { inline, continued: p.isRootDot ? [erEntry()] : [] };
}

export interface PackedSystemUse {
  /** Bytes of the continuation area, 0 when everything fits. */
  continuationLength: number;
  /** Builds the final bytes once the continuation area has a place. */
  finish(block: number, offset: number): { inline: Buffer; continuation: Buffer };
}

/**
 * Splits entries between the record (at most `room` bytes) and one continuation area
 * (SUSP §5.1). Entries keep their order; once one does not fit, it and all after it move, so SP
 * stays first. A continuation area never exceeds one block (checked by the caller's layout).
 */
export function packSystemUse(entries: RockRidgeEntries, room: number): PackedSystemUse {
  const total = entries.inline.reduce((n, e) => n + e.length, 0);
  if (entries.continued.length === 0 && total <= room) {
    const inline = Buffer.concat(entries.inline);
    return { continuationLength: 0, finish: () => ({ inline, continuation: Buffer.alloc(0) }) };
  }
  const kept: Buffer[] = [];
  let used = CE_LENGTH;
  let i = 0;
  for (; i < entries.inline.length; i++) {
    const e = entries.inline[i] as Buffer;
    if (used + e.length > room) break;
    kept.push(e);
    used += e.length;
  }
  const continuation = Buffer.concat([...entries.inline.slice(i), ...entries.continued]);
  return {
    continuationLength: continuation.length,
    finish: (block, offset) => ({
      inline: Buffer.concat([...kept, ceEntry(block, offset, continuation.length)]),
      continuation,
    }),
  };
}

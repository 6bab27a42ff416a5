// The bytes the Linux kernel (fs/isofs) looks at before it trusts Rock Ridge, checked directly:
// no VM or loop mount is needed (and this sandbox has no iso9660 module to mount with).
import { describe, expect, it } from "vitest";
import { isoToBuffer } from "../../src/iso/index.js";
import { DATE, text } from "./helpers.js";

const S = 2048;
const iso = Buffer.from(
  isoToBuffer(
    [
      { name: "user-data", source: text("#cloud-config\n") },
      { name: "meta-data", source: text("instance-id: a\n") },
      { name: "files/check_apiserver.sh", source: text("#!/bin/sh\n"), mode: 0o755 },
    ],
    { volumeId: "cidata", date: DATE },
  ),
);

const u32 = (at: number): number => iso.readUInt32LE(at);

/** SUSP entries of a system use area: [signature, entry bytes]. */
function entries(area: Buffer): [string, Buffer][] {
  const out: [string, Buffer][] = [];
  for (let at = 0; at + 4 <= area.length && (area[at + 2] as number) >= 4; at += area[at + 2] as number) {
    out.push([area.toString("latin1", at, at + 2), area.subarray(at, at + (area[at + 2] as number))]);
  }
  return out;
}

/** The system use area of the directory record at `at`, with its CE continuation appended. */
function systemUse(at: number): [string, Buffer][] {
  const len = iso[at] as number;
  const idLen = iso[at + 32] as number;
  const start = at + 33 + idLen + (idLen % 2 === 0 ? 1 : 0);
  const list = entries(iso.subarray(start, at + len));
  const ce = list.find(([sig]) => sig === "CE")?.[1];
  if (!ce) return list;
  const block = ce.readUInt32LE(4);
  const offset = ce.readUInt32LE(12);
  const length = ce.readUInt32LE(20);
  expect(offset + length).toBeLessThanOrEqual(S); // Linux refuses a CE crossing its block
  return [...list, ...entries(iso.subarray(block * S + offset, block * S + offset + length))];
}

describe("volume descriptors", () => {
  it("has a primary, a Joliet and a terminator in sectors 16-18", () => {
    expect([iso[16 * S], iso[17 * S], iso[18 * S]]).toEqual([1, 2, 255]);
    for (const s of [16, 17, 18]) expect(iso.toString("ascii", s * S + 1, s * S + 6)).toBe("CD001");
    expect(iso.toString("ascii", 16 * S + 40, 16 * S + 72).trimEnd()).toBe("cidata");
    expect(iso.toString("ascii", 17 * S + 88, 17 * S + 91)).toBe("%/E");
    expect(
      iso
        .subarray(17 * S + 40, 17 * S + 52)
        .swap16()
        .toString("utf16le"),
    ).toBe("cidata");
    expect(u32(16 * S + 80) * S).toBe(iso.length);
  });
});

describe("Rock Ridge as Linux finds it", () => {
  const rootBlock = u32(16 * S + 156 + 2);
  const dot = rootBlock * S;

  it("root '.' starts with SP and reaches ER RRIP_1991A through CE", () => {
    const su = systemUse(dot);
    expect(su[0]?.[0]).toBe("SP");
    expect([...(su[0]?.[1].subarray(4, 6) ?? [])]).toEqual([0xbe, 0xef]);
    const er = su.find(([sig]) => sig === "ER")?.[1];
    expect(er?.toString("ascii", 8, 8 + (er[4] as number))).toBe("RRIP_1991A");
  });

  it("every record's RR flags announce PX and TF, and NM where a name follows", () => {
    let at = dot;
    const names: string[] = [];
    while ((iso[at] as number) > 0) {
      const su = systemUse(at);
      const flags = su.find(([sig]) => sig === "RR")?.[1][4] ?? 0;
      const nm = su.find(([sig]) => sig === "NM")?.[1];
      expect(flags & 0x81).toBe(0x81);
      if (nm) names.push(nm.toString("utf8", 5));
      expect(Boolean(flags & 0x08)).toBe(nm !== undefined);
      at += iso[at] as number;
    }
    expect(names.sort()).toEqual(["files", "meta-data", "user-data"]);
  });
});

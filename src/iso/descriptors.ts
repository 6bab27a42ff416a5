// Volume descriptors (ECMA-119 §8): the primary (§8.4), Joliet's supplementary (§8.5 with the
// Joliet escape sequence) and the set terminator (§8.3), in sectors 16, 17 and 18.
import { SECTOR, asciiField, putU16Both, putU32Both, ucs2Field, unsetVolumeDate, volumeDate } from "./bytes.js";
import { JOLIET_ESCAPE } from "./joliet.js";

const STANDARD_ID = "CD001";
const APPLICATION_ID = "K8S-HA";

export interface DescriptorFields {
  kind: "primary" | "joliet";
  volumeId: string;
  /** Total sectors in the image (§8.4.8). */
  volumeBlocks: number;
  pathTableSize: number;
  lPathTableBlock: number;
  mPathTableBlock: number;
  /** The 34-byte root directory record (§8.4.18), identifier 0x00, no system use. */
  rootRecord: Buffer;
  date: Date;
}

/**
 * ECMA-119 §8.4 / §8.5. The two differ in type, the escape sequence and the text encoding:
 * Joliet writes identifiers in UCS-2 BE, so its volume identifier "cidata" is what Windows
 * shows as the drive label, while blkid and cloud-init read the primary one.
 */
export function volumeDescriptor(f: DescriptorFields): Buffer {
  const joliet = f.kind === "joliet";
  const text = (value: string, length: number): Buffer =>
    joliet ? ucs2Field(value, length) : asciiField(value, length);
  const buf = Buffer.alloc(SECTOR);
  buf[0] = joliet ? 2 : 1;
  buf.write(STANDARD_ID, 1, "ascii");
  buf[6] = 1; // §8.4.3 version
  text("", 32).copy(buf, 8); // system identifier
  text(f.volumeId, 32).copy(buf, 40);
  putU32Both(buf, 80, f.volumeBlocks);
  if (joliet) JOLIET_ESCAPE.copy(buf, 88);
  putU16Both(buf, 120, 1); // volume set size
  putU16Both(buf, 124, 1); // volume sequence number
  putU16Both(buf, 128, SECTOR); // logical block size
  putU32Both(buf, 132, f.pathTableSize);
  buf.writeUInt32LE(f.lPathTableBlock, 140); // optional tables (144, 152) stay 0: none
  buf.writeUInt32BE(f.mPathTableBlock, 148);
  f.rootRecord.copy(buf, 156);
  text("", 128).copy(buf, 190); // volume set identifier
  text("", 128).copy(buf, 318); // publisher
  text("", 128).copy(buf, 446); // data preparer
  text(APPLICATION_ID, 128).copy(buf, 574);
  text("", 37).copy(buf, 702); // copyright file
  text("", 37).copy(buf, 739); // abstract file
  text("", 37).copy(buf, 776); // bibliographic file
  // Creation and modification dates from options.date: blkid derives the UUID from them
  // (modification first), so the same date gives the same UUID.
  volumeDate(f.date).copy(buf, 813);
  volumeDate(f.date).copy(buf, 830);
  unsetVolumeDate().copy(buf, 847); // expiration: never
  unsetVolumeDate().copy(buf, 864); // effective: at once
  buf[881] = 1; // §8.4.31 file structure version
  return buf;
}

/** ECMA-119 §8.3: the volume descriptor set terminator. */
export function terminator(): Buffer {
  const buf = Buffer.alloc(SECTOR);
  buf[0] = 255;
  buf.write(STANDARD_ID, 1, "ascii");
  buf[6] = 1;
  return buf;
}

// Reads what the seed step needs from a baked OVA: the name of the IDE controller whose slot a
// node's seed ISO takes. Packer names it ("IDE Controller" before packer-plugin-virtualbox PR
// #178, "IDE" after), VBoxManage export writes it into the OVF's vbox:Machine section, and the
// record keeps it, so that `seed` prints storageattach lines for the controller the OVA has.
import { open } from "node:fs/promises";

const BLOCK = 512;
/** An OVF descriptor is a few KiB; anything far larger is not one we wrote. */
const MAX_OVF_BYTES = 4 * 1024 * 1024;
/** VirtualBox's IDE controller chipsets (its SATA, SCSI, SAS, NVMe controllers have other types). */
const IDE_TYPES = new Set(["PIIX3", "PIIX4", "ICH6"]);

function tarString(header: Buffer, start: number, length: number): string {
  const field = header.subarray(start, start + length);
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? length : end).toString("utf8");
}

/** The .ovf descriptor inside an OVA (a POSIX tar), or undefined when there is none. */
export async function readOvf(ovaPath: string): Promise<string | undefined> {
  const file = await open(ovaPath, "r");
  try {
    const header = Buffer.alloc(BLOCK);
    let offset = 0;
    for (;;) {
      const { bytesRead } = await file.read(header, 0, BLOCK, offset);
      if (bytesRead < BLOCK || header.every((b) => b === 0)) return undefined;
      const name = tarString(header, 0, 100);
      const size = Number.parseInt(tarString(header, 124, 12).trim() || "0", 8);
      if (!Number.isFinite(size) || size < 0) return undefined;
      offset += BLOCK;
      if (name.toLowerCase().endsWith(".ovf")) {
        if (size > MAX_OVF_BYTES) return undefined;
        const body = Buffer.alloc(size);
        await file.read(body, 0, size, offset);
        return body.toString("utf8");
      }
      offset += Math.ceil(size / BLOCK) * BLOCK;
    }
  } finally {
    await file.close();
  }
}

function attribute(tag: string, name: string): string | undefined {
  return new RegExp(`\\b${name}="([^"]*)"`).exec(tag)?.[1];
}

/** The IDE controller's name in an OVF's vbox:Machine section, XML entities decoded. */
export function ideControllerName(ovf: string): string | undefined {
  for (const match of ovf.matchAll(/<(?:vbox:)?StorageController\b[^>]*>/g)) {
    const type = attribute(match[0], "type");
    const name = attribute(match[0], "name");
    if (name && type && IDE_TYPES.has(type)) {
      return name
        .replace(/&quot;/g, '"')
        .replace(/&lt;/g, "<")
        .replace(/&gt;/g, ">")
        .replace(/&amp;/g, "&");
    }
  }
  return undefined;
}

/** The OVA's IDE controller, or undefined when the OVA has no OVF or the OVF none. */
export async function ovaIdeController(ovaPath: string): Promise<string | undefined> {
  const ovf = await readOvf(ovaPath).catch(() => undefined);
  return ovf === undefined ? undefined : ideControllerName(ovf);
}

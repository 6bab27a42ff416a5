// The guest names a NIC after where it sits: systemd's path name enp0s<slot> on PCI bus 0, as
// VirtualBox's enp0s3/enp0s8. qemu puts a NIC at a chosen slot (`addr=`); with ACPI hot-plug on the
// root bus switched off, the firmware gives no slot number and the guest keeps the path name.
import { UsageError } from "../errors.js";

const PATH_NAME = /^enp0s([0-9]{1,2})$/;
/** Slots 0–2 hold the host bridge, the ISA bridge (PIIX3) and IDE/ACPI on qemu's `pc` machine. */
const FIRST_FREE_SLOT = 3;
const LAST_SLOT = 31;

export function nicSlot(iface: string, field: string): number {
  const match = PATH_NAME.exec(iface);
  const slot = match ? Number(match[1]) : NaN;
  if (!(slot >= FIRST_FREE_SLOT && slot <= LAST_SLOT)) {
    throw new UsageError(
      `${field} is ${JSON.stringify(iface)}: the qemu provider places each NIC at a PCI slot, and the guest names it enp0s<slot>`,
      `use enp0s3 … enp0s31, as in VirtualBox (e.g. enp0s8 for the cluster NIC, enp0s3 for the NAT/DHCP one)`,
    );
  }
  return slot;
}

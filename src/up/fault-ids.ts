// The faults `up --rehearse` knows, and `--faults`' list of them. Apart from faults.ts so that
// `up` checks the flag before it boots anything without loading the rehearsal's code.
import { UsageError } from "../errors.js";

/** In the order `up --rehearse` runs them: the node loss, which boots a VM again, last. */
export const FAULT_IDS = ["keepalived-stopped", "haproxy-stopped", "holder-powered-off"] as const;
export type FaultId = (typeof FAULT_IDS)[number];

/** `--faults a,b`: known names, none twice; returned in FAULT_IDS order (the order they run). */
export function parseFaultList(value: string): FaultId[] {
  const names = value.split(",").map((name) => name.trim());
  const hint = `name one or more of ${FAULT_IDS.join(", ")}, separated by commas`;
  for (const name of names) {
    if (name === "") throw new UsageError(`--faults ${JSON.stringify(value)} has an empty name`, hint);
    if (!(FAULT_IDS as readonly string[]).includes(name))
      throw new UsageError(`--faults: no fault named ${JSON.stringify(name)}`, hint);
    if (names.indexOf(name) !== names.lastIndexOf(name)) throw new UsageError(`--faults names ${name} twice`, hint);
  }
  return FAULT_IDS.filter((id) => names.includes(id));
}

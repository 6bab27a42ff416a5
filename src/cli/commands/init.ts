import { open } from "node:fs/promises";
import { STARTER_SPEC } from "../../spec/starter.js";
import { UsageError } from "../../errors.js";
import { DEFAULT_SPEC } from "../defaults.js";
import { stderr } from "../../terminal.js";

export async function runInit(path: string | undefined, options: { force?: boolean }): Promise<void> {
  const target = path ?? DEFAULT_SPEC;
  try {
    // "wx" fails if the file exists: no check-then-write race
    const handle = await open(target, options.force ? "w" : "wx", 0o644);
    try {
      await handle.writeFile(STARTER_SPEC);
    } finally {
      await handle.close();
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EEXIST")
      throw new UsageError(`${target} already exists; nothing was written`, "pass --force to overwrite it");
    if (code === "EISDIR") throw new UsageError(`${target} is a directory`, "name a file, e.g. k8s-ha.yaml");
    if (code === "ENOENT") throw new UsageError(`cannot create ${target}: its directory does not exist`);
    throw error; // the machine's failure (read-only, full, no permission): exit 3, see system-error.ts
  }
  stderr.write(`wrote ${target}: edit the addresses, then run \`k8s-ha validate ${target}\`\n`);
}

// One file written whole or not at all, for the commands that write a single file of their own
// (an image record, a lab's state, a kubeadm config) outside the render writer (output.ts).
import { randomBytes } from "node:crypto";
import { chmod, rename, rm, writeFile } from "node:fs/promises";

/** Writes a file whole or not at all: a temporary name in the same folder, then a rename. */
export async function writeFileAtomic(path: string, contents: string | Uint8Array, mode = 0o644): Promise<void> {
  const temporary = `${path}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
  try {
    await writeFile(temporary, contents, { mode });
    await chmod(temporary, mode); // writeFile's mode is filtered by the umask
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

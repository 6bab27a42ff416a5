// The CLI as a user without root (nobody), for the rootless paths of `up`: root drops to uid and
// gid 65534 with setpriv, optionally inside a network namespace of the test's own. The built CLI
// package is copied to a folder anyone can read: the checkout's own parents may not be.
import { chmodSync, chownSync, cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "./cli.js";

export const NOBODY = 65534;

/** The package copied where nobody can read it; its dist/k8s-ha.cjs, and a cleanup. */
export function readableCli(): { bin: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "k8s-ha-cli-"));
  chmodSync(dir, 0o755);
  // what the package ships (package.json "files") and package.json itself, as npm installs it
  const { files } = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { files: string[] };
  for (const entry of [...files, "package.json"]) cpSync(join(ROOT, entry), join(dir, entry), { recursive: true });
  return { bin: join(dir, "dist", "k8s-ha.cjs"), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A folder for nobody to write in: its own, under the temp folder. */
export function nobodysDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chownSync(dir, NOBODY, NOBODY);
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The program and arguments that run `node bin args` as nobody, in `netns` when given. */
export function asNobody(bin: string, args: string[], netns?: string): { program: string; args: string[] } {
  const drop = ["setpriv", `--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", "--inh-caps=-all"];
  const command = [...drop, process.execPath, bin, ...args];
  return netns
    ? { program: "ip", args: ["netns", "exec", netns, ...command] }
    : { program: command[0]!, args: command.slice(1) };
}

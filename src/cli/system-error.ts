// A failure of the machine (a full disk, a read-only or unwritable output folder, a file where a
// folder should be) is the user's to fix, not a bug in k8s-ha: one line naming the path and the
// cause, exit 3 — never "internal error" and a stack trace.
import { existsSync } from "node:fs";
import { dirname } from "node:path";
import { ExternalError } from "../errors.js";

/** What each errno means for the person at the terminal. */
const CAUSES: Record<string, string> = {
  ENOSPC: "no space left on the device",
  EDQUOT: "the disk quota is exhausted",
  EROFS: "the file system is read-only",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  ENOTDIR: "a part of the path is a file, not a folder",
  EISDIR: "it is a folder, not a file",
  EEXIST: "something is already there",
  ENOENT: "a folder on the way does not exist (or was removed meanwhile)",
  ENOTEMPTY: "the folder is not empty",
  EMFILE: "too many open files (raise `ulimit -n`)",
  ENFILE: "the system's table of open files is full",
  EIO: "an input/output error of the device",
  EXDEV: "it is on another file system",
  ENAMETOOLONG: "the name is too long",
  ELOOP: "too many symbolic links",
  EBUSY: "the device or file is busy",
};

/** What the program was doing, from the system call that failed. */
const ACTIONS: Record<string, string> = {
  mkdir: "create folder",
  mkdtemp: "create folder",
  open: "open",
  write: "write",
  writev: "write",
  close: "write",
  copyfile: "copy to",
  rename: "move into place",
  unlink: "remove",
  rmdir: "remove",
  rm: "remove",
  chmod: "set the mode of",
  read: "read",
  scandir: "read folder",
  stat: "use",
  lstat: "use",
};

interface SystemError extends Error {
  code: string;
  syscall?: string;
  path?: string;
  dest?: string;
}

function isSystemError(error: unknown): error is SystemError {
  if (!(error instanceof Error)) return false;
  const e = error as Partial<SystemError>;
  return (
    typeof e.code === "string" &&
    /^E[A-Z]+$/.test(e.code) &&
    (typeof e.syscall === "string" || typeof e.path === "string")
  );
}

/** The ExternalError (exit 3) a failed file-system call becomes; undefined for anything else. */
export function systemFailure(error: unknown): ExternalError | undefined {
  if (!isSystemError(error)) return undefined;
  const action = ACTIONS[error.syscall ?? ""] ?? error.syscall ?? "use";
  const where = error.dest && error.syscall === "rename" ? error.dest : (error.path ?? "a file");
  let cause = CAUSES[error.code] ?? error.message.replace(/^[A-Z]+: /, "").replace(/, \w+ '.*$/, "");
  // Node's recursive mkdir reports ENOENT, not EROFS, on a read-only mount (verified on tmpfs):
  // when the folder above exists, the file system refused
  if (error.code === "ENOENT" && error.syscall === "mkdir" && error.path && existsSync(dirname(error.path))) {
    cause = "the file system refused to create it (read-only?)";
  }
  return new ExternalError(`cannot ${action} ${where}: ${cause} (${error.code})`);
}

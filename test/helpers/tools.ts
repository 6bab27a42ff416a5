// Tests that need a real program (haproxy, keepalived, xorriso, packer, …) use these.
// In CI (CI=true) a missing tool is a failure: .ci/run installs every tool, so a missing one
// means the install step is broken. Locally such tests skip, and say so loudly.
import { execFileSync } from "node:child_process";

export const IN_CI = process.env.CI === "true" || process.env.CI === "1";

function onPath(program: string): boolean {
  try {
    execFileSync("sh", ["-c", 'command -v "$1"', "sh", program], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

const warned = new Set<string>();

/**
 * True when every program is on PATH. In CI a missing program throws (the test fails);
 * elsewhere it prints a loud notice once and returns false, so callers use `it.skipIf(!has)`.
 */
export function haveTools(...programs: string[]): boolean {
  const missing = programs.filter((p) => !onPath(p));
  if (missing.length === 0) return true;
  const message = `missing tool(s): ${missing.join(", ")} — run scripts/install-tools.sh`;
  if (IN_CI) throw new Error(`${message} (CI must install every tool the tests use)`);
  if (!warned.has(message)) {
    warned.add(message);
    process.stderr.write(`\n!!!!! SKIPPING tests: ${message} !!!!!\n\n`);
  }
  return false;
}

/** True when running as root (network namespaces, keepalived, chown in tests need it). */
export function isRoot(): boolean {
  return typeof process.getuid === "function" && process.getuid() === 0;
}

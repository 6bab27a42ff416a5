// Shared pieces of the rehearsal tests: whether a lab can run here (plans: ../helpers/plan.ts), and
// proving that a finished lab left nothing behind.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { expect } from "vitest";
import { LAB_ENV } from "../../src/rehearse/processes.js";
import { haveTools, IN_CI, isRoot } from "../helpers/tools.js";

/** Labs need root and the tools; in CI both are required, locally their absence skips loudly. */
export function canRehearse(): boolean {
  if (!haveTools("ip", "keepalived", "haproxy", "curl", "openssl")) return false;
  if (isRoot()) return true;
  if (IN_CI) throw new Error("rehearse tests need root (network namespaces); CI must run them as root");
  process.stderr.write("\n!!!!! SKIPPING rehearse tests: not root !!!!!\n\n");
  return false;
}

/** Generous: a lab runs 40–70 s, longer when the machine is busy. */
export const LAB_TIMEOUT = 240_000;

/** Collects progress lines instead of printing them. */
export function logLines(): { lines: string[]; log: (line: string) => void } {
  const lines: string[] = [];
  return { lines, log: (line) => lines.push(line) };
}

/** The lab id and folder, from the first progress line ("lab <id> in <dir> …"). */
export function labFromLog(lines: readonly string[]): { id: string; dir: string } {
  const match = /^lab ([0-9a-f]+) in (\S+)/.exec(lines[0] ?? "");
  if (!match) throw new Error(`no lab line in ${JSON.stringify(lines.slice(0, 3))}`);
  return { id: match[1]!, dir: match[2]! };
}

/** No namespace, host link, process or folder of the lab survives. */
export function expectNothingLeft(lab: { id: string; dir: string }): void {
  const namespaces = execFileSync("ip", ["netns", "list"], { encoding: "utf8" });
  expect(namespaces).not.toContain(lab.id);
  const hostLinks = execFileSync("ip", ["-o", "link"], { encoding: "utf8" });
  expect(hostLinks).not.toContain(lab.id);
  expect(existsSync(lab.dir)).toBe(false);
  // every program of a lab, and whatever it started, has K8S_HA_LAB=<id> in its environment
  const survivors = readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").includes(`${LAB_ENV}=${lab.id}`);
      } catch {
        return false;
      }
    });
  expect(survivors).toEqual([]);
}

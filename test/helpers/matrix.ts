// The haproxy/keepalived version matrix the tests hand configs to: the releases that
// scripts/build-matrix.sh builds into the cache (K8S_HA_MATRIX_CACHE or /var/cache/k8s-ha-matrix),
// found by the same code as `validate --matrix`. In CI a missing or incomplete matrix fails the
// tests; locally they skip, loudly.
import { findMatrix, type MatrixBinary } from "../../src/tools/matrix.js";
import { atLeast } from "../../src/spec/releases.js";
import { OS_FACTS } from "../../src/spec/targets.js";
import { IN_CI } from "./tools.js";

export const MATRIX_DIR = process.env.K8S_HA_MATRIX_CACHE ?? "/var/cache/k8s-ha-matrix";

/** Same series: 2.0.0 for "2.0", 2.0.19 for "2.0.19". */
const sameRelease = (version: string, release: string) => atLeast(version, release) && !atLeast(version, bump(release));
const bump = (release: string) => release.replace(/(\d+)$/, (n) => String(Number(n) + 1));

/**
 * The matrix, when it has the oldest target's releases (Ubuntu 20.04: haproxy 2.0, keepalived
 * 2.0.19) and a haproxy 3.3 or newer; else undefined after a loud notice, or an error in CI.
 */
export async function loadMatrix(): Promise<MatrixBinary[] | undefined> {
  const oldest = OS_FACTS["ubuntu-20.04"];
  let binaries: MatrixBinary[] = [];
  try {
    binaries = await findMatrix(MATRIX_DIR);
  } catch {
    // reported below
  }
  const has = (tool: "haproxy" | "keepalived", release: string) =>
    binaries.some((b) => b.tool === tool && sameRelease(b.version, release));
  // the tests' claims need the oldest target's releases and a haproxy that refuses what 3.3 no longer accepts
  const newest = binaries.some((b) => b.tool === "haproxy" && atLeast(b.version, "3.3"));
  if (has("haproxy", oldest.haproxy) && has("keepalived", oldest.keepalived) && newest) return binaries;
  const message = `the version matrix in ${MATRIX_DIR} is missing or incomplete (found: ${binaries.map((b) => `${b.tool} ${b.version}`).join(", ") || "nothing"}) — run scripts/build-matrix.sh`;
  if (IN_CI) throw new Error(`${message} (CI builds it before the suite)`);
  process.stderr.write(`\n!!!!! SKIPPING version-matrix tests: ${message} !!!!!\n\n`);
  return undefined;
}

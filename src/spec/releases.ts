// Which haproxy and keepalived release reads a target's configs, and what each haproxy release
// understands. The renderer asks these facts what it may emit; the version-matrix checks ask them
// which real binaries must accept a target's files (its own release and every newer one).
import { OS_FACTS, runsContainers, type ServiceMode, type TargetOs } from "./targets.js";

/**
 * The releases in the pinned container images (render/images.ts pins the same: haproxy 2.6.12,
 * osixia/keepalived 2.0.20). On container targets these, not the OS packages, read the configs.
 */
export const CONTAINER_RELEASES = { haproxy: "2.6", keepalived: "2.0.20" } as const;

export interface ToolReleases {
  haproxy: string;
  keepalived: string;
}

/** The haproxy and keepalived that will read the configs rendered for this target. */
export function targetReleases(target: { os: TargetOs; services: ServiceMode }): ToolReleases {
  if (runsContainers(target)) return { ...CONTAINER_RELEASES };
  const { haproxy, keepalived } = OS_FACTS[target.os];
  return { haproxy, keepalived };
}

/**
 * haproxy.cfg keywords that not every release knows, with the first release that accepts them.
 * A keyword missing here is older than any release we meet. Add a row
 * before the renderer emits a newer keyword: renderHaproxy refuses a keyword its target lacks.
 */
export const HAPROXY_KEYWORD_SINCE: Readonly<Record<string, string>> = {
  "http-check expect": "1.5",
  "http-check send": "2.2",
  "http-check connect": "2.2",
  "http-check comment": "2.2",
  "http-check set-var": "2.2",
  "http-check unset-var": "2.2",
  "option idle-close-on-response": "2.6",
};

/** haproxy's `-dW` (zero-warning mode: warnings are errors) exists from 2.4 on. */
export const HAPROXY_ZERO_WARNING_SINCE = "2.4";

/** The numeric parts of a release ("3.5-dev5" → [3, 5]; "2.0.19" → [2, 0, 19]). */
function parts(release: string): number[] {
  const match = /^\d+(?:\.\d+)*/.exec(release);
  return match ? match[0].split(".").map(Number) : [];
}

/**
 * True when `release` is `minimum` or newer, comparing as many parts as `minimum` has
 * (hand-written, not node-semver: every command loads the spec checks, and semver's ~40 regexes
 * cost ~20 ms of start-up; issue 13):
 * "2.0.0" is at least "2.0", "2.2.4" is not at least "2.2.7", "3.5-dev5" is at least "3.5".
 */
export function atLeast(release: string, minimum: string): boolean {
  const have = parts(release);
  const want = parts(minimum);
  for (let i = 0; i < want.length; i++) {
    const h = have[i] ?? 0;
    if (h !== want[i]) return h > want[i]!;
  }
  return true;
}

/** The keywords of `config` that haproxy `release` does not know yet, with the release that added each. */
export function haproxyKeywordsBeyond(
  config: string,
  release: string,
): Array<{ keyword: string; since: string; line: number }> {
  const found: Array<{ keyword: string; since: string; line: number }> = [];
  config.split("\n").forEach((text, i) => {
    const words = text.trim().replace(/#.*$/, "").split(/\s+/);
    for (const [keyword, since] of Object.entries(HAPROXY_KEYWORD_SINCE)) {
      const want = keyword.split(" ");
      if (want.every((w, j) => words[j] === w) && !atLeast(release, since)) found.push({ keyword, since, line: i + 1 });
    }
  });
  return found;
}

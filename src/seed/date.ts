// The one timestamp inside a seed ISO (every ISO 9660 date field, and so blkid's UUID) and inside
// the bundle. Never the wall clock: the same inputs give the same bytes.
//  - SOURCE_DATE_EPOCH (https://reproducible-builds.org/specs/source-date-epoch/), when set and
//    not empty: that instant, for every seed and the bundle.
//  - otherwise, per node: 2020-01-01T00:00:00Z plus the first 32 bits of sha256(instance-id)
//    modulo five years, in whole seconds. The instance-id carries a hash of the node's user-data
//    and network-config (render/meta-data.ts), so every version of a node's seed gets its own
//    stable date, and so its own stable blkid UUID.
import { createHash } from "node:crypto";
import { UsageError } from "../errors.js";
import { volumeDateFields } from "../iso/bytes.js";

/** 2020-01-01T00:00:00Z: the base of derived dates, and the bundle's mtime without SOURCE_DATE_EPOCH. */
export const DERIVED_DATE_BASE = Date.UTC(2020, 0, 1);
const FIVE_YEARS_S = 5 * 365 * 24 * 60 * 60;

/** ISO 9660 stores the year in one byte after 1900 (ECMA-119 §9.1.5): 2155-12-31T23:59:59Z is the last. */
export const MAX_EPOCH_SECONDS = Date.UTC(2155, 11, 31, 23, 59, 59) / 1000;

/**
 * Parses SOURCE_DATE_EPOCH: undefined when unset or empty; otherwise a decimal integer of seconds
 * since 1970 that an ISO 9660 date can hold, else UsageError (the spec says a malformed value must
 * fail the build, not be ignored).
 */
export function parseSourceDateEpoch(value: string | undefined): Date | undefined {
  if (value === undefined || value === "") return undefined;
  const seconds = /^[0-9]{1,12}$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(seconds) || seconds > MAX_EPOCH_SECONDS) {
    throw new UsageError(
      `SOURCE_DATE_EPOCH=${JSON.stringify(value)} is not a valid timestamp`,
      `set it to whole seconds since 1970-01-01 UTC, at most ${MAX_EPOCH_SECONDS} (2155-12-31, the last ISO 9660 year), e.g. SOURCE_DATE_EPOCH=$(git log -1 --format=%ct); or unset it`,
    );
  }
  return new Date(seconds * 1000);
}

/** The derived date of one node's seed (see the top of this file). */
export function derivedSeedDate(instanceId: string): Date {
  const offset = createHash("sha256").update(instanceId).digest().readUInt32BE(0) % FIVE_YEARS_S;
  return new Date(DERIVED_DATE_BASE + offset * 1000);
}

/**
 * What blkid reports as the UUID of an ISO 9660 volume: its modification date as
 * YYYY-MM-DD-HH-MM-SS-cc (libblkid probe_iso9660). Handy to find a seed by /dev/disk/by-uuid.
 */
export function blkidUuid(date: Date): string {
  return volumeDateFields(date).join("-");
}

// The verdict on a sha256, shared by the upload (which hashes its part buffers as it reads them,
// upload.ts) and the pull (which hashes its ranges in file order, download.ts).

/** What to say when a sha256 is not the expected one; undefined when it is. */
export function mismatch(expected: string, actual: string): string | undefined {
  return actual === expected ? undefined : `sha256 mismatch: expected ${expected}, got ${actual}`;
}

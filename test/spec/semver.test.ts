// The spec's image version check (schema.ts isSemver) says what node-semver's valid() says, for
// every string the IMAGE_VERSION shape lets through (it replaced valid(), issue 13).
import fc from "fast-check";
import validSemver from "semver/functions/valid.js";
import { describe, expect, it } from "vitest";
import { IMAGE_VERSION, isSemver } from "../../src/spec/schema.js";

const agrees = (v: string) => expect(isSemver(v), v).toBe(validSemver(v) === v);

describe("isSemver", () => {
  it("agrees with node-semver on chosen cases", () => {
    for (const v of [
      "0.1.0",
      "1.2.3",
      "01.2.3",
      "1.02.3",
      "1.2.03",
      "1.2.3-rc.1",
      "1.2.3-rc.01",
      "1.2.3-0",
      "1.2.3-00",
      "1.2.3-rc..1",
      "1.2.3-.rc",
      "1.2.3-rc.",
      "1.2.3--",
      "1.2.3-0a",
      "1.2.3-x-y.z",
      "9007199254740991.0.0",
      "9007199254740992.0.0",
    ]) {
      expect(IMAGE_VERSION.test(v), v).toBe(true);
      agrees(v);
    }
    expect(isSemver("0.1.0")).toBe(true);
    expect(isSemver("01.2.3")).toBe(false);
  });
  it("agrees with node-semver on random versions of IMAGE_VERSION's shape", () => {
    const number = fc.oneof(fc.nat(20).map(String), fc.constantFrom("0", "00", "01", "10", "9007199254740992"));
    const pre = fc.stringMatching(/^[0-9A-Za-z.-]{1,32}$/);
    fc.assert(
      fc.property(number, number, number, fc.option(pre), (a, b, c, p) => {
        const v = `${a}.${b}.${c}${p === null ? "" : `-${p}`}`;
        if (IMAGE_VERSION.test(v)) agrees(v);
      }),
      { numRuns: 3000 },
    );
  });
});

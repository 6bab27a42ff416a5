// The per-target releases and what each haproxy release reads: the facts the renderer and the
// version-matrix checks decide by.
import { describe, expect, it } from "vitest";
import { IMAGES } from "../../src/render/images.js";
import { renderHaproxy } from "../../src/render/haproxy.js";
import { atLeast, CONTAINER_RELEASES, haproxyKeywordsBeyond, targetReleases } from "../../src/spec/releases.js";
import { OS_FACTS, TARGET_OSES } from "../../src/spec/targets.js";
import { examplePlan } from "../helpers/plan.js";

describe("releases", () => {
  it("compares releases part by part, as many parts as the minimum has", () => {
    expect(atLeast("2.0.0", "2.0")).toBe(true);
    expect(atLeast("2.0.19", "2.2")).toBe(false);
    expect(atLeast("2.10.0", "2.4")).toBe(true);
    expect(atLeast("2.2.4", "2.2.7")).toBe(false);
    expect(atLeast("2.2.8", "2.2.7")).toBe(true);
    expect(atLeast("3.5-dev5", "3.5")).toBe(true);
    expect(atLeast("3.5-dev5", "3.6")).toBe(false);
  });

  it("a target's configs are read by its OS packages, or by the pinned images on container targets", () => {
    for (const os of TARGET_OSES) {
      expect(targetReleases({ os, services: "static-pods" })).toEqual(CONTAINER_RELEASES);
    }
    expect(targetReleases({ os: "ubuntu-20.04", services: "systemd" })).toEqual({
      haproxy: "2.0",
      keepalived: "2.0.19",
    });
    expect(targetReleases({ os: "ubuntu-22.04", services: "systemd" })).toEqual({
      haproxy: OS_FACTS["ubuntu-22.04"].haproxy,
      keepalived: OS_FACTS["ubuntu-22.04"].keepalived,
    });
    expect(targetReleases({ os: "fcos", services: "systemd" })).toEqual(CONTAINER_RELEASES);
    // the images render/images.ts pins are the releases named here
    expect(IMAGES.haproxy.ref).toContain(`:${CONTAINER_RELEASES.haproxy}.`);
    expect(IMAGES.keepalived.ref).toMatch(new RegExp(`:${CONTAINER_RELEASES.keepalived.replace(/\./g, "\\.")}$`));
  });

  it("finds the keywords newer than a release, with their line", () => {
    const config =
      "backend b\n    option httpchk\n    http-check send meth GET uri /healthz\n    # http-check connect ssl\n";
    expect(haproxyKeywordsBeyond(config, "2.0")).toEqual([{ keyword: "http-check send", since: "2.2", line: 3 }]);
    expect(haproxyKeywordsBeyond(config, "2.2")).toEqual([]);
  });

  it("the rendered haproxy.cfg uses nothing newer than the oldest target's haproxy 2.0", () => {
    expect(haproxyKeywordsBeyond(renderHaproxy(examplePlan("two-masters.yaml")), "2.0")).toEqual([]);
  });

  it("the renderer refuses to emit a keyword its target's haproxy lacks", () => {
    const plan = examplePlan("two-masters.yaml");
    // a target whose haproxy predates 'option httpchk' with 'http-check expect' is not one we have: pretend
    const old = { ...plan, target: { ...plan.target, releases: { ...plan.target.releases, haproxy: "1.4" } } };
    expect(() => renderHaproxy(old)).toThrow(/http-check expect.*haproxy 1\.5\+.*runs haproxy 1\.4/);
  });
});

// The Ignition configs handed to the real ignition-validate (Debian's 2.14), and the Ubuntu
// static-pod user-data to cloud-init: every example under every target, through the CLI for the
// Ignition examples, and each adapter made to fail on a broken file.
import { join } from "node:path";
import { isIgnitionOs } from "../../src/spec/targets.js";
import { describe, expect, it } from "vitest";
import type { Artifact } from "../../src/render/artifact.js";
import { FILE_CHECKS } from "../../src/tools/file-checks.js";
import { runFileChecks } from "../../src/tools/run-checks.js";
import { EXAMPLES, runCli } from "../helpers/cli.js";
import { EXAMPLE_ENV, examplePlan } from "../helpers/plan.js";
import { randomSpec } from "../helpers/random-spec.js";
import { haveTools } from "../helpers/tools.js";
import { compile, EXAMPLE_FILES, retarget, TARGETS } from "./helpers.js";

const IGNITION = FILE_CHECKS.filter((c) => c.program === "ignition-validate");
const CLOUD_INIT = FILE_CHECKS.filter((c) => c.program === "cloud-init");

describe.skipIf(!haveTools("ignition-validate"))("ignition-validate", () => {
  for (const { os, services } of TARGETS.filter((t) => isIgnitionOs(t.os))) {
    it(`accepts, without a warning, every example's configs for ${os} with ${services}`, async () => {
      let count = 0;
      for (const example of EXAMPLE_FILES) {
        const { plan, artifacts } = compile(retarget(example, os, services));
        const { verdicts, missing } = await runFileChecks(plan, artifacts, IGNITION);
        expect(missing).toEqual([]);
        expect(verdicts).toHaveLength(plan.nodes.length);
        for (const v of verdicts)
          expect(v, `${example} ${v.node}: ${v.output}`).toMatchObject({ ok: true, output: "" });
        count += verdicts.length;
      }
      expect(count).toBeGreaterThanOrEqual(EXAMPLE_FILES.length * 2);
    });
  }

  for (const example of ["fcos.yaml", "flatcar-static-pods.yaml"]) {
    it.skipIf(!haveTools("haproxy", "keepalived", "shellcheck", "packer"))(
      `validate --tools required passes for examples/${example}`,
      async () => {
        const result = await runCli(["validate", join(EXAMPLES, example), "--tools", "required", "--format", "json"], {
          env: EXAMPLE_ENV,
        });
        expect(result.code, result.stdout + result.stderr).toBe(0);
        const doc = JSON.parse(result.stdout);
        expect(doc.tools.missing).toEqual([]);
        const nodes = examplePlan(example).nodes.length;
        expect(doc.tools.verdicts.filter((v: { tool: string }) => v.tool === "ignition-validate")).toHaveLength(nodes);
        expect(doc.tools.verdicts.some((v: { tool: string }) => v.tool === "cloud-init")).toBe(false);
        for (const v of doc.tools.verdicts) expect(v, JSON.stringify(v)).toMatchObject({ ok: true, output: "" });
      },
    );
  }

  it("accepts the configs of 60 random specs on every Ignition target", async () => {
    let count = 0;
    for (let seed = 1; seed <= 60; seed++) {
      const spec = randomSpec(seed);
      const os = seed % 2 === 0 ? "fcos" : "flatcar";
      spec.spec.target = { os, services: seed % 3 === 0 ? "static-pods" : "systemd" };
      spec.spec.firewall = { enabled: false };
      delete spec.spec.installPackages;
      // an unprivileged haproxy cannot bind below 1024 (a finding of its own, tested elsewhere)
      if (spec.spec.loadBalancer.port < 1024)
        spec.spec.loadBalancer.port += spec.spec.apiserver.port === spec.spec.loadBalancer.port + 1024 ? 1025 : 1024;
      const { plan, artifacts } = compile(spec);
      const { verdicts } = await runFileChecks(plan, artifacts, IGNITION);
      for (const v of verdicts) expect(v.ok, `random spec ${seed} (${os}), node ${v.node}: ${v.output}`).toBe(true);
      count += verdicts.length;
    }
    expect(count).toBeGreaterThanOrEqual(60);
  }, 120_000);

  // Each breakage is something ignition-validate must catch: an error (exit 1), or only a warning
  // (exit 0), which the adapter counts as a failure all the same.
  const breakages: Array<[string, (ign: any) => void, RegExp]> = [
    [
      "a spec version Debian's 2.14 cannot read",
      (ign) => (ign.ignition.version = "3.4.0"),
      /unsupported config version/,
    ],
    ["a mode written as an octal string", (ign) => (ign.storage.files[2].mode = "0640"), /mode|cannot unmarshal/i],
    ["a relative path", (ign) => (ign.storage.files[0].path = "etc/hostname"), /path not absolute/],
    [
      "an enabled unit without [Install] (only a warning)",
      (ign) => (ign.systemd.units[0].contents = ign.systemd.units[0].contents.replace(/\[Install\][^]*$/, "")),
      /no install section/,
    ],
  ];
  for (const [what, mutate, complaint] of breakages) {
    it(`rejects ${what}`, async () => {
      const { plan, artifacts } = compile(retarget("two-masters.yaml", "fcos", "systemd"));
      const target = `nodes/${plan.nodes[0]!.name}/config.ign`;
      const broken: Artifact[] = artifacts.map((a) => {
        if (a.path !== target) return a;
        const ign = JSON.parse(String(a.contents));
        mutate(ign);
        return { ...a, contents: JSON.stringify(ign, null, 2) };
      });
      const { verdicts } = await runFileChecks(plan, broken, IGNITION);
      const failed = verdicts.filter((v) => !v.ok);
      expect(failed.map((v) => v.node)).toEqual([plan.nodes[0]!.name]);
      expect(failed[0]!.output).toMatch(complaint);
    });
  }
});

describe.skipIf(!haveTools("cloud-init"))("cloud-init with static pods", () => {
  it("accepts every example's user-data and network-config for Ubuntu static pods", async () => {
    for (const example of EXAMPLE_FILES) {
      const { plan, artifacts } = compile(retarget(example, "ubuntu-20.04", "static-pods"));
      const { verdicts } = await runFileChecks(plan, artifacts, CLOUD_INIT);
      expect(verdicts).toHaveLength(plan.nodes.length * 2);
      for (const v of verdicts) expect(v, `${example} ${v.node} ${v.file}: ${v.output}`).toMatchObject({ ok: true });
    }
  }, 300_000);
});

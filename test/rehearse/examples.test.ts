// The two examples pass every scenario in a real lab, one right after the other (the second run
// also proves the first left nothing in its way), and leave nothing behind.
import { describe, expect, it } from "vitest";
import { rehearse, type RehearseResult } from "../../src/rehearse/index.js";
import { SCENARIO_IDS } from "../../src/rehearse/scenarios.js";
import { planOfFile } from "../helpers/plan.js";
import { canRehearse, expectNothingLeft, LAB_TIMEOUT, logLines } from "./helpers.js";

const ok = canRehearse();

const ALL = [...SCENARIO_IDS];

function expectEveryScenarioPasses(result: RehearseResult): void {
  expect(result.scenarios.map((s) => s.id)).toEqual(ALL);
  // the failing scenarios with their details, so a failure explains itself
  expect(result.scenarios.filter((s) => s.verdict !== "pass")).toEqual([]);
  expect(result.passed).toBe(true);
}

describe.sequential("rehearse the examples", () => {
  it.skipIf(!ok)(
    "examples/two-masters.yaml: every scenario passes and the lab is gone afterwards",
    async () => {
      const { log } = logLines();
      const result = await rehearse({ plan: await planOfFile("examples/two-masters.yaml"), log });
      expectEveryScenarioPasses(result);
      const byId = Object.fromEntries(result.scenarios.map((s) => [s.id, s]));
      expect(byId["start"]!.detail).toMatch(/^master01 took the VIP/);
      expect(byId["keepalived-stop"]!.detail).toMatch(/moved to master02/);
      expect(byId["keepalived-restore"]!.detail).toMatch(/returned to master01/);
      // the goal for the defaults (issue 6): under 5 s after keepalived stops, 10 s after haproxy stops
      expect(byId["keepalived-stop"]!.seconds).toBeLessThan(5);
      expect(byId["haproxy-stop"]!.seconds).toBeLessThan(10);
      // the hard faults: the VIP moves without a farewell advert, and after every heal one holder remains
      expect(byId["apiserver-down"]!.detail).toMatch(/marked down by haproxy after .* VIP stayed on master01/);
      expect(byId["keepalived-killed"]!.detail).toMatch(
        /master02 took the VIP .* the client's ARP entry points at master02/,
      );
      expect(byId["link-cut"]!.detail).toMatch(/master02 took the VIP/);
      expect(byId["partition"]!.detail).toMatch(/master02 claimed the VIP/);
      expect(byId["partition-heal"]!.detail).toMatch(/master01 alone holds the VIP/);
      // haproxy runs but reaches no apiserver: only the health check's weight can move the VIP
      expect(byId["backends-cut"]!.detail).toMatch(/master02 took the VIP .* answers again/);
      expect(byId["backends-cut-heal"]!.detail).toMatch(/master01 alone holds the VIP/);
      expect(result.sampling.overlaps.filter((o) => !o.expected && o.samples >= 2)).toEqual([]);
      // only paths differ from the VMs: the check script in keepalived.conf (both checks), and the pid files
      expect(new Set(result.rewrites.map((r) => r.where))).toEqual(
        new Set(["keepalived.conf:12", "keepalived.conf:22", "keepalived -p", "keepalived -r", "haproxy -p"]),
      );
      for (const r of result.rewrites)
        expect(r.lab.startsWith(result.lab.dir) || r.lab.includes(`"${result.lab.dir}/`)).toBe(true);
      expect(result.sampling.samples).toBeGreaterThan(100);
      expectNothingLeft(result.lab);
    },
    LAB_TIMEOUT,
  );

  it.skipIf(!ok)(
    "examples/three-node-unicast.yaml (3 nodes, unicast), right after: every scenario passes",
    async () => {
      const plan = await planOfFile("examples/three-node-unicast.yaml");
      expect(plan.vrrp.unicast).toBe(true);
      expect(plan.nodes).toHaveLength(3);
      const { log } = logLines();
      const result = await rehearse({ plan, log });
      expectEveryScenarioPasses(result);
      const byId = Object.fromEntries(result.scenarios.map((s) => [s.id, s]));
      // cp2 has the next priority (140): it takes over, not cp3 (130)
      expect(byId["keepalived-stop"]!.detail).toMatch(/moved to cp2/);
      expect(byId["haproxy-stop"]!.detail).toMatch(/moved to cp2/);
      expectNothingLeft(result.lab);
    },
    LAB_TIMEOUT,
  );

  it.skipIf(!ok)(
    "sub-second adverts (VRRP v3, advertInterval 0.5): every scenario passes with the rendered vrrp_version 3",
    async () => {
      const plan = await planOfFile("test/fixtures/fast-adverts.yaml");
      expect(plan.vrrp.advertInterval).toBe(0.5);
      const { log } = logLines();
      const result = await rehearse({ plan, log });
      expectEveryScenarioPasses(result);
      expectNothingLeft(result.lab);
    },
    LAB_TIMEOUT,
  );
});

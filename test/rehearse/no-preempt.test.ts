// preempt: false — the VIP moves away from a failing node (weight 0 puts it into FAULT) and stays
// where it went when the node recovers.
import { describe, expect, it } from "vitest";
import { rehearse } from "../../src/rehearse/index.js";
import { canRehearse, expectNothingLeft, LAB_TIMEOUT, logLines } from "./helpers.js";
import { planOfFile } from "../helpers/plan.js";

const ok = canRehearse();

describe("rehearse with preempt: false", () => {
  it.skipIf(!ok)(
    "the VIP moves on failure and stays when the first holder returns",
    async () => {
      const plan = await planOfFile("test/fixtures/no-preempt.yaml");
      expect(plan.healthCheck.weight).toBe(0);
      const { log } = logLines();
      // the hard faults are proven with the examples; this test is about preempt: false
      const result = await rehearse({ plan, log, faults: false });
      expect(result.scenarios.filter((s) => s.verdict !== "pass")).toEqual([]);
      const byId = Object.fromEntries(result.scenarios.map((s) => [s.id, s]));
      // all nodes start as BACKUP, so which one comes up first decides the first holder
      const first = result.holders.find((change) => change.holders.length === 1)!.holders[0]!;
      const second = first === "master01" ? "master02" : "master01";
      expect(byId["keepalived-restore"]!.title).toMatch(/stays/);
      expect(byId["keepalived-stop"]!.detail).toMatch(`moved to ${second}`);
      expect(byId["keepalived-restore"]!.detail).toMatch(`stayed on ${second}`);
      expect(byId["haproxy-stop"]!.detail).toMatch(`moved to ${first}`);
      expect(byId["haproxy-restore"]!.detail).toMatch(`stayed on ${first}`);
      expectNothingLeft(result.lab);
    },
    LAB_TIMEOUT,
  );
});

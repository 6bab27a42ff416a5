import { describe, expect, it } from "vitest";
import { autoWeight, resolvePriorities, weightProblem } from "../../src/spec/failover.js";

describe("priorities", () => {
  it("descend from the first node when none is given", () => {
    expect(resolvePriorities([{}, {}])).toEqual([101, 100]);
    expect(resolvePriorities([{}, {}, {}])).toEqual([102, 101, 100]);
  });
  it("are taken as given when every node has one", () => {
    expect(resolvePriorities([{ priority: 10 }, { priority: 200 }])).toEqual([10, 200]);
  });
});

describe("health-check weight", () => {
  it("auto drops an unhealthy node below every healthy one", () => {
    for (const priorities of [
      [101, 100],
      [150, 140, 130],
      [254, 1],
      [7, 9, 8],
    ]) {
      const w = autoWeight(priorities, true);
      const max = Math.max(...priorities);
      const others = priorities.filter((p) => p !== max);
      expect(max + w).toBeLessThan(Math.min(...others));
      expect(weightProblem(priorities, w, true)).toBeUndefined();
    }
  });
  it("auto is 0 (FAULT) without preempt, and for a single node", () => {
    expect(autoWeight([101, 100], false)).toBe(0);
    expect(autoWeight([100], true)).toBe(0);
  });
  it("rejects the recipe's 200/100 with -2 and says why", () => {
    expect(weightProblem([200, 100], -2, true)).toMatch(
      /lowers priority 200 by 2 to 198, still at or above priority 100: the VIP never moves/,
    );
  });
  it("rejects a weight equal to the spread (the nodes would tie)", () => {
    expect(weightProblem([110, 100], -10, true)).toMatch(/must be greater than 10/);
    expect(weightProblem([110, 100], -11, true)).toBeUndefined();
  });
  it("rejects any negative weight with nopreempt, accepts 0", () => {
    expect(weightProblem([101, 100], -200, false)).toMatch(/nopreempt/);
    expect(weightProblem([101, 100], 0, false)).toBeUndefined();
  });
});

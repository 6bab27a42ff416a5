// The pure pieces of the lab: names that fit Linux's limits, the client's address, reading the
// VIP holder out of fib_trie, and which node the spec means to hold the VIP.
import { describe, expect, it } from "vitest";
import type { ClusterPlan } from "../../src/plan/plan.js";
import { clientAddress, labNames } from "../../src/rehearse/names.js";
import { fibTrieHolds } from "../../src/rehearse/observe.js";
import { expectedHolder } from "../../src/rehearse/scenarios.js";
import { planOfFile } from "../helpers/plan.js";

const FIB_TRIE = `Main:
  +-- 0.0.0.0/0 3 0 5
     +-- 10.0.2.0/24 2 0 2
        |-- 10.0.2.10
           /32 host LOCAL
        |-- 10.0.2.100
           /32 host LOCAL
        |-- 10.0.2.255
           /32 link BROADCAST
Local:
`;

function withNodes(
  plan: ClusterPlan,
  nodes: Array<[string, string, number]>,
  vip = plan.vip,
  prefixLength = plan.network.prefixLength,
): ClusterPlan {
  return {
    ...plan,
    vip,
    network: { ...plan.network, prefixLength },
    nodes: nodes.map(([name, address, priority]) => ({ name, address, priority, state: "BACKUP", peers: [] })),
  };
}

describe("lab pieces", () => {
  it("names link ends within 15 characters and namespaces by lab", async () => {
    const plan = await planOfFile("examples/three-node-unicast.yaml");
    const names = labNames(plan, "abc123");
    expect(names.bridgeNetns).toBe("k8s-ha-abc123-lan");
    expect(names.nodes.map((n) => n.netns)).toEqual(["k8s-ha-abc123-cp1", "k8s-ha-abc123-cp2", "k8s-ha-abc123-cp3"]);
    for (const link of [names.bridge, ...names.nodes.map((n) => n.bridgePort)])
      expect(link.length).toBeLessThanOrEqual(15);
    expect(labNames(plan).id).not.toBe(labNames(plan).id);
  });

  it("gives the client the highest free address of the subnet", async () => {
    const plan = await planOfFile("test/fixtures/fast-adverts.yaml");
    expect(clientAddress(plan)).toBe("10.0.2.254");
    expect(clientAddress(withNodes(plan, [["a", "10.0.2.254", 101]]))).toBe("10.0.2.253");
    // never the network or broadcast address
    expect(clientAddress(withNodes(plan, [["a", "10.0.2.1", 101]], "10.0.2.2", 29))).toBe("10.0.2.6");
    expect(() => clientAddress(withNodes(plan, [["a", "10.0.2.1", 101]], "10.0.2.2", 30))).toThrow(/no free address/);
  });

  it("reads the VIP's holder from fib_trie: a local /32 entry, nothing else", () => {
    expect(fibTrieHolds(FIB_TRIE, "10.0.2.100")).toBe(true);
    expect(fibTrieHolds(FIB_TRIE, "10.0.2.10")).toBe(true);
    expect(fibTrieHolds(FIB_TRIE, "10.0.2.255")).toBe(false);
    expect(fibTrieHolds(FIB_TRIE, "10.0.2.1")).toBe(false);
    expect(fibTrieHolds(FIB_TRIE.replace("|-- 10.0.2.100\n           /32 host LOCAL\n", ""), "10.0.2.100")).toBe(false);
  });

  it("expects the highest priority to hold the VIP, ties to the higher address as in VRRP", async () => {
    const plan = await planOfFile("examples/two-masters.yaml");
    expect(expectedHolder(plan)).toBe("master01");
    expect(
      expectedHolder(
        withNodes(plan, [
          ["a", "10.0.2.10", 100],
          ["b", "10.0.2.11", 150],
        ]),
      ),
    ).toBe("b");
    expect(
      expectedHolder(
        withNodes(plan, [
          ["a", "10.0.2.10", 100],
          ["b", "10.0.2.9", 100],
        ]),
      ),
    ).toBe("a");
  });
});

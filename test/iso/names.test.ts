// Plain ISO 9660 names (Level 1) and record order, without any reader.
import { describe, expect, it } from "vitest";
import { assignIsoNames, compareIdentifiers } from "../../src/iso/names.js";
import type { DirNode, TreeNode } from "../../src/iso/types.js";

function dirOf(names: string[], kinds: Record<string, "dir"> = {}): DirNode {
  const children: TreeNode[] = names.map((name) =>
    kinds[name] === "dir"
      ? { kind: "dir", name, path: name, children: [], isoId: "", jolietId: "" }
      : { kind: "file", name, path: name, size: 0, mode: 0o644, source: new Uint8Array(0), isoId: "", jolietId: "" },
  );
  return { kind: "dir", name: "", path: "", children, isoId: "", jolietId: "" };
}

const idsOf = (names: string[], kinds?: Record<string, "dir">): string[] => {
  const dir = dirOf(names, kinds);
  assignIsoNames(dir);
  return dir.children.map((c) => c.isoId);
};

describe("Level 1 identifiers", () => {
  it.each([
    ["user-data", "USER_DAT.;1"],
    ["meta-data", "META_DAT.;1"],
    ["network-config", "NETWORK_.;1"],
    ["check_apiserver.sh", "CHECK_AP.SH;1"],
    ["haproxy.cfg", "HAPROXY.CFG;1"],
    ["archive.tar.gz", "ARCHIVE_.GZ;1"],
    [".profile", "_PROFILE.;1"],
    ["trailing.", "TRAILING.;1"],
    ["ünïcode.yaml", "_N_CODE.YAM;1"],
  ])("%s -> %s", (name, id) => {
    expect(idsOf([name])).toEqual([id]);
  });

  it("directories get 8 d-characters and no separator or version", () => {
    expect(idsOf(["nodes.d"], { "nodes.d": "dir" })).toEqual(["NODES_D"]);
  });

  it("numbers collisions in sorted order, keeping 8 characters", () => {
    expect(idsOf(["user-data", "user_data", "user.data", "USER-DATA"])).toEqual([
      "USER_DAT.;1",
      "USER_DA1.;1",
      "USER.DAT;1",
      "USER_DA2.;1",
    ]);
    const many = Array.from({ length: 12 }, (_, i) => `same-name-${String(i).padStart(2, "0")}`);
    const ids = idsOf(many);
    expect(new Set(ids).size).toBe(12);
    expect(ids[10]).toBe("SAME_N10.;1");
  });

  it("treats a file and a directory with the same visible name as a collision", () => {
    expect(idsOf(["conf", "conf."], { conf: "dir" })).toEqual(["CONF", "CONF1.;1"]);
  });
});

describe("ECMA-119 §9.3 record order", () => {
  it("pads names with spaces before comparing, then extensions", () => {
    const ids = ["AB.;1", "A.Z;1", "A.;1", "A_.;1", "B"];
    expect([...ids].sort(compareIdentifiers)).toEqual(["A.;1", "A.Z;1", "AB.;1", "A_.;1", "B"]);
  });

  it("orders Joliet names by UCS-2 code units", () => {
    expect(["user_data", "user-data", "meta-data", "Z"].sort(compareIdentifiers)).toEqual([
      "Z",
      "meta-data",
      "user-data",
      "user_data",
    ]);
  });
});

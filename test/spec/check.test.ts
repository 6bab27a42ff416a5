// Semantic checks on specs parsed in-process: where each finding points and what it says.
import { describe, expect, it } from "vitest";
import { checkSpecText } from "../../src/spec/index.js";
import { formatPath } from "../../src/spec/findings.js";
import { specYaml } from "../helpers/specs.js";

function check(mutate: (s: Record<string, any>) => void, env: Record<string, string> = {}) {
  const result = checkSpecText("spec.yaml", specYaml(mutate), env);
  return { ...result, at: result.findings.map((f) => `${f.severity} ${formatPath(f.path)} ${f.message}`) };
}

describe("checkSpec", () => {
  it("accepts the base spec with warnings about PASS auth and Ubuntu 20.04's end of standard support", () => {
    const r = check(() => {});
    expect(r.spec).toBeDefined();
    expect(r.at).toEqual([
      expect.stringMatching(/^warning spec\.vrrp\.authPass .*plain text/),
      expect.stringMatching(/^warning spec\.target\.os Ubuntu 20\.04 left standard support in May 2025/),
    ]);
    expect(check((s) => (s.spec.target = { os: "ubuntu-24.04" })).at).toEqual([
      expect.stringMatching(/^warning spec\.vrrp\.authPass /),
    ]);
  });

  it("warns that the VirtualBox build cannot bake Debian 12, and not for the qemu build", () => {
    expect(check((s) => (s.spec.target = { os: "debian-12" })).at).toContainEqual(
      expect.stringMatching(/^warning spec\.image\.builder build-image bakes Debian 12 only with the qemu builder/),
    );
    const qemu = check((s) => {
      s.spec.target = { os: "debian-12" };
      s.spec.image = { builder: "qemu" };
    });
    expect(qemu.at).toEqual([expect.stringMatching(/^warning spec\.vrrp\.authPass /)]);
    expect(qemu.spec!.spec.image.builder).toBe("qemu");
    expect(check(() => {}).spec!.spec.image.builder).toBe("virtualbox");
  });

  it("applies every default of DESIGN.md", () => {
    const { spec } = check((s) => {
      delete s.spec.vrrp;
      delete s.spec.apiserver;
      delete s.spec.loadBalancer;
    });
    expect(spec!.spec.apiserver.port).toBe(6443);
    expect(spec!.spec.loadBalancer).toEqual({ port: 1644, balance: "roundrobin" });
    expect(spec!.spec.vrrp).toEqual({ virtualRouterId: 51, advertInterval: 1, unicast: false, preempt: true });
    expect(spec!.spec.healthCheck).toEqual({ interval: 2, fall: 3, rise: 2, weight: "auto" });
    expect(spec!.spec.firewall).toEqual({ enabled: true, allowSsh: true, allow: [] });
    expect(spec!.spec.image.name).toBe("k8s-ha-ubuntu-20.04");
  });

  it("collects every finding instead of stopping at the first", () => {
    const r = check((s) => {
      s.spec.nodes[1].address = "10.0.9.9";
      s.spec.loadBalancer.port = 6443;
      s.spec.vrrp.unicast = true;
      s.spec.nodes[0].name = s.spec.nodes[1].name;
    });
    expect(r.spec).toBeUndefined();
    expect(r.findings.filter((f) => f.severity === "error").map((f) => formatPath(f.path))).toEqual([
      "spec.nodes[1].address",
      "spec.nodes[1].name",
      "spec.loadBalancer.port",
    ]);
  });

  it("keeps the parsed spec when only semantic checks fail (rehearse --accept-invalid)", () => {
    const r = check((s) => {
      s.spec.nodes[0].priority = 200;
      s.spec.nodes[1].priority = 100;
      s.spec.healthCheck = { weight: -2 };
    });
    expect(r.spec).toBeUndefined();
    expect(r.parsed?.spec.healthCheck.weight).toBe(-2);
  });

  it("reads authPassEnv from the environment it is given", () => {
    expect(check((s) => (s.spec.vrrp = { authPassEnv: "P" }), { P: "abc" }).spec).toBeDefined();
    expect(check((s) => (s.spec.vrrp = { authPassEnv: "P" }), { P: "" }).at.join()).toMatch(/P is not set or empty/);
    expect(check((s) => (s.spec.vrrp = { authPassEnv: "P" }), { P: "a b" }).at.join()).toMatch(/cannot carry safely/);
  });

  it("accepts a /30 with two nodes and the VIP, and rejects a third address", () => {
    const ok = check((s) => {
      s.spec.network = { interface: "eth0", prefixLength: 29 };
      s.spec.vip = "10.0.0.6";
      s.spec.nodes = [
        { name: "a", address: "10.0.0.1" },
        { name: "b", address: "10.0.0.2" },
      ];
    });
    expect(ok.spec).toBeDefined();
    const bad = check((s) => {
      s.spec.network = { interface: "eth0", prefixLength: 29 };
      s.spec.vip = "10.0.0.6";
      s.spec.nodes = [
        { name: "a", address: "10.0.0.1" },
        { name: "b", address: "10.0.0.7" },
      ];
    });
    expect(bad.at.join("\n")).toMatch(
      /spec\.nodes\[1\]\.address 10\.0\.0\.7 is the broadcast address of 10\.0\.0\.0\/29/,
    );
  });

  it("points at the line of the offending value", () => {
    const text = specYaml((s) => (s.spec.nodes[1].address = "10.1.1.1"));
    const r = checkSpecText("spec.yaml", text, {});
    const finding = r.findings.find((f) => f.severity === "error")!;
    expect(text.split("\n")[finding.line - 1]).toContain("10.1.1.1");
  });
});

// spec.kubernetes: defaults, accepted ranges and the subnet arithmetic behind the checks.
import { describe, expect, it } from "vitest";
import { canonicalCidr, cidrsOverlap, parseCidr } from "../../src/spec/cidr.js";
import { formatPath } from "../../src/spec/findings.js";
import { checkSpecText } from "../../src/spec/index.js";
import { kubeadmApiVersion } from "../../src/spec/kubernetes.js";
import { specYaml } from "../helpers/specs.js";

function check(kubernetes: Record<string, unknown> | undefined) {
  const r = checkSpecText(
    "spec.yaml",
    specYaml((s) => (s.spec.kubernetes = kubernetes)),
    {},
  );
  return {
    ...r,
    errors: r.findings.filter((f) => f.severity === "error").map((f) => `${formatPath(f.path)} ${f.message}`),
  };
}

describe("spec.kubernetes", () => {
  it("is optional, and defaults criSocket to containerd's and bootstrap to off", () => {
    expect(check(undefined).spec!.spec.kubernetes).toBeUndefined();
    expect(check({ version: "1.31.4" }).spec!.spec.kubernetes).toEqual({
      version: "1.31.4",
      criSocket: "unix:///var/run/containerd/containerd.sock",
      bootstrap: "off",
    });
  });

  it("accepts 1.28 to 1.36 and nothing outside", () => {
    for (const version of ["1.28.0", "1.30.14", "1.31.4", "1.36.2"])
      expect(check({ version }).errors, version).toEqual([]);
    for (const version of ["1.27.16", "1.37.0"])
      expect(check({ version }).errors.join(), version).toMatch(
        /is not supported: k8s-ha renders kubeadm configs for 1\.28 to 1\.36/,
      );
    for (const version of ["1.31", "1.31.4-rc.1", "2.0.0.0", "1.031.4"])
      expect(check({ version }).errors.join(), version).toMatch(/must be a Kubernetes release/);
  });

  it("speaks v1beta3 up to 1.30 and v1beta4 from 1.31", () => {
    expect(kubeadmApiVersion(30)).toBe("kubeadm.k8s.io/v1beta3");
    expect(kubeadmApiVersion(31)).toBe("kubeadm.k8s.io/v1beta4");
  });

  it("checks the subnets against each other, the nodes' subnet and the sizes Kubernetes accepts", () => {
    expect(check({ version: "1.31.4", podSubnet: "10.244.0.0/16", serviceSubnet: "10.96.0.0/12" }).errors).toEqual([]);
    expect(check({ version: "1.31.4", podSubnet: "10.0.2.128/25" }).errors.join()).toMatch(
      /overlaps the nodes' subnet/,
    );
    expect(check({ version: "1.31.4", podSubnet: "10.244.0.0/24" }).errors.join()).toMatch(/every node takes a \/24/);
    expect(check({ version: "1.31.4", serviceSubnet: "172.0.0.0/11" }).errors.join()).toMatch(
      /\/11 is larger than the kube-apiserver accepts/,
    );
    expect(check({ version: "1.31.4", podSubnet: "10.96.0.0/16", serviceSubnet: "10.96.0.0/12" }).errors).toEqual([
      expect.stringMatching(/^spec\.kubernetes\.serviceSubnet .*overlaps podSubnet/),
    ]);
    expect(check({ version: "1.31.4", podSubnet: "10.244.0.1/16" }).errors.join()).toMatch(/host bits set/);
  });

  it("warns that init-first needs the golden image when packages come from apt", () => {
    const r = check({ version: "1.31.4", bootstrap: "init-first" });
    expect(r.errors).toEqual([]);
    expect(r.findings.map((f) => f.message).join()).toMatch(/bootstrap: init-first needs kubeadm on the image/);
  });
});

describe("CIDR arithmetic", () => {
  it("parses strictly and finds overlaps both ways", () => {
    expect(parseCidr("10.244.0.0/16")).toEqual({ address: "10.244.0.0", prefixLength: 16 });
    for (const bad of ["10.244.0.0", "10.244.0.0/33", "10.244.0.0/016", "10.244.0/16", "/16"])
      expect(parseCidr(bad), bad).toBeUndefined();
    expect(canonicalCidr(parseCidr("10.244.7.9/16")!)).toBe("10.244.0.0/16");
    expect(cidrsOverlap(parseCidr("10.96.0.0/12")!, parseCidr("10.100.0.0/16")!)).toBe(true);
    expect(cidrsOverlap(parseCidr("10.100.0.0/16")!, parseCidr("10.96.0.0/12")!)).toBe(true);
    expect(cidrsOverlap(parseCidr("10.244.0.0/16")!, parseCidr("10.96.0.0/12")!)).toBe(false);
  });
});

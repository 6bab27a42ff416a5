// spec.target: the default changes nothing, each target renders its own files, the combinations
// that cannot work are findings with a hint, and validate --tools looks only for the programs
// whose files the target renders.
import { isIgnitionOs } from "../../src/spec/targets.js";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { renderNodes } from "../../src/render/index.js";
import { checkSpecText } from "../../src/spec/index.js";
import { applicableChecks, FILE_CHECKS } from "../../src/tools/file-checks.js";
import { runFileChecks } from "../../src/tools/run-checks.js";
import { examplePlan } from "../helpers/plan.js";
import { baseSpec } from "../helpers/specs.js";
import { compile, EXAMPLE_FILES, retarget, TARGETS } from "./helpers.js";

describe("the default target", () => {
  it.each(["two-masters.yaml", "three-node-unicast.yaml"])(
    "renders examples/%s byte for byte as before, written or not",
    (example) => {
      const written = retarget(example, "ubuntu-20.04", "systemd");
      const omitted = structuredClone(written);
      delete omitted.spec.target;
      expect(compile(written).artifacts).toEqual(compile(omitted).artifacts);
      expect(compile(omitted).plan.target).toEqual({
        os: "ubuntu-20.04",
        services: "systemd",
        provisioning: "cloud-init",
        runner: "packages",
        network: "netplan",
        releases: { haproxy: "2.0", keepalived: "2.0.19" },
      });
    },
  );
});

describe("each target renders its own files", () => {
  for (const { os, services } of TARGETS) {
    it(`${os}, ${services}`, () => {
      for (const example of EXAMPLE_FILES) {
        const { plan, artifacts } = compile(retarget(example, os, services));
        const names = artifacts
          .filter((a) => a.path.startsWith(`nodes/${plan.nodes[0]!.name}/`))
          .map((a) => a.path.split("/").slice(2).join("/"));
        const provisioning = !isIgnitionOs(os) ? ["user-data", "meta-data", "network-config"] : ["config.ign"];
        const pods =
          services === "static-pods" ? ["files/manifests/keepalived.yaml", "files/manifests/haproxy.yaml"] : [];
        expect(names).toEqual([
          ...provisioning,
          "files/keepalived.conf",
          "files/check_apiserver.sh",
          "files/haproxy.cfg",
          ...pods,
        ]);
        expect(plan.installPackages).toBe(!isIgnitionOs(os) ? plan.installPackages : false);
      }
    });
  }
});

describe("target findings", () => {
  const check = (mutate: (s: Record<string, any>) => void) => {
    const spec = baseSpec();
    mutate(spec);
    return checkSpecText("spec.yaml", stringify(spec), {}).findings.filter(
      (f) =>
        f.path[0] !== "spec" ||
        (f.path[1] !== "vrrp" && f.path[1] !== "image" && f.path.join(".") !== "spec.target.os"),
    ); // those: test/spec/check.test.ts
  };
  const ignitionBase = (os: string) => (s: Record<string, any>) => {
    s.spec.target = { os };
    s.spec.firewall = { enabled: false };
    s.spec.users = [
      {
        name: "core",
        sshAuthorizedKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMQOqA/g+Q2Og5yWI588HYHVroOOL/NjApqNbKN/deM4 t@ci"],
      },
    ];
  };

  it("accepts every OS with either service mode when nothing asks for the impossible", () => {
    for (const { os, services } of TARGETS) {
      const findings = check((s) => {
        if (isIgnitionOs(os)) ignitionBase(os)(s);
        s.spec.target = { os, services };
      });
      expect(findings, `${os} ${services}`).toEqual([]);
    }
  });

  it.each(["fcos", "flatcar"])("%s: no packages, no ufw, core keeps sudo, someone can log in", (os) => {
    const name = os === "fcos" ? "Fedora CoreOS" : "Flatcar Container Linux";
    const at = (f: { path: readonly (string | number)[] }) => f.path.join(".");
    expect(
      check((s) => (ignitionBase(os)(s), (s.spec.installPackages = true))).map((f) => [
        at(f),
        f.severity,
        f.message,
        f.hint,
      ]),
    ).toEqual([
      [
        "spec.installPackages",
        "error",
        expect.stringContaining(`${name} has no apt`),
        expect.stringMatching(/containers .* static pods/),
      ],
    ]);
    expect(check((s) => (ignitionBase(os)(s), (s.spec.installPackages = false)))).toEqual([]);
    expect(check((s) => (ignitionBase(os)(s), (s.spec.firewall = {})))).toMatchObject([
      {
        path: ["spec", "firewall", "enabled"],
        severity: "error",
        message: expect.stringContaining(`${name} has no ufw`),
        hint: expect.stringContaining("enabled: false"),
      },
    ]);
    expect(check((s) => (ignitionBase(os)(s), (s.spec.users[0].sudo = false)))).toMatchObject([
      { path: ["spec", "users", 0, "sudo"], severity: "error" },
    ]);
    expect(check((s) => (ignitionBase(os)(s), (s.spec.users = [])))).toMatchObject([
      {
        path: ["spec", "users"],
        severity: "warning",
        message: expect.stringContaining("nobody can log in"),
        hint: expect.stringContaining("name: core"),
      },
    ]);
  });

  it("refuses an LB port below 1024 wherever haproxy runs in its unprivileged container", () => {
    for (const { os, services } of TARGETS) {
      const findings = check((s) => {
        if (isIgnitionOs(os)) ignitionBase(os)(s);
        s.spec.target = { os, services };
        s.spec.loadBalancer.port = 443;
      });
      const containers = isIgnitionOs(os) || services === "static-pods";
      expect(
        findings.map((f) => f.path.join(".")),
        `${os} ${services}`,
      ).toEqual(containers ? ["spec.loadBalancer.port"] : []);
    }
  });
});

describe("validate --tools on each target", () => {
  it("applies the cloud-init and Packer checks to Ubuntu, ignition-validate to Fedora CoreOS and Flatcar", () => {
    const ubuntu = examplePlan("two-masters.yaml");
    const fcos = examplePlan("fcos.yaml");
    const tools = (plan: typeof ubuntu) => applicableChecks(plan, FILE_CHECKS).map((c) => `${c.tool} ${c.file}`);
    expect(tools(ubuntu)).toEqual([
      "haproxy files/haproxy.cfg",
      "keepalived files/keepalived.conf",
      "shellcheck files/check_apiserver.sh",
      "cloud-init user-data",
      "cloud-init network-config",
      "ufw user-data",
      "packer packer/k8s-ha.pkr.hcl",
    ]);
    expect(tools(fcos)).toEqual([
      "haproxy files/haproxy.cfg",
      "keepalived files/keepalived.conf",
      "shellcheck files/check_apiserver.sh",
      "ignition-validate config.ign",
    ]);
  });

  it("neither looks for nor misses a program that no rendered file needs", async () => {
    const saved = process.env.PATH;
    process.env.PATH = "/nonexistent";
    try {
      for (const [example, absent, present] of [
        ["two-masters.yaml", "ignition-validate", "cloud-init"],
        ["fcos.yaml", "cloud-init", "ignition-validate"],
      ] as const) {
        const plan = examplePlan(example);
        const run = await runFileChecks(
          plan,
          renderNodes(plan),
          FILE_CHECKS.filter((c) => c.program === absent || c.program === present),
        );
        expect(run.missing.concat(Object.keys(run.found))).toEqual([present]);
        expect(run.verdicts).toEqual([]);
      }
    } finally {
      process.env.PATH = saved;
    }
  });
});

// `up`, `down` and `status` refusing what they cannot do: the exit code DESIGN.md fixes, a message
// and a hint, no stack trace, and nothing created (no DIR/up/, no namespace).
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, tempDir } from "../helpers/cli.js";
import { specYaml } from "../helpers/specs.js";
import { haveTools, isRoot } from "../helpers/tools.js";
import { asNobody, nobodysDir, readableCli } from "../helpers/unprivileged.js";
import { labNetns } from "../../src/up/layout.js";

interface Case {
  name: string;
  args: (spec: string, image: string) => string[];
  mutate?: (s: Record<string, any>) => void;
  code: 0 | 2 | 3;
  message: RegExp;
  /** The preflight checks run only as root with qemu installed. */
  needsQemu?: boolean;
}

/** `up` with lab seeds and `--rehearse --faults LIST`. */
const rehearsing = (faults: string) => (spec: string, image: string) => [
  "up",
  spec,
  "--image",
  image,
  "--stand-in-apiserver",
  "--rehearse",
  "--faults",
  faults,
];

const CASES: Case[] = [
  {
    name: "--rehearse without lab seeds",
    args: (spec, image) => ["up", spec, "--image", image, "--rehearse"],
    code: 2,
    message: /add --stand-in-apiserver/,
  },
  {
    name: "--faults without --rehearse",
    args: (spec, image) => ["up", spec, "--image", image, "--faults", "haproxy-stopped"],
    code: 2,
    message: /--faults chooses among the faults of --rehearse[^]*hint: add --rehearse/,
  },
  {
    name: "--faults with an unknown fault",
    args: rehearsing("keepalived-stopped,disk-full"),
    code: 2,
    message:
      /--faults: no fault named "disk-full"[^]*hint: name one or more of keepalived-stopped, haproxy-stopped, holder-powered-off/,
  },
  {
    name: "--faults naming one twice",
    args: rehearsing("haproxy-stopped,haproxy-stopped"),
    code: 2,
    message: /--faults names haproxy-stopped twice/,
  },
  {
    name: "--faults with an empty name",
    args: rehearsing("haproxy-stopped,"),
    code: 2,
    message: /--faults "haproxy-stopped," has an empty name/,
  },
  {
    name: "--memory not a number",
    args: (spec, image) => ["up", spec, "--image", image, "--memory", "lots"],
    code: 2,
    message: /--memory must be a positive whole number/,
  },
  {
    name: "no image record and no --image",
    args: (spec) => ["up", spec],
    code: 3,
    message: /no image record .*images\/k8s-ha-ubuntu-20\.04-0\.1\.0\.json[^]*hint: .*--image PATH/,
  },
  {
    name: "--image missing",
    args: (spec) => ["up", spec, "--image", "/nonexistent/disk.qcow2"],
    code: 3,
    message: /\/nonexistent\/disk\.qcow2 does not exist[^]*hint:/,
    needsQemu: true,
  },
  {
    name: "cluster NIC the qemu provider cannot name",
    mutate: (s) => (s.spec.network.interface = "eth0"),
    args: (spec, image) => ["up", spec, "--image", image],
    code: 2,
    message: /spec\.network\.interface is "eth0"[^]*hint: use enp0s3 … enp0s31/,
    needsQemu: true,
  },
  {
    name: "more memory than the host has",
    args: (spec, image) => ["up", spec, "--image", image, "--memory", "100000000"],
    code: 3,
    message: /2 VM\(s\) of 100000000 MiB need 200000000 MiB[^]*hint: .*--memory/,
    needsQemu: true,
  },
  {
    name: "VirtualBox provider without VBoxManage",
    args: (spec, image) => ["up", spec, "--image", image, "--provider", "virtualbox"],
    code: 3,
    message: /needs VBoxManage, not found on PATH[^]*hint: install VirtualBox/,
  },
  {
    name: "--rehearse with VirtualBox",
    args: (spec, image) => [
      "up",
      spec,
      "--image",
      image,
      "--provider",
      "virtualbox",
      "--stand-in-apiserver",
      "--rehearse",
    ],
    code: 2,
    message: /--rehearse needs the qemu provider/,
  },
  { name: "down with nothing up", args: (spec) => ["down", spec], code: 0, message: /nothing to remove/ },
  { name: "status with nothing up", args: (spec) => ["status", spec], code: 0, message: /no lab/ },
];

const canPreflight = isRoot() && haveTools("qemu-system-x86_64", "qemu-img", "ip", "curl");
/** Whether the namespace `up` would make for this output folder exists (other test files make their own meanwhile). */
const labNamespaceExists = (out: string) =>
  spawnSync("ip", ["netns", "list"], { encoding: "utf8" })
    .stdout.split("\n")
    .some((line) => line.split(" ")[0] === labNetns("lab", out));

describe("up, down and status refuse cleanly", () => {
  let dir = "";
  let cleanup = async () => {};
  let image = "";
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir("k8s-ha-up-cli-"));
    image = join(dir, "image.qcow2");
    await writeFile(image, "not booted in these cases");
  });
  afterAll(() => cleanup());

  for (const c of CASES) {
    it.skipIf(c.needsQemu === true && !canPreflight)(c.name, async () => {
      const spec = join(dir, `${c.name.replace(/\W+/g, "-")}.yaml`);
      await writeFile(spec, specYaml(c.mutate));
      const out = join(dir, `out-${c.name.replace(/\W+/g, "-")}`);
      const result = await runCli([...c.args(spec, image), "-o", out]);
      expect(result.code, result.stderr).toBe(c.code);
      expect(result.stderr).toMatch(c.message);
      expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
      expect(existsSync(join(out, "up"))).toBe(false);
      if (canPreflight) expect(labNamespaceExists(out)).toBe(false);
    });
  }
});

// Without root, `up --provider qemu` makes a rootless lab (qemu's socket network): it refuses
// what it cannot do there, before anything is made. Run as nobody through setpriv.
const canDrop = canPreflight && haveTools("setpriv");

describe.skipIf(!canDrop)("up without root refuses cleanly", () => {
  let cli: ReturnType<typeof readableCli>;
  let home: ReturnType<typeof nobodysDir>;
  let spec = "";
  let image = "";
  beforeAll(async () => {
    cli = readableCli();
    home = nobodysDir("k8s-ha-up-rootless-");
    spec = join(home.dir, "k8s-ha.yaml");
    image = join(home.dir, "image.qcow2");
    await writeFile(spec, specYaml(), { mode: 0o644 });
    await writeFile(image, "not booted in these cases", { mode: 0o644 });
  });
  afterAll(() => {
    cli?.cleanup();
    home?.cleanup();
  });

  const nobody = (args: string[]) => {
    const { program, args: full } = asNobody(cli.bin, args);
    const r = spawnSync(program, full, { encoding: "utf8" });
    return { code: r.status, stderr: r.stderr };
  };

  it("a rootless lab without lab seeds: the host could not see the VIP (exit 3)", () => {
    const out = join(home.dir, "out-no-lab");
    const r = nobody(["up", spec, "--image", image, "-o", out]);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(
      /without root, the lab's cluster network is qemu's socket network on loopback[^]*hint: add --stand-in-apiserver/,
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(out, "up"))).toBe(false);
  });

  it("a lab root made on a bridge: only root may change it (exit 3), its state file untouched", async () => {
    const out = join(home.dir, "out-root-lab");
    const state = {
      version: 1,
      provider: "qemu",
      cluster: "lab",
      vip: "10.0.2.100",
      lbPort: 8443,
      image,
      accel: "tcg",
      labMode: true,
      cpus: 1,
      memoryMiB: 512,
      netns: "k8s-ha-lab-00000000",
      bridge: "k8sha-br0",
      hostAddress: "10.0.2.1",
      prefixLength: 24,
      vms: [],
    };
    const text = `${JSON.stringify(state, null, 2)}\n`;
    await mkdir(join(out, "up"), { recursive: true });
    await writeFile(join(out, "up", "state.json"), text, { mode: 0o644 });
    const r = nobody(["up", spec, "--image", image, "-o", out, "--stand-in-apiserver"]);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/this lab was made by root, on a bridge[^]*hint: run k8s-ha as root for this -o DIR/);
    expect(readFileSync(join(out, "up", "state.json"), "utf8")).toBe(text);
  });
});

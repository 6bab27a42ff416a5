// `k8s-ha up --provider qemu --rehearse` for real (issue 14): a two-node spec on TEST-NET-1
// (192.0.2.0/24) boots the Debian 12 UEFI "cloud image" of the bake test
// (scripts/build-test-cloud-image.sh, cached) under qemu — TCG where KVM is unusable — with lab
// seeds (stand-in apiserver, rehearsal agent). `up` puts its bridge, taps and qemu processes in a
// network namespace of its own; no lab link or address may show in the host's namespace.
// Then: the three faults pass and heal, `up` again changes nothing, `status` sees the holder,
// `down` leaves no process, namespace (so no bridge or tap) or file behind.
//
// The image also carries the boot test's own stand-in apiserver on 6443 (a fixture of
// scripts/build-boot-rootfs.sh): the spec puts the apiserver on 6444, so only the lab seed's
// stand-in can make the checks pass.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, ROOT, runCli, tempDir, type CliResult } from "../helpers/cli.js";
import { specYaml } from "../helpers/specs.js";
import { haveTools, IN_CI, isRoot } from "../helpers/tools.js";
import { runDetached } from "../helpers/vm-boot.js";

const BUILD_SCRIPT = join(ROOT, "scripts/build-test-cloud-image.sh");
const minutes = (n: number) => n * 60_000;
/** Ceilings that only catch a hang; the measured times are in docs/up.md. */
const BUILD_TIMEOUT_MS = minutes(40);
/** `up --timeout`: each wait (the boot, each failover, each heal); K8S_HA_TEST_UP_TIMEOUT for a crowded machine. */
const STEP_TIMEOUT_S = Number(process.env.K8S_HA_TEST_UP_TIMEOUT ?? 1500);
/** The whole `up --rehearse`: two boots (the first, and the powered-off holder's) and the rest. */
const UP_TIMEOUT_MS = (2 * STEP_TIMEOUT_S + 600) * 1000;

function prerequisites(): boolean {
  if (!isRoot()) {
    if (IN_CI) throw new Error("the `up` VM test must run as root in CI (namespaces, taps, the image build)");
    process.stderr.write(
      "\n!!!!! SKIPPING the `up` VM test: it needs root (namespaces, taps, the image build) !!!!!\n\n",
    );
    return false;
  }
  return haveTools(
    "qemu-system-x86_64",
    "qemu-img",
    "ip",
    "curl",
    "debootstrap",
    "debugfs",
    "grub-mkstandalone",
    "mcopy",
    "mkfs.vfat",
    "sfdisk",
    "setpriv",
  );
}
const canBoot = prerequisites();

interface UpJson {
  vipAnswers: boolean;
  holder: string | null;
  nodes: { node: string; state: string; action: string; readySeconds?: number }[];
  faults:
    | {
        fault: string;
        holder: string;
        newHolder?: string;
        failoverSeconds?: number;
        healSeconds?: number;
        passed: boolean;
        detail: string;
      }[]
    | null;
}

const sh = (program: string, ...args: string[]) => spawnSync(program, args, { encoding: "utf8" }).stdout;
const CLUSTER = "uptest";
/**
 * What of the lab could show in the host's own network namespace: a link named like the lab's
 * bridge or taps, or an address of its subnet. (Not the whole `ip link` list: on a shared machine
 * other tests add and remove their own links and namespaces meanwhile.)
 */
const labTraces = () =>
  `${sh("ip", "-o", "link", "show")}\n${sh("ip", "-o", "addr", "show")}`
    .split("\n")
    .filter((line) => /k8sha-|192\.0\.2\./.test(line));
const labNamespaces = () =>
  sh("ip", "netns", "list")
    .split("\n")
    .filter((line) => line.startsWith(`k8s-ha-${CLUSTER}-`));
const qemuAlive = (pid: number) =>
  existsSync(`/proc/${pid}`) && readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("qemu-system");

describe.skipIf(!canBoot)("k8s-ha up --provider qemu --rehearse, then down", () => {
  let dir = "";
  let cleanup = () => {};
  let spec = "";
  let out = "";
  let upArgs: string[] = [];
  let stopUp = () => {};
  let up: CliResult;
  let result: UpJson | undefined;
  let state: { netns: string; vms: { node: string; pid?: number; tap: string }[] } | undefined;
  let secondUp: CliResult;
  let status: CliResult;
  let down: CliResult;
  let tracesBefore: string[] = [];

  beforeAll(
    async () => {
      ({ dir, cleanup } = tempDir("k8s-ha-up-"));
      // a lab left by an earlier, killed run would make this one's checks meaningless
      expect(labNamespaces(), "a k8s-ha-uptest-* namespace already exists").toEqual([]);
      tracesBefore = labTraces();
      const build = await runDetached("bash", [BUILD_SCRIPT], { timeoutMs: BUILD_TIMEOUT_MS }).done;
      if (build.code !== 0)
        throw new Error(
          `build-test-cloud-image.sh ended with ${build.signal ?? `exit ${build.code}`}:\n${build.stderr.split("\n").slice(-30).join("\n")}`,
        );
      const image = join(build.stdout.trim().split("\n").pop()!, "disk.qcow2");
      spec = join(dir, "k8s-ha.yaml");
      await writeFile(
        spec,
        specYaml((s) => {
          s.metadata.name = CLUSTER;
          s.spec.vip = "192.0.2.100";
          s.spec.network = { interface: "enp0s8", prefixLength: 24, gateway: "192.0.2.1" };
          s.spec.apiserver = { port: 6444 };
          s.spec.nodes = [
            { name: "master01", address: "192.0.2.10" },
            { name: "master02", address: "192.0.2.11" },
          ];
          s.spec.installPackages = false; // the image plays the golden image: no apt at boot
          s.spec.target = { os: "debian-12" };
        }),
      );
      out = join(dir, "out");
      upArgs = [
        "up",
        spec,
        "-o",
        out,
        "--image",
        image,
        "--stand-in-apiserver",
        "--memory",
        "512",
        "--cpus",
        "1",
        "--json",
      ];
      const started = Date.now();
      // its own process group, SIGTERM'd (up's Ctrl-C path: it stops what it started) on a hang or if vitest dies
      const running = runDetached(
        process.execPath,
        [BIN, ...upArgs, "--rehearse", "--timeout", String(STEP_TIMEOUT_S)],
        {
          timeoutMs: UP_TIMEOUT_MS,
          onStderr: (chunk) => process.stderr.write(chunk), // a long run's progress is worth seeing in the log
        },
      );
      stopUp = running.stop;
      up = await running.done;
      process.stderr.write(
        `up test: up --rehearse took ${Math.round((Date.now() - started) / 1000)} s, exit ${up.code}\n`,
      );
      if (up.stdout.trim()) result = JSON.parse(up.stdout) as UpJson;
      const stateFile = join(out, "up", "state.json");
      if (existsSync(stateFile)) state = JSON.parse(readFileSync(stateFile, "utf8"));
      if (up.code !== 0) {
        for (const node of ["master01", "master02"]) {
          const log = join(out, "up", node, "serial.log");
          if (existsSync(log))
            process.stderr.write(`up test: end of ${node}'s serial.log:\n${readFileSync(log, "utf8").slice(-4000)}\n`);
        }
        return;
      }
      secondUp = await runCli(upArgs);
      status = await runCli(["status", spec, "-o", out, "--json"]);
      down = await runCli(["down", spec, "-o", out]);
    },
    BUILD_TIMEOUT_MS + UP_TIMEOUT_MS + minutes(5),
  );

  afterAll(async () => {
    stopUp();
    // a failed run must not leave VMs behind: down removes what the state file lists
    if (out && existsSync(join(out, "up", "state.json"))) await runCli(["down", spec, "-o", out]);
    cleanup();
  }, minutes(3));

  it("boots every node to the end of cloud-init and the VIP answers", () => {
    expect(up.code, up.stderr.split("\n").slice(-30).join("\n")).toBe(0);
    expect(result!.nodes.map((n) => [n.node, n.state, n.action])).toEqual([
      ["master01", "ready", "created"],
      ["master02", "ready", "created"],
    ]);
    expect(result!.vipAnswers).toBe(true);
    expect(["master01", "master02"]).toContain(result!.holder);
  });

  it("rehearses the three faults, each failing over to the other node and healed", () => {
    expect(result!.faults!.map((f) => f.fault)).toEqual([
      "keepalived-stopped",
      "haproxy-stopped",
      "holder-powered-off",
    ]);
    for (const fault of result!.faults!) {
      expect(fault.passed, `${fault.fault}: ${fault.detail}`).toBe(true);
      expect(fault.newHolder).toBeDefined();
      expect(fault.newHolder).not.toBe(fault.holder);
      expect(fault.failoverSeconds).toBeGreaterThan(0);
      expect(fault.healSeconds).toBeGreaterThan(0);
    }
    process.stderr.write(
      `up test: fault timings ${JSON.stringify(result!.faults!.map((f) => [f.fault, f.failoverSeconds, f.healSeconds]))}\n`,
    );
  });

  it("a second up with nothing changed leaves every VM as it is", () => {
    expect(secondUp.code, secondUp.stderr).toBe(0);
    const again = JSON.parse(secondUp.stdout) as UpJson;
    expect(again.nodes.map((n) => n.action)).toEqual(["unchanged", "unchanged"]);
    expect(again.vipAnswers).toBe(true);
  });

  it("status shows both VMs running and who holds the VIP", () => {
    expect(status.code, status.stderr).toBe(0);
    const seen = JSON.parse(status.stdout) as UpJson;
    expect(seen.nodes.map((n) => n.state)).toEqual(["running", "running"]);
    expect(seen.vipAnswers).toBe(true);
    expect(["master01", "master02"]).toContain(seen.holder);
  });

  it("down leaves no qemu process, namespace, bridge, tap or file behind, and the host's network as it was", () => {
    expect(down.code, down.stderr).toBe(0);
    expect(state!.vms).toHaveLength(2);
    for (const vm of state!.vms) expect(qemuAlive(vm.pid!), `qemu of ${vm.node}`).toBe(false);
    // the bridge and the taps lived only in this namespace; none of them, nor the subnet, reached the host's
    expect(state!.netns).toMatch(new RegExp(`^k8s-ha-${CLUSTER}-`));
    expect(labNamespaces()).toEqual([]);
    expect(labTraces()).toEqual(tracesBefore);
    expect(existsSync(join(out, "up"))).toBe(false);
    expect(readdirSync(out)).toEqual([]);
  });
});

// `k8s-ha up --provider qemu --rehearse` for real (issue 14): a two-node spec on TEST-NET-1
// (192.0.2.0/24), booting a UEFI Debian 12 qcow2 (scripts/build-cloud-image.sh, cached) under
// qemu — TCG where KVM is unusable — with lab seeds (stand-in apiserver, rehearsal agent). `up`
// puts its bridge, taps and qemu processes in a network namespace of its own; nothing touches the
// host's network. Then: `up` again changes nothing, `status` sees the holder, `down` leaves no
// process, namespace (so no bridge or tap) or file behind.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, ROOT, runCli, tempDir, type CliResult } from "../helpers/cli.js";
import { specYaml } from "../helpers/specs.js";
import { haveTools, IN_CI, isRoot } from "../helpers/tools.js";

const BUILD_SCRIPT = join(ROOT, "scripts/build-cloud-image.sh");
const BUILD_TIMEOUT_MS = 40 * 60_000;
/** Boot, three faults and their heals (one is a second boot): ~10 min under TCG on an idle 2-core machine. */
const UP_TIMEOUT_MS = 30 * 60_000;

function prerequisites(): boolean {
  if (!isRoot()) {
    if (IN_CI) throw new Error("the `up` VM test must run as root in CI (namespaces, taps, debootstrap)");
    process.stderr.write("\n!!!!! SKIPPING the `up` VM test: it needs root (namespaces, taps, debootstrap) !!!!!\n\n");
    return false;
  }
  return haveTools("qemu-system-x86_64", "qemu-img", "ip", "curl", "debootstrap", "grub-mkstandalone", "mcopy", "mkfs.vfat", "sfdisk", "setpriv");
}
const canBoot = prerequisites();

let child: ChildProcess | undefined;

/** Runs a program in its own process group (stopped whole on failure); SIGTERM if we die. */
function spawnGroup(program: string, args: string[], timeoutMs: number): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const proc = spawn("setpriv", ["--pdeathsig", "SIGTERM", "--", program, ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], detached: true });
    child = proc;
    let stdout = "";
    let stderr = "";
    proc.stdout!.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    proc.stderr!.setEncoding("utf8").on("data", (c: string) => {
      stderr += c;
      process.stderr.write(c); // progress of a long run is worth seeing in the log
    });
    const timer = setTimeout(() => stopChild("SIGINT"), timeoutMs);
    proc.on("error", reject);
    proc.on("close", (code) => {
      clearTimeout(timer);
      child = undefined;
      resolve({ code, stdout, stderr });
    });
  });
}

function stopChild(signal: NodeJS.Signals): void {
  if (child?.pid === undefined || child.exitCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // gone
  }
}

interface UpJson {
  vipAnswers: boolean;
  holder: string | null;
  nodes: { node: string; state: string; action: string; readySeconds?: number }[];
  faults: { fault: string; holder: string; newHolder?: string; failoverSeconds?: number; healSeconds?: number; passed: boolean; detail: string }[] | null;
}

const namespaces = () => spawnSync("ip", ["netns", "list"], { encoding: "utf8" }).stdout;
const alive = (pid: number) => existsSync(`/proc/${pid}`) && readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("qemu-system");

describe.skipIf(!canBoot)("k8s-ha up --provider qemu --rehearse, then down", () => {
  let dir = "";
  let cleanup = async () => {};
  let spec = "";
  let out = "";
  let up: CliResult;
  let result: UpJson | undefined;
  let state: { netns: string; vms: { node: string; pid?: number; tap: string }[] } | undefined;
  let secondUp: CliResult;
  let status: CliResult;
  let down: CliResult;
  let namespacesBefore = "";

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir("k8s-ha-up-"));
    namespacesBefore = namespaces();
    const build = await spawnGroup("bash", [BUILD_SCRIPT], BUILD_TIMEOUT_MS);
    if (build.code !== 0) throw new Error(`build-cloud-image.sh failed:\n${build.stderr.split("\n").slice(-30).join("\n")}`);
    const image = build.stdout.trim().split("\n").pop()!;
    spec = join(dir, "k8s-ha.yaml");
    await writeFile(
      spec,
      specYaml((s) => {
        s.metadata.name = "uptest";
        s.spec.vip = "192.0.2.100";
        s.spec.network = { interface: "enp0s8", prefixLength: 24, gateway: "192.0.2.1" };
        s.spec.nodes = [
          { name: "master01", address: "192.0.2.10" },
          { name: "master02", address: "192.0.2.11" },
        ];
        s.spec.installPackages = false; // the image plays the golden image: no apt at boot
        s.spec.target = { os: "debian-12" };
      }),
    );
    out = join(dir, "out");
    const started = Date.now();
    up = await spawnGroup(process.execPath, [BIN, "up", spec, "-o", out, "--image", image, "--stand-in-apiserver", "--rehearse", "--memory", "768", "--cpus", "1", "--timeout", "1200", "--json"], UP_TIMEOUT_MS);
    process.stderr.write(`up test: up --rehearse took ${Math.round((Date.now() - started) / 1000)} s, exit ${up.code}\n`);
    if (up.stdout.trim()) result = JSON.parse(up.stdout) as UpJson;
    const stateFile = join(out, "up", "state.json");
    if (existsSync(stateFile)) state = JSON.parse(readFileSync(stateFile, "utf8"));
    secondUp = await runCli(["up", spec, "-o", out, "--image", image, "--stand-in-apiserver", "--memory", "768", "--cpus", "1", "--json"]);
    status = await runCli(["status", spec, "-o", out, "--json"]);
    down = await runCli(["down", spec, "-o", out]);
  }, BUILD_TIMEOUT_MS + UP_TIMEOUT_MS + 10 * 60_000);

  afterAll(async () => {
    stopChild("SIGKILL");
    // a failed run must not leave VMs behind: down removes what the state file lists
    if (out && existsSync(join(out, "up", "state.json"))) await runCli(["down", spec, "-o", out]);
    await cleanup();
  });

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
    expect(result!.faults!.map((f) => f.fault)).toEqual(["keepalived-stopped", "haproxy-stopped", "holder-powered-off"]);
    for (const fault of result!.faults!) {
      expect(fault.passed, `${fault.fault}: ${fault.detail}`).toBe(true);
      expect(fault.newHolder).toBeDefined();
      expect(fault.newHolder).not.toBe(fault.holder);
      expect(fault.failoverSeconds).toBeGreaterThan(0);
      expect(fault.healSeconds).toBeGreaterThan(0);
    }
    process.stderr.write(`up test: fault timings ${JSON.stringify(result!.faults!.map((f) => [f.fault, f.failoverSeconds, f.healSeconds]))}\n`);
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

  it("down leaves no qemu process, namespace, bridge, tap or file behind", () => {
    expect(down.code, down.stderr).toBe(0);
    expect(state!.vms).toHaveLength(2);
    for (const vm of state!.vms) expect(alive(vm.pid!), `qemu of ${vm.node}`).toBe(false);
    // the bridge and the taps lived only in this namespace
    expect(namespaces()).not.toContain(state!.netns);
    expect(namespaces()).toBe(namespacesBefore);
    expect(existsSync(join(out, "up"))).toBe(false);
    expect(readdirSync(out)).toEqual([]);
  });
});

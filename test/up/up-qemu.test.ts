// The golden path, end to end, on every CI run (issues 14 and 16): spec → bake → `up --rehearse` →
// re-seed → down, with the real Packer, qemu (TCG where KVM is unusable) and Debian's archive.
//
// The bake: scripts/build-test-cloud-image.sh makes (once per machine, cached) a Debian 12 UEFI
// "cloud image" from the root file system of scripts/build-boot-rootfs.sh. `k8s-ha build-image`
// with `builder: qemu, os: debian-12` bakes it: Packer boots it, logs in as the build user it got
// through NoCloud, runs the real provisioning (apt-get from Debian's archive, jq from
// spec.image.extraPackages among them), the image checks and the generalisation; the record is
// written to DIR/images/.
//
// Then `k8s-ha up -o DIR` boots THAT image (found through the record, as a user's `up` does) on the
// common VirtualBox lab's shape: two nodes, each with a NAT NIC (enp0s3, qemu's user-mode network:
// DHCP 10.0.2.15, gateway 10.0.2.2, DNS 10.0.2.3) and the cluster NIC (enp0s8, TEST-NET-1
// 192.0.2.0/24, on up's bridge), with lab seeds (stand-in apiserver, rehearsal agent). `up` puts its
// bridge, taps and qemu processes in a network namespace of its own; no lab link or address may
// show in the host's namespace, and the user-mode NIC has no way out of it.
//
// These boots carry the first-boot proofs of seeds and of the baked image: `status --report` reads
// each node's account of itself through the agent — cloud-init's result, the three files byte for
// byte, the services, netplan's NICs, DHCP and the static address, the firewall, keepalived's
// MASTER line, the node's own SSH host key, the seed's user as the only login (the build user is
// gone). Then firewall.allow loses a port and `up` re-seeds the running nodes one at a time, on the
// same disks: a new instance, the port closed, the SSH host keys kept. Then `up` again changes
// nothing, `status` sees the holder, and `down` leaves no process, namespace (so no bridge or tap)
// or file of its own behind. Last, the same image as a rootless lab: nobody's `up` puts the
// cluster NICs on qemu's multicast socket network and rehearses the two faults that cross it
// (`--faults`: the node loss's heal is one more boot, and the root lab proved it).
//
// The image also carries the boot rootfs's own stand-in apiserver on 6443 (a fixture of
// scripts/build-boot-rootfs.sh): the spec puts the apiserver on 6444, so only the lab seed's
// stand-in can make the checks pass. The health check runs every 5 s instead of 2: each run is
// two curls with TLS, and in a TCG guest those kept a core busy (a re-seed boot beside an idle
// node took 489 s instead of 165 s); the rehearsed faults do not depend on that interval.
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, ROOT, runCli, tempDir, type CliResult } from "../helpers/cli.js";
import { specYaml } from "../helpers/specs.js";
import { haveTools, IN_CI, isRoot } from "../helpers/tools.js";
import { runDetached } from "../helpers/run-detached.js";
import { asNobody, NOBODY, nobodysDir, readableCli } from "../helpers/unprivileged.js";
import { parseImageRecord, type ImageRecord } from "../../src/packer/record.js";
import { OVMF_FIRMWARE } from "../../src/packer/qemu.js";
import { labNetns } from "../../src/up/layout.js";
import { hashFile, sha256 } from "../../src/write/hash.js";

const BUILD_SCRIPT = join(ROOT, "scripts/build-test-cloud-image.sh");
const minutes = (n: number) => n * 60_000;
/** Ceilings that only catch a hang; the measured times are in docs/up.md and docs/qemu-bake.md. */
const BUILD_TIMEOUT_MS = minutes(40);
const BAKE_TIMEOUT_MS = Number(process.env.K8S_HA_TEST_BAKE_TIMEOUT ?? 45 * 60) * 1000;
const IMAGE = { name: "k8s-ha-debian-12", version: "0.1.0" };
/** `up --timeout`: each wait (the boot, each failover, each heal); K8S_HA_TEST_UP_TIMEOUT for a crowded machine. */
const STEP_TIMEOUT_S = Number(process.env.K8S_HA_TEST_UP_TIMEOUT ?? 1500);
/** The whole `up --rehearse`: two boots (the first, and the powered-off holder's) and the rest. */
const UP_TIMEOUT_MS = (2 * STEP_TIMEOUT_S + 600) * 1000;
/** The re-seed: one boot per node, one after the other. */
const RESEED_TIMEOUT_MS = (2 * STEP_TIMEOUT_S + 300) * 1000;
const NODES = ["master01", "master02"] as const;
const ADDRESSES = { master01: "192.0.2.10", master02: "192.0.2.11" } as const;
const CLUSTER_SUBNET = "192.0.2.0/24";
const VIP = "192.0.2.100";
const LB_PORT = 1644;
const APISERVER_PORT = 6444;
const USER = "ops";
/** firewall.allow at the first boot; the re-seed drops the second rule. */
const FLANNEL = { port: "8472/udp", from: CLUSTER_SUBNET };
const REMOVED = "4240/tcp";

function prerequisites(): boolean {
  if (isRoot() && !existsSync(OVMF_FIRMWARE)) {
    if (IN_CI) throw new Error(`${OVMF_FIRMWARE} missing: scripts/install-tools.sh installs ovmf`);
    process.stderr.write(`\n!!!!! SKIPPING the golden-path test: no ${OVMF_FIRMWARE} (apt-get install ovmf) !!!!!\n\n`);
    return false;
  }
  if (!isRoot()) {
    if (IN_CI) throw new Error("the `up` VM test must run as root in CI (namespaces, taps, the image build)");
    process.stderr.write(
      "\n!!!!! SKIPPING the `up` VM test: it needs root (namespaces, taps, the image build) !!!!!\n\n",
    );
    return false;
  }
  return haveTools(
    "packer",
    "flock",
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

/** The lab spec: the VirtualBox lab's two NICs per node; `allow` is its firewall.allow. */
function labSpec(allow: unknown[]): string {
  return specYaml((s) => {
    s.metadata.name = CLUSTER;
    s.spec.vip = VIP;
    // no gateway: the default route and DNS come from the NAT NIC, as in VirtualBox
    s.spec.network = { interface: "enp0s8", prefixLength: 24, dhcpInterfaces: ["enp0s3"] };
    s.spec.apiserver = { port: APISERVER_PORT };
    s.spec.loadBalancer = { port: LB_PORT };
    s.spec.nodes = NODES.map((name) => ({ name, address: ADDRESSES[name] }));
    s.spec.installPackages = false; // the image plays the golden image: no apt at boot
    s.spec.firewall = { enabled: true, allowSsh: true, allow };
    s.spec.users = [
      {
        name: USER,
        sshAuthorizedKeys: [
          "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMQOqA/g+Q2Og5yWI588HYHVroOOL/NjApqNbKN/deM4 ops@laptop",
        ],
      },
    ];
    s.spec.target = { os: "debian-12" };
    s.spec.image = { builder: "qemu", ...IMAGE, cpus: 2, memoryMiB: 1024, diskMiB: 8192, extraPackages: ["jq"] };
    // two TLS curls per run: every 2 s they kept a TCG guest's core busy (see the top of this file)
    s.spec.healthCheck = { interval: 5 };
  });
}

/** A section ("--- name" to the next) of a node report that `status --report` wrote. */
function reportSection(report: string, name: string): string {
  const start = report.indexOf(`\n--- ${name}\n`);
  if (start < 0) throw new Error(`no section ${name} in the report:\n${report.slice(-3000)}`);
  const body = report.slice(start + name.length + 6);
  const end = body.indexOf("\n--- ");
  return (end < 0 ? body : body.slice(0, end)).trim();
}

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

/** What the rootless lab rehearses: failover and heal over its segment, without the node loss's second boot. */
const ROOTLESS_FAULTS = ["keepalived-stopped", "haproxy-stopped"];
/** The rootless lab's namespace: the test's own (nobody cannot make one), holding its multicast segment. */
const ROOTLESS_NETNS = `k8s-ha-test-rootless-${process.pid}`;
interface RootlessState {
  network?: string;
  segment?: string;
  netns?: string;
  vms: { node: string; pid?: number; tap?: string }[];
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
/**
 * Whether the lab of this output folder has its namespace. Only this run's own: on a shared
 * machine another run's lab (another folder, another name) may come and go meanwhile.
 */
const labNamespaceExists = (outDir: string) =>
  sh("ip", "netns", "list")
    .split("\n")
    .some((line) => line.split(" ")[0] === labNetns(CLUSTER, outDir));
const qemuAlive = (pid: number) =>
  existsSync(`/proc/${pid}`) && readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("qemu-system");

/** What `status --json --report` printed, and the report files it wrote, read before they are replaced. */
interface Reported {
  result: CliResult;
  holder: string | null;
  reports: Record<string, string>;
}

describe.skipIf(!canBoot)("k8s-ha up --provider qemu --rehearse, then a rolling re-seed, then down", () => {
  let dir = "";
  let cleanup = () => {};
  let spec = "";
  let out = "";
  let upArgs: string[] = [];
  const stops: Array<() => void> = [];
  let up: CliResult | undefined;
  let result: UpJson | undefined;
  let state: { netns: string; vms: { node: string; pid?: number; tap: string; instanceId: string }[] } | undefined;
  let first: Reported | undefined;
  let reseed: CliResult | undefined;
  let second: Reported | undefined;
  let secondInstanceIds: Record<string, string> = {};
  let unchangedUp: CliResult;
  let status: CliResult;
  let down: CliResult;
  /** The state file just before `down`: the re-seed started new qemu processes. */
  let lastState: typeof state;
  let tracesBefore: string[] = [];
  let bake: CliResult;
  let bakeAgain: CliResult;
  let record: ImageRecord | undefined;
  let imageSha256 = "";
  const stateFile = () => join(out, "up", "state.json");
  // the rootless lab
  let cli: ReturnType<typeof readableCli> | undefined;
  let rootlessHome: ReturnType<typeof nobodysDir> | undefined;
  let rootlessOut = "";
  const rootless: {
    up?: CliResult;
    result?: UpJson;
    state?: RootlessState;
    /** Each VM's qemu while the lab ran: its user and its command line. */
    processes: Record<string, { uid: number; cmdline: string }>;
    status?: CliResult;
    reports: Record<string, string>;
    down?: CliResult;
  } = { processes: {}, reports: {} };
  const readRootlessState = (): RootlessState | undefined => {
    const file = join(rootlessOut, "up", "state.json");
    return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as RootlessState) : undefined;
  };
  /** The CLI as nobody, in the test's namespace, in its own process group. */
  const nobody = (args: string[], timeoutMs: number, what: string) => {
    const { program, args: full } = asNobody(cli!.bin, args, ROOTLESS_NETNS);
    return longRunOf(program, full, timeoutMs, what);
  };
  const readState = () => (existsSync(stateFile()) ? JSON.parse(readFileSync(stateFile(), "utf8")) : undefined);

  /** The built CLI in its own process group, SIGTERM'd (up's Ctrl-C path) on a hang or if vitest dies. */
  function longRun(args: string[], timeoutMs: number, what: string, env?: NodeJS.ProcessEnv): Promise<CliResult> {
    return longRunOf(process.execPath, [BIN, ...args], timeoutMs, what, env);
  }

  async function longRunOf(
    program: string,
    args: string[],
    timeoutMs: number,
    what: string,
    env?: NodeJS.ProcessEnv,
  ): Promise<CliResult> {
    const started = Date.now();
    const running = runDetached(program, args, {
      env,
      timeoutMs,
      onStderr: (chunk) => process.stderr.write(chunk), // a long run's progress is worth seeing in the log
    });
    stops.push(running.stop);
    const done = await running.done;
    process.stderr.write(`up test: ${what} took ${Math.round((Date.now() - started) / 1000)} s, exit ${done.code}\n`);
    if (done.code !== 0 && args.includes("up")) {
      for (const node of NODES) {
        const log = join(args.includes(rootlessOut) && rootlessOut ? rootlessOut : out, "up", node, "serial.log");
        if (existsSync(log))
          process.stderr.write(`up test: end of ${node}'s serial.log:\n${readFileSync(log, "utf8").slice(-4000)}\n`);
      }
    }
    return done;
  }

  async function report(): Promise<Reported> {
    const got = await runCli(["status", spec, "-o", out, "--json", "--report"]);
    const reports: Record<string, string> = {};
    for (const node of NODES) {
      const file = join(out, "up", node, "report.txt");
      if (existsSync(file)) reports[node] = readFileSync(file, "utf8");
    }
    const holder = got.code === 0 ? ((JSON.parse(got.stdout) as { holder: string | null }).holder ?? null) : null;
    return { result: got, holder, reports };
  }

  beforeAll(
    async () => {
      ({ dir, cleanup } = tempDir("k8s-ha-up-"));
      tracesBefore = labTraces();
      const build = await runDetached("bash", [BUILD_SCRIPT], { timeoutMs: BUILD_TIMEOUT_MS }).done;
      if (build.code !== 0)
        throw new Error(
          `build-test-cloud-image.sh ended with ${build.signal ?? `exit ${build.code}`}:\n${build.stderr.split("\n").slice(-30).join("\n")}`,
        );
      const source = join(build.stdout.trim().split("\n").pop()!, "disk.qcow2");
      spec = join(dir, "k8s-ha.yaml");
      await writeFile(spec, labSpec([FLANNEL, REMOVED]));
      // the production files, rendered apart: the lab seed must carry them unchanged
      const rendered = await runCli(["render", spec, "-o", join(dir, "rendered")]);
      if (rendered.code !== 0) throw new Error(`k8s-ha render failed:\n${rendered.stderr}`);
      out = join(dir, "out");
      // a fresh temporary folder names a namespace nobody has; if it existed, the checks would be meaningless
      expect(labNamespaceExists(out), `namespace ${labNetns(CLUSTER, out)} already exists`).toBe(false);

      // The stand-in replaces Debian's cloud image through Packer's own variables (PKR_VAR_*), as a
      // user would point the template at a local copy.
      const env = {
        PKR_VAR_iso_url: source,
        PKR_VAR_iso_checksum: `sha256:${(await hashFile(source)).sha256}`,
        PACKER_CACHE_DIR: join(dir, "packer_cache"),
        CHECKPOINT_DISABLE: "1",
      };
      bake = await longRun(["build-image", spec, "-o", out], BAKE_TIMEOUT_MS, "build-image", env);
      const recordPath = join(out, "images", `${IMAGE.name}-${IMAGE.version}.json`);
      record = existsSync(recordPath) ? parseImageRecord(readFileSync(recordPath, "utf8")) : undefined;
      if (record) imageSha256 = (await hashFile(join(out, "images", record.file))).sha256;
      bakeAgain = await longRun(["build-image", spec, "-o", out], minutes(2), "a second build-image", env);
      if (!record) return; // the bake's own tests say why

      // no --image: `up` finds the baked qcow2 through its record in DIR/images/, as a user's does
      upArgs = ["up", spec, "-o", out, "--stand-in-apiserver", "--memory", "512", "--cpus", "1"];
      upArgs.push("--json", "--timeout", String(STEP_TIMEOUT_S));
      up = await longRun([...upArgs, "--rehearse"], UP_TIMEOUT_MS, "up --rehearse");
      if (up.stdout.trim()) result = JSON.parse(up.stdout) as UpJson;
      state = readState();
      if (up.code !== 0) return;
      first = await report();

      await writeFile(spec, labSpec([FLANNEL]));
      reseed = await longRun(upArgs, RESEED_TIMEOUT_MS, "up after firewall.allow lost a port (re-seed)");
      for (const vm of (readState()?.vms ?? []) as { node: string; instanceId: string }[])
        secondInstanceIds[vm.node] = vm.instanceId;
      if (reseed.code !== 0) return;
      second = await report();
      unchangedUp = await runCli(upArgs);
      status = await runCli(["status", spec, "-o", out, "--json"]);
      lastState = readState();
      down = await runCli(["down", spec, "-o", out]);
      if (down.code !== 0) return;

      // The same image without root: nobody runs `up` in a network namespace of this test's own,
      // so the lab's multicast segment stays in there too.
      cli = readableCli();
      rootlessHome = nobodysDir("k8s-ha-up-rootless-");
      const home = rootlessHome.dir;
      const image = join(home, "golden.qcow2");
      copyFileSync(join(out, "images", record.file), image);
      chmodSync(image, 0o644);
      const rootlessSpec = join(home, "k8s-ha.yaml");
      await writeFile(rootlessSpec, labSpec([FLANNEL]), { mode: 0o644 });
      rootlessOut = join(home, "out");
      execFileSync("ip", ["netns", "add", ROOTLESS_NETNS]);
      execFileSync("ip", ["-n", ROOTLESS_NETNS, "link", "set", "lo", "up"]);
      const rootlessArgs = ["-o", rootlessOut, "--image", image, "--stand-in-apiserver", "--memory", "512"];
      // the faults that cross the segment; the node loss (a second boot, minutes) the root lab proved
      rootlessArgs.push("--cpus", "1", "--json", "--timeout", String(STEP_TIMEOUT_S));
      rootlessArgs.push("--rehearse", "--faults", ROOTLESS_FAULTS.join(","));
      rootless.up = await nobody(["up", rootlessSpec, ...rootlessArgs], UP_TIMEOUT_MS, "rootless up --rehearse");
      if (rootless.up.stdout.trim()) rootless.result = JSON.parse(rootless.up.stdout) as UpJson;
      rootless.state = readRootlessState();
      for (const vm of rootless.state?.vms ?? []) {
        if (vm.pid === undefined || !qemuAlive(vm.pid)) continue;
        const uid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${vm.pid}/status`, "utf8"))?.[1];
        rootless.processes[vm.node] = {
          uid: Number(uid),
          cmdline: readFileSync(`/proc/${vm.pid}/cmdline`, "utf8").split("\0").join(" "),
        };
      }
      if (rootless.up.code !== 0) return;
      rootless.status = await nobody(
        ["status", rootlessSpec, "-o", rootlessOut, "--json", "--report"],
        minutes(5),
        "rootless status --report",
      );
      for (const node of NODES) {
        const file = join(rootlessOut, "up", node, "report.txt");
        if (existsSync(file)) rootless.reports[node] = readFileSync(file, "utf8");
      }
      rootless.down = await nobody(["down", rootlessSpec, "-o", rootlessOut], minutes(3), "rootless down");
    },
    BUILD_TIMEOUT_MS + BAKE_TIMEOUT_MS + 2 * UP_TIMEOUT_MS + RESEED_TIMEOUT_MS + minutes(20),
  );

  afterAll(async () => {
    for (const stop of stops) stop();
    // a failed run must not leave VMs behind: down removes what the state file lists
    if (out && existsSync(stateFile())) await runCli(["down", spec, "-o", out]);
    if (rootlessOut && readRootlessState())
      await nobody(["down", "-o", rootlessOut], minutes(3), "rootless down (clean-up)");
    spawnSync("ip", ["netns", "delete", ROOTLESS_NETNS]);
    cli?.cleanup();
    rootlessHome?.cleanup();
    cleanup();
  }, minutes(6));

  const bakeLog = () => bake.stderr.split("\n").slice(-80).join("\n");
  const upLog = () => (up ? up.stderr.split("\n").slice(-30).join("\n") : `nothing was baked:\n${bakeLog()}`);

  describe("the bake", () => {
    it("build-image bakes the stand-in with Packer's qemu builder and records the qcow2", async () => {
      expect(bake.code, bakeLog()).toBe(0);
      expect(record, bakeLog()).toBeDefined();
      expect(record).toMatchObject({
        ...IMAGE,
        file: `${IMAGE.name}-${IMAGE.version}.qcow2`,
        builder: "qemu",
        os: "debian-12",
      });
      expect(record!.qemu?.accelerator).toMatch(/^(kvm|tcg)$/);
      const file = join(out, "images", record!.file);
      expect(statSync(file).size).toBe(record!.size);
      expect(imageSha256).toBe(record!.sha256);
      expect(readFileSync(file).subarray(0, 4).toString("latin1")).toBe("QFI\xfb"); // a qcow2, not raw
    });

    it("shows progress: Packer's stages and the provisioning scripts' output, timestamped", () => {
      expect(bake.stderr).toMatch(/accelerator (kvm|tcg)/);
      expect(bake.stderr).toMatch(
        /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \[\d+:\d\d\] ==> qemu\.golden: Waiting for SSH to become available/,
      );
      expect(bake.stderr).toContain("10-wait-cloud-init: first boot finished");
      expect(bake.stderr).toContain("90-generalize: done");
    });

    it("provisioned from Debian's archive and passed the image checks, recorded with the package versions", () => {
      expect(bake.stderr).toMatch(/Get:\d+ http:\/\/deb\.debian\.org\/debian bookworm/); // apt-get update fetched the lists
      const check = record?.imageCheck;
      expect(check, bakeLog()).toBeDefined();
      expect(check!.passed).toBe(true);
      expect(check!.packages.keepalived).toMatch(/^1:2\.2\.7-/);
      expect(check!.packages.haproxy).toMatch(/^2\.6\.\d+-/);
      expect(Object.keys(check!.packages).sort()).toEqual(["cloud-init", "curl", "haproxy", "jq", "keepalived", "ufw"]);
      for (const what of [
        "keepalived.service disabled and stopped",
        "haproxy.service disabled and stopped",
        "cloud-init clean (no instance, seed or log)",
        "machine-id empty",
        "no installer or build network leftovers",
      ]) {
        expect(check!.checks).toContain(what);
      }
    });

    it("skips a second bake of the same template at once (fingerprint)", () => {
      expect(bakeAgain.code, bakeAgain.stderr).toBe(0);
      expect(bakeAgain.stderr).toMatch(
        new RegExp(`${IMAGE.name}-${IMAGE.version} is up to date: .* was baked from this template`),
      );
      expect(bakeAgain.stderr).not.toContain("packer build");
    });
  });
  /** A section of a node's first report; fails with what `status --report` said when there is none. */
  const section = (node: string, name: string) => {
    if (!first) throw new Error(`up --rehearse failed, so nothing was reported:\n${upLog()}`);
    const text = first.reports[node];
    if (text === undefined) throw new Error(`no report of ${node}:\n${first.result.stderr}`);
    return reportSection(text, name);
  };
  const again = (node: string, name: string) => {
    if (!second) throw new Error(`the re-seed did not finish:\n${reseed?.stderr.split("\n").slice(-30).join("\n")}`);
    const text = second.reports[node];
    if (text === undefined) throw new Error(`no report of ${node} after the re-seed:\n${second.result.stderr}`);
    return reportSection(text, name);
  };
  const sha = (node: string, file: string) => sha256(readFileSync(join(dir, "rendered", "nodes", node, "files", file)));

  it("boots every node to the end of cloud-init and the VIP answers", () => {
    expect(up?.code, upLog()).toBe(0);
    expect(result!.nodes.map((n) => [n.node, n.state, n.action])).toEqual([
      ["master01", "ready", "created"],
      ["master02", "ready", "created"],
    ]);
    expect(result!.vipAnswers).toBe(true);
    expect(NODES).toContain(result!.holder);
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

  it("status --report writes each node's report beside its VM", () => {
    expect(first?.result.code, first?.result.stderr ?? upLog()).toBe(0);
    const printed = JSON.parse(first!.result.stdout) as { reports: { node: string; path: string }[] };
    expect(printed.reports).toEqual(NODES.map((node) => ({ node, path: join(out, "up", node, "report.txt") })));
  });

  it("cloud-init found each node's seed (NoCloud, on the CD-ROM) and finished without errors", () => {
    for (const node of NODES) {
      expect(section(node, "boot-finished"), section(node, "cloud-init-warnings")).toBe("yes");
      const done = JSON.parse(section(node, "result.json")) as { v1: { datasource: string; errors: string[] } };
      expect(done.v1.errors, section(node, "cloud-init-warnings")).toEqual([]);
      expect(done.v1.datasource).toMatch(/^DataSourceNoCloud \[seed=\/dev\/sr0\]/);
      expect(section(node, "instance-id")).toBe(state!.vms.find((v) => v.node === node)!.instanceId);
      expect(section(node, "hostname")).toBe(node);
      // the build user is gone with the generalisation: the seed's user is the only login
      expect(section(node, "users").split("\n")).toEqual([USER]);
    }
  });

  it("wrote the three files with their modes, owner root, byte for byte as `render` makes them", () => {
    for (const node of NODES) {
      expect(section(node, "files").split("\n")).toEqual([
        "640 root:root /etc/keepalived/keepalived.conf",
        "755 root:root /etc/keepalived/check_apiserver.sh",
        "644 root:root /etc/haproxy/haproxy.cfg",
      ]);
      expect(section(node, "sha256").split("\n")).toEqual([
        `${sha(node, "keepalived.conf")}  /etc/keepalived/keepalived.conf`,
        `${sha(node, "check_apiserver.sh")}  /etc/keepalived/check_apiserver.sh`,
        `${sha(node, "haproxy.cfg")}  /etc/haproxy/haproxy.cfg`,
      ]);
    }
  });

  it("keepalived and haproxy are enabled and active; haproxy's worker runs as haproxy in its chroot", () => {
    for (const node of NODES) {
      expect(section(node, "is-active").split("\n"), section(node, "vrrp")).toEqual(["active", "active"]);
      expect(section(node, "is-enabled").split("\n")).toEqual(["enabled", "enabled"]);
      // the master (root) reads the config and binds; the worker that carries the traffic drops root
      const processes = section(node, "haproxy-processes").split("\n");
      expect(processes).toContain("master root /");
      expect(processes.filter((p) => p.startsWith("worker "))).toEqual(["worker haproxy /var/lib/haproxy"]);
    }
  });

  it("cloud-init rendered network-config with netplan, for systemd-networkd, for both NICs", () => {
    const renderer = section("master01", "network-renderer");
    expect(renderer).toMatch(/^Selected renderer 'netplan'$/m);
    expect(renderer).toMatch(/^50-cloud-init\.yaml$/m);
    // ls puts several names on one line
    expect(renderer.split(/\s+/)).toEqual(
      expect.arrayContaining(["10-netplan-enp0s3.network", "10-netplan-enp0s8.network"]),
    );
  });

  it("the NAT NIC has VirtualBox NAT's address, the only default route and the DNS server", () => {
    for (const node of NODES) {
      expect(section(node, "addresses")).toMatch(/^\d+: enp0s3\s+inet 10\.0\.2\.15\/24 /m);
      const defaults = section(node, "routes")
        .split("\n")
        .filter((line) => line.startsWith("default"));
      expect(defaults, section(node, "routes")).toHaveLength(1);
      expect(defaults[0]).toMatch(/^default via 10\.0\.2\.2 dev enp0s3 /);
    }
    expect(section("master01", "networkctl")).toMatch(/DNS: 10\.0\.2\.3\b/);
  });

  it("the cluster NIC has the static address; the VIP is on the holder's only, which entered MASTER state", () => {
    for (const node of NODES) {
      const address = ADDRESSES[node].replace(/\./g, "\\.");
      expect(section(node, "addresses")).toMatch(new RegExp(`^\\d+: enp0s8\\s+inet ${address}/24 `, "m"));
    }
    const withVip = NODES.filter((node) =>
      new RegExp(`^\\d+: enp0s8\\s+inet ${VIP.replace(/\./g, "\\.")}/24 `, "m").test(section(node, "addresses")),
    );
    expect(withVip).toEqual([first!.holder]);
    expect(section(first!.holder!, "vrrp")).toContain("(k8s_apiserver) Entering MASTER STATE");
  });

  it("ufw is active and allows routed traffic, SSH, the apiserver, the LB port, the peer, VRRP and firewall.allow", () => {
    for (const node of NODES) {
      const peer = ADDRESSES[node === "master01" ? "master02" : "master01"];
      const rules = section(node, "ufw").split("\n");
      expect(rules).toContain("ENABLED=yes");
      for (const port of [22, APISERVER_PORT, LB_PORT, 4240])
        expect(rules, section(node, "ufw")).toContain(`-A ufw-user-input -p tcp -m tcp --dport ${port} -j ACCEPT`);
      expect(rules).toContain(
        `-A ufw-user-input -s ${peer}/32 -p tcp -m multiport --dports 2379:2380,10250,10257,10259 -j ACCEPT`,
      );
      expect(rules).toContain(`-A ufw-user-input -s ${peer}/32 -d 224.0.0.18/32 -j ACCEPT`);
      expect(rules).toContain(`-A ufw-user-input -s ${CLUSTER_SUBNET} -p udp -m udp --dport 8472 -j ACCEPT`);
      // "allow (routed)" needs forwarding in the kernel too (the image has net.ipv4.ip_forward = 1)
      expect(section(node, "ufw-routed").split("\n")).toEqual(['DEFAULT_FORWARD_POLICY="ACCEPT"', "-P FORWARD ACCEPT"]);
    }
  });

  it("cloud-init generated each node's own SSH host key (the image has none)", () => {
    const keys = NODES.map((node) => section(node, "ssh-host-keys"));
    for (const key of keys) expect(key).toMatch(/^256 SHA256:\S+ root@\S+ \(ED25519\)$/m);
    expect(keys[0]).not.toBe(keys[1]);
  });

  describe("after firewall.allow loses a port: `up` re-seeds the running nodes one at a time, same disks", () => {
    it("re-seeds both, the second only after the first was ready again, and the VIP answers", () => {
      expect(reseed?.code, reseed?.stderr.split("\n").slice(-30).join("\n") ?? upLog()).toBe(0);
      const after = JSON.parse(reseed!.stdout) as UpJson;
      expect(after.nodes.map((n) => [n.node, n.state, n.action])).toEqual([
        ["master01", "ready", "reseeded"],
        ["master02", "ready", "reseeded"],
      ]);
      expect(after.vipAnswers).toBe(true);
      const log = reseed!.stderr;
      const firstReady = log.indexOf("master01: cloud-init finished");
      expect(firstReady, log).toBeGreaterThan(0);
      expect(log.indexOf("master02: its seed changed"), log).toBeGreaterThan(firstReady);
    });

    it("cloud-init ran each new seed as a new instance and finished without errors", () => {
      for (const node of NODES) {
        const before = state!.vms.find((v) => v.node === node)!.instanceId;
        expect(secondInstanceIds[node]).not.toBe(before);
        expect(again(node, "instance-id")).toBe(secondInstanceIds[node]);
        expect(again(node, "boot-finished")).toBe("yes");
        const done = JSON.parse(again(node, "result.json")) as { v1: { errors: string[] } };
        expect(done.v1.errors, again(node, "cloud-init-warnings")).toEqual([]);
      }
    });

    it("the removed port is closed; the rules the spec still has are there", () => {
      for (const node of NODES) {
        const rules = again(node, "ufw");
        expect(rules).toMatch(/^ENABLED=yes$/m);
        expect(rules).not.toMatch(/--dport 4240\b/);
        expect(rules).toContain(`-A ufw-user-input -s ${CLUSTER_SUBNET} -p udp -m udp --dport 8472 -j ACCEPT`);
        expect(rules).toContain(`-A ufw-user-input -p tcp -m tcp --dport ${APISERVER_PORT} -j ACCEPT`);
      }
    });

    it("kept the SSH host keys of the first boot", () => {
      for (const node of NODES) expect(again(node, "ssh-host-keys")).toBe(section(node, "ssh-host-keys"));
    });
  });

  it("a second up with nothing changed leaves every VM as it is", () => {
    expect(unchangedUp?.code, unchangedUp?.stderr).toBe(0);
    const unchanged = JSON.parse(unchangedUp.stdout) as UpJson;
    expect(unchanged.nodes.map((n) => n.action)).toEqual(["unchanged", "unchanged"]);
    expect(unchanged.vipAnswers).toBe(true);
  });

  it("status shows both VMs running and who holds the VIP", () => {
    expect(status?.code, status?.stderr).toBe(0);
    const seen = JSON.parse(status.stdout) as UpJson;
    expect(seen.nodes.map((n) => n.state)).toEqual(["running", "running"]);
    expect(seen.vipAnswers).toBe(true);
    expect(NODES).toContain(seen.holder);
  });

  it("down leaves no qemu process, namespace, bridge, tap or file behind, and the host's network as it was", () => {
    expect(down?.code, down?.stderr).toBe(0);
    expect(lastState!.vms).toHaveLength(2);
    for (const vm of lastState!.vms) expect(qemuAlive(vm.pid!), `qemu of ${vm.node}`).toBe(false);
    // the bridge and the taps lived only in this namespace; none of them, nor the subnet, reached the host's
    expect(state!.netns).toBe(labNetns(CLUSTER, out));
    expect(labNamespaceExists(out)).toBe(false);
    expect(labTraces()).toEqual(tracesBefore);
    expect(existsSync(join(out, "up"))).toBe(false);
    // what build-image made (the image and its record, the Packer template) is the user's, untouched
    expect(readdirSync(out).sort()).toEqual(["images", "packer"]);
    expect(readdirSync(join(out, "images")).sort()).toEqual([`${IMAGE.name}-${IMAGE.version}.json`, record!.file]);
  });

  describe("without root: the same image on qemu's socket network, seen through the lab agents", () => {
    const rootlessLog = () =>
      rootless.up ? rootless.up.stderr.split("\n").slice(-30).join("\n") : `the root lab failed first:\n${upLog()}`;
    const rootlessSection = (node: string, name: string) => {
      const text = rootless.reports[node];
      if (text === undefined)
        throw new Error(`no rootless report of ${node}:\n${rootless.status?.stderr ?? rootlessLog()}`);
      return reportSection(text, name);
    };

    it("boots every node to the end of cloud-init, as nobody, and the VIP answers", () => {
      expect(rootless.up?.code, rootlessLog()).toBe(0);
      expect(rootless.result!.nodes.map((n) => [n.node, n.state, n.action])).toEqual([
        ["master01", "ready", "created"],
        ["master02", "ready", "created"],
      ]);
      expect(rootless.result!.vipAnswers).toBe(true);
      expect(NODES).toContain(rootless.result!.holder);
      expect(rootless.up!.stderr).toMatch(/lab network \(rootless\): qemu's socket network, multicast 239\.255\./);
    });

    it("runs qemu as that user, the cluster NIC on a loopback multicast segment: no namespace, bridge or tap", () => {
      const state = rootless.state!;
      expect(state.network).toBe("socket");
      expect(state.segment).toMatch(/^239\.255\.\d+\.\d+:\d+$/);
      expect(state.netns).toBeUndefined();
      expect(state.vms.map((vm) => vm.tap)).toEqual([undefined, undefined]);
      expect(Object.keys(rootless.processes).sort(), rootlessLog()).toEqual([...NODES]);
      for (const node of NODES) {
        const { uid, cmdline } = rootless.processes[node]!;
        expect(uid).toBe(NOBODY);
        expect(cmdline).toContain(`socket,id=net0,mcast=${state.segment},localaddr=127.0.0.1`);
        expect(cmdline).not.toMatch(/\btap,/);
      }
    });

    it("rehearses the faults --faults chose over the segment, each failing over and healed", () => {
      expect(
        rootless.result?.faults?.map((f) => f.fault),
        rootlessLog(),
      ).toEqual(ROOTLESS_FAULTS);
      for (const fault of rootless.result!.faults!) {
        expect(fault.passed, `${fault.fault}: ${fault.detail}`).toBe(true);
        expect(fault.newHolder).not.toBe(fault.holder);
        expect(fault.failoverSeconds).toBeGreaterThan(0);
        expect(fault.healSeconds).toBeGreaterThan(0);
      }
      process.stderr.write(
        `up test: rootless fault timings ${JSON.stringify(rootless.result!.faults!.map((f) => [f.fault, f.failoverSeconds, f.healSeconds]))}\n`,
      );
    });

    it("the nodes share the segment: the VIP is on one node only, which entered MASTER state", () => {
      expect(rootless.status?.code, rootless.status?.stderr).toBe(0);
      const holder = (JSON.parse(rootless.status!.stdout) as { holder: string | null }).holder;
      const withVip = NODES.filter((node) =>
        new RegExp(`^\\d+: enp0s8\\s+inet ${VIP.replace(/\./g, "\\.")}/24 `, "m").test(
          rootlessSection(node, "addresses"),
        ),
      );
      expect(withVip).toEqual([holder]);
      expect(rootlessSection(holder!, "vrrp")).toContain("(k8s_apiserver) Entering MASTER STATE");
      for (const node of NODES) expect(rootlessSection(node, "is-active").split("\n")).toEqual(["active", "active"]);
    });

    it("down, as the same user, stops every qemu and removes the lab's files", () => {
      expect(rootless.down?.code, rootless.down?.stderr).toBe(0);
      for (const vm of rootless.state!.vms) expect(qemuAlive(vm.pid!), `qemu of ${vm.node}`).toBe(false);
      expect(existsSync(join(rootlessOut, "up"))).toBe(false);
      // its cluster NIC was a socket segment in the test's namespace: it never made one of its own
      expect(labNamespaceExists(rootlessOut)).toBe(false);
      expect(labTraces()).toEqual(tracesBefore);
    });
  });
});

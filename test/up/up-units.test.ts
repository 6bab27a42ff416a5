// The pure parts of `up`: lab seeds (accepted by the real cloud-init, never the production seed),
// the qemu command line (NIC slots give the guest the spec's interface names), the host address.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { renderNodes } from "../../src/render/index.js";
import { LAB_APISERVER_CONFIG, labApiserverConfig, labArtifacts, labUserData } from "../../src/up/lab-seed.js";
import { FAULT_IDS, parseFaultList } from "../../src/up/fault-ids.js";
import { nicSlot } from "../../src/up/nic-slot.js";
import { hostAddress } from "../../src/up/qemu-provider.js";
import { qemuArgs } from "../../src/up/qemu.js";
import { labSegment, vmPaths } from "../../src/up/layout.js";
import { askVip } from "../../src/up/probe.js";
import type { UpState } from "../../src/up/state.js";
import { tempDir } from "../helpers/cli.js";
import { planOf } from "../helpers/plan.js";
import { loadMatrix } from "../helpers/matrix.js";
import { haveTools, isRoot } from "../helpers/tools.js";

const plan = planOf((s) => {
  s.spec.network.interface = "enp0s8";
});
const userDataOf = (artifacts: { path: string; contents: string | Uint8Array }[], node: string) =>
  String(artifacts.find((a) => a.path === `nodes/${node}/user-data`)!.contents);
const metaDataOf = (artifacts: { path: string; contents: string | Uint8Array }[], node: string) =>
  String(artifacts.find((a) => a.path === `nodes/${node}/meta-data`)!.contents);

describe("lab seeds", () => {
  const production = renderNodes(plan);
  const lab = labArtifacts(plan, production);

  it("keep everything of the production user-data and add the stand-in apiserver and the agent", () => {
    const before = parse(userDataOf(production, "master01")) as Record<string, any>;
    const after = parse(userDataOf(lab, "master01")) as Record<string, any>;
    expect(userDataOf(lab, "master01").startsWith("#cloud-config\n")).toBe(true);
    expect(after.write_files.slice(0, before.write_files.length)).toEqual(before.write_files);
    expect(after.write_files.map((f: { path: string }) => f.path)).toContain("/usr/local/sbin/k8s-ha-lab-agent");
    expect(after.runcmd.slice(0, before.runcmd.length)).toEqual(before.runcmd);
    expect(after.runcmd.at(-2)).toEqual([
      "systemctl",
      "--no-reload",
      "enable",
      "k8s-ha-lab-apiserver.service",
      "k8s-ha-lab-agent.service",
    ]);
    expect(after.runcmd.at(-1)[2]).toContain(
      "systemctl --no-block start k8s-ha-lab-apiserver.service k8s-ha-lab-agent.service",
    );
    // no systemd reload of its own: under TCG one outlasted systemctl's D-Bus timeout and the units never started
    expect(JSON.stringify(after.runcmd.slice(before.runcmd.length))).not.toMatch(/daemon-reload|"--now"/);
    expect(after.write_files.find((f: { path: string }) => f.path.endsWith("apiserver.service")).content).toContain(
      `haproxy -db -f ${LAB_APISERVER_CONFIG}\n`,
    );
    expect(after.write_files.find((f: { path: string }) => f.path === LAB_APISERVER_CONFIG).content).toContain(
      `bind :${plan.apiserverPort} ssl crt `,
    );
  });

  it("never touch the production artifacts, and get their own instance-id", () => {
    expect(userDataOf(production, "master01")).not.toContain("k8s-ha-lab");
    expect(metaDataOf(lab, "master01")).not.toEqual(metaDataOf(production, "master01"));
  });

  it.skipIf(!haveTools("shellcheck"))("carry an agent and a report script that shellcheck passes", () => {
    const after = parse(userDataOf(lab, "master01")) as { write_files: { path: string; content: string }[] };
    for (const path of ["/usr/local/sbin/k8s-ha-lab-agent", "/usr/local/sbin/k8s-ha-lab-report"]) {
      const script = after.write_files.find((f) => f.path === path)!.content;
      const check = spawnSync("shellcheck", ["-s", "sh", "-"], { input: script, encoding: "utf8" });
      expect(check.stdout + check.stderr, path).toBe("");
      expect(check.status, path).toBe(0);
    }
    // the report travels as one line of base64: the protocol stays one answer per line
    const agent = after.write_files.find((f) => f.path === "/usr/local/sbin/k8s-ha-lab-agent")!.content;
    expect(agent).toContain('"report ") reply=$(/usr/local/sbin/k8s-ha-lab-report 2>&1 | base64 -w0) ;;');
    // the rootless probe's VIP and port: the spec's, quoted, never read from the port
    expect(agent).toContain(`vip='${plan.vip}'\nlb_port='${plan.lbPort}'\n`);
    expect(agent).toContain('curl -sfk --max-time 2 -o /dev/null "https://$vip:$lb_port/healthz"');
  });

  it.skipIf(!haveTools("cloud-init"))("pass cloud-init's schema check", async () => {
    const { dir, cleanup } = await tempDir("k8s-ha-lab-seed-");
    try {
      const file = join(dir, "user-data");
      writeFileSync(file, labUserData(plan, plan.nodes[0]!, userDataOf(production, "master01")));
      expect(execFileSync("cloud-init", ["schema", "-c", file], { encoding: "utf8" })).toMatch(/Valid cloud-config/);
    } finally {
      await cleanup();
    }
  });
});

// The stand-in kube-apiserver is a second haproxy (lab-seed.ts): its config must load on every
// release a target ships (2.0 of Ubuntu 20.04 on) and answer GET /healthz with 200 over TLS.
describe("the lab's stand-in apiserver", () => {
  const withCert = async (run: (config: string, dir: string) => Promise<void>) => {
    const { dir, cleanup } = tempDir("k8s-ha-lab-apiserver-");
    try {
      execFileSync(
        "openssl",
        [
          "req",
          "-x509",
          "-newkey",
          "ec",
          "-pkeyopt",
          "ec_paramgen_curve:prime256v1",
          "-nodes",
          "-days",
          "1",
          "-subj",
          "/CN=t",
          "-keyout",
          join(dir, "k"),
          "-out",
          join(dir, "c"),
        ],
        { stdio: "ignore" },
      );
      writeFileSync(
        join(dir, "apiserver.pem"),
        readFileSync(join(dir, "c"), "utf8") + readFileSync(join(dir, "k"), "utf8"),
      );
      const config = join(dir, "apiserver.cfg");
      writeFileSync(
        config,
        labApiserverConfig(16443).replace("/etc/k8s-ha-lab/apiserver.pem", join(dir, "apiserver.pem")),
      );
      await run(config, dir);
    } finally {
      cleanup();
    }
  };

  it.skipIf(!haveTools("haproxy", "openssl"))(
    "passes haproxy -c without a warning, here and on every haproxy of the version matrix",
    async () => {
      const matrix = (await loadMatrix()) ?? [];
      const binaries = ["haproxy", ...matrix.filter((b) => b.tool === "haproxy").map((b) => b.path)];
      await withCert(async (config) => {
        for (const haproxy of binaries) {
          // -dW exists from 2.4; 2.0 prints its warnings, which fail the check too
          const output = execFileSync(haproxy, ["-c", "-f", config], {
            encoding: "utf8",
            stdio: ["ignore", "pipe", "pipe"],
          });
          expect(output.replace(/^Configuration file is valid\s*$/m, "").trim(), haproxy).toBe("");
        }
      });
    },
  );

  it.skipIf(!isRoot() || !haveTools("haproxy", "openssl", "curl", "ip"))(
    "answers GET /healthz with 200 over TLS (in a network namespace of its own)",
    async () => {
      const ns = `k8s-ha-lab-apiserver-${process.pid}`;
      execFileSync("ip", ["netns", "add", ns]);
      try {
        execFileSync("ip", ["-n", ns, "link", "set", "lo", "up"]);
        await withCert(async (config) => {
          const server = spawn("ip", ["netns", "exec", ns, "haproxy", "-db", "-f", config], { stdio: "ignore" });
          try {
            let status = "";
            for (let i = 0; i < 50 && status !== "200"; i++) {
              await new Promise((r) => setTimeout(r, 100));
              status = spawnSync(
                "ip",
                [
                  "netns",
                  "exec",
                  ns,
                  "curl",
                  "-sk",
                  "--max-time",
                  "2",
                  "-o",
                  "/dev/null",
                  "-w",
                  "%{http_code}",
                  "https://127.0.0.1:16443/healthz",
                ],
                { encoding: "utf8" },
              ).stdout;
            }
            expect(status).toBe("200");
          } finally {
            server.kill("SIGKILL");
            await new Promise((r) => server.once("close", r));
          }
        });
      } finally {
        execFileSync("ip", ["netns", "delete", ns]);
      }
    },
  );
});

describe("qemu command line", () => {
  const args = qemuArgs({
    name: "master01",
    paths: vmPaths("/tmp/x", "master01"),
    accel: "tcg",
    cpus: 1,
    memoryMiB: 768,
    nics: [
      { slot: 8, mac: "52:54:00:4b:00:01", kind: { tap: "k8sha-tap0" } },
      { slot: 3, mac: "52:54:00:4b:01:01", kind: { user: true } },
    ],
    agent: true,
  });
  const joined = args.join(" ");

  it("places each NIC at the PCI slot its name asks for, before any other device", () => {
    expect(joined).toContain(
      "-netdev tap,id=net0,ifname=k8sha-tap0,script=no,downscript=no -device virtio-net-pci,netdev=net0,mac=52:54:00:4b:00:01,addr=0x8",
    );
    expect(joined).toContain("-netdev user,id=net1 -device virtio-net-pci,netdev=net1,mac=52:54:00:4b:01:01,addr=0x3");
    expect(args.indexOf("-netdev")).toBeLessThan(args.indexOf("-drive"));
    expect(joined).toContain("PIIX4_PM.acpi-root-pci-hotplug=off");
  });

  it("boots UEFI from the overlay with the seed as CD-ROM, and runs as a daemon", () => {
    expect(joined).toContain("-bios /usr/share/ovmf/OVMF.fd");
    expect(joined).toContain("file=/tmp/x/up/master01/disk.qcow2,format=qcow2,if=virtio");
    expect(joined).toContain("file=/tmp/x/up/master01/seed.iso,format=raw,media=cdrom,readonly=on");
    expect(joined).not.toContain("-kernel");
    expect(args.slice(-3)).toEqual(["-daemonize", "-pidfile", "/tmp/x/up/master01/qemu.pid"]);
  });

  it("puts a rootless lab's cluster NIC on qemu's multicast socket network, on loopback only", () => {
    const rootless = qemuArgs({
      name: "master01",
      paths: vmPaths("/tmp/x", "master01"),
      accel: "tcg",
      cpus: 1,
      memoryMiB: 768,
      nics: [{ slot: 8, mac: "52:54:00:4b:00:01", kind: { segment: "239.255.7.9:31337" } }],
      agent: true,
    }).join(" ");
    expect(rootless).toContain(
      "-netdev socket,id=net0,mcast=239.255.7.9:31337,localaddr=127.0.0.1 -device virtio-net-pci,netdev=net0,mac=52:54:00:4b:00:01,addr=0x8",
    );
    expect(rootless).not.toContain("tap");
  });

  it("names NICs enp0s<slot> and rejects names it cannot place", () => {
    expect(nicSlot("enp0s8", "f")).toBe(8);
    expect(() => nicSlot("eth0", "spec.network.interface")).toThrow(/enp0s<slot>/);
    expect(() => nicSlot("enp0s2", "f")).toThrow();
  });
});

describe("up --faults", () => {
  it("runs the chosen faults in the rehearsal's order, whatever order they were named in", () => {
    expect(parseFaultList("holder-powered-off, keepalived-stopped")).toEqual([
      "keepalived-stopped",
      "holder-powered-off",
    ]);
    expect(parseFaultList("haproxy-stopped")).toEqual(["haproxy-stopped"]);
    expect(parseFaultList(FAULT_IDS.join(","))).toEqual([...FAULT_IDS]);
  });
});

describe("the host's address on the lab bridge", () => {
  it("is the spec's gateway, else the highest address no node and no VIP uses", () => {
    expect(hostAddress(plan)).toBe("10.0.2.1");
    const noGateway = planOf((s) => {
      delete s.spec.network.gateway;
      s.spec.nodes[1].address = "10.0.2.254";
    });
    expect(hostAddress(noGateway)).toBe("10.0.2.253");
  });
});

describe("the rootless lab's segment", () => {
  it("is a local-scope multicast group and port, the same for the same folder and another for another", () => {
    const a = labSegment("/labs/one");
    expect(a).toMatch(/^239\.255\.\d{1,3}\.\d{1,3}:\d{5}$/);
    const [group, port] = a.split(":");
    expect(group!.split(".").every((n) => Number(n) <= 255)).toBe(true);
    expect(Number(port)).toBeGreaterThanOrEqual(20_000);
    expect(Number(port)).toBeLessThan(60_000);
    expect(labSegment("/labs/one/")).toBe(a); // the folder, not its spelling
    expect(labSegment("/labs/two")).not.toBe(a);
  });
});

describe("the rootless VIP probe (the nodes' lab agents)", () => {
  /** A stand-in agent on a Unix socket: answers "vip" with `reply`, or never (a node still booting). */
  function fakeAgent(path: string, reply: string | undefined): Promise<Server> {
    const server = createServer((conn) => {
      conn.setEncoding("utf8");
      conn.on("data", (line: string) => {
        const [id, verb] = line.trim().split(" ");
        if (verb === "vip" && reply !== undefined) conn.end(`${id} ${reply}\n`);
      });
    });
    return new Promise((resolve) => server.listen(path, () => resolve(server)));
  }

  async function probe(replies: Record<string, string | undefined>) {
    const { dir, cleanup } = tempDir("k8s-ha-agents-");
    const servers: Server[] = [];
    try {
      const vms = [];
      for (const [node, reply] of Object.entries(replies)) {
        const agent = join(dir, `${node}.sock`);
        // a node whose VM is off has no listener at all
        if (reply !== "off") servers.push(await fakeAgent(agent, reply));
        vms.push({ node, agent });
      }
      const state = { network: "socket", vms } as unknown as UpState;
      return await askVip({ ip: "/nonexistent/ip", curl: "/nonexistent/curl" }, state);
    } finally {
      for (const s of servers) s.close();
      cleanup();
    }
  }

  it("finds the holder, and the VIP answering from a node that does not hold it", async () => {
    expect(await probe({ m1: "held=yes answers=yes", m2: "held=no answers=yes" })).toEqual({ ok: true, holder: "m1" });
    expect(await probe({ m1: "held=no answers=no", m2: "held=yes answers=yes" })).toEqual({ ok: false, holder: "m2" });
  });

  it("takes the holder's own answer when no other node runs", async () => {
    expect(await probe({ m1: "off", m2: "held=yes answers=yes" })).toEqual({ ok: true, holder: "m2" });
  });

  it("names no holder when none or two hold the VIP, and ignores what is not an answer", async () => {
    expect(await probe({ m1: "held=no answers=no", m2: "held=no answers=no" })).toEqual({ ok: false });
    expect(await probe({ m1: "held=yes answers=yes", m2: "held=yes answers=yes" })).toEqual({ ok: true });
    expect(await probe({ m1: "unknown", m2: "off" })).toEqual({ ok: false });
  });
});

// `up --provider virtualbox` against a recording stand-in VBoxManage (test/fixtures/vboxmanage),
// which checks every call against the VirtualBox 7.0 manual's syntax and fails as VBoxManage
// does. No VirtualBox here: the stand-in boots nothing, so cloud-init never reports and `up` must
// give up after --timeout, removing every VM it imported and the host-only interface it created.
// Proven: the calls and their order, the seed on a slot read from showvminfo, the clean-up.
// Not proven (no VirtualBox on these machines): that a real VM boots and the VIP answers.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { delimiter, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, ROOT, runCli, tempDir, type CliResult } from "../helpers/cli.js";
import { specYaml } from "../helpers/specs.js";
import { freeStorageSlot, parseMachineReadable } from "../../src/up/vbox-manage.js";

const STAND_IN = join(ROOT, "test/fixtures/vboxmanage");

interface Call {
  argv: string[];
  ok: boolean;
  error?: string;
}

describe("up --provider virtualbox with a recording VBoxManage", () => {
  let dir = "";
  let cleanup = async () => {};
  let up: CliResult;
  let calls: Call[] = [];
  let out = "";

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir("k8s-ha-up-vbox-"));
    const spec = join(dir, "k8s-ha.yaml");
    await writeFile(
      spec,
      specYaml((s) => {
        s.spec.vip = "192.0.2.100";
        s.spec.network = { interface: "enp0s8", prefixLength: 24, gateway: "192.0.2.1" };
        s.spec.nodes = [
          { name: "master01", address: "192.0.2.10" },
          { name: "master02", address: "192.0.2.11" },
        ];
      }),
    );
    const ova = join(dir, "golden.ova");
    await writeFile(ova, "an OVA the stand-in only checks exists");
    out = join(dir, "out");
    up = await runCli(
      ["up", spec, "-o", out, "--provider", "virtualbox", "--image", ova, "--memory", "1024", "--timeout", "3"],
      {
        env: { PATH: `${STAND_IN}${delimiter}${process.env.PATH}`, K8S_HA_FAKE_VBOX_DIR: dir },
      },
    );
    calls = readFileSync(join(dir, "calls.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as Call);
  });
  afterAll(() => cleanup());

  it("makes only calls VBoxManage accepts", () => {
    expect(calls.filter((c) => !c.ok)).toEqual([]);
  });

  it("creates the host-only network, imports, configures, seeds and starts each VM in turn", () => {
    const verbs = calls.map((c) => c.argv.slice(0, 2).join(" "));
    expect(verbs.slice(0, 3)).toEqual([
      "hostonlyif create",
      "hostonlyif ipconfig",
      "import " + join(dir, "golden.ova"),
    ]);
    expect(calls[1]!.argv).toEqual([
      "hostonlyif",
      "ipconfig",
      "vboxnet0",
      "--ip",
      "192.0.2.1",
      "--netmask",
      "255.255.255.0",
    ]);
    expect(calls[2]!.argv.slice(2)).toEqual([
      "--vsys",
      "0",
      "--vmname",
      "lab-master01",
      "--basefolder",
      join(out, "up/master01/vbox"),
    ]);
    expect(calls[3]!.argv).toEqual([
      "modifyvm",
      "lab-master01",
      "--cpus",
      "2",
      "--memory",
      "1024",
      "--nic2",
      "hostonly",
      "--host-only-adapter2",
      "vboxnet0",
      "--mac-address2",
      "5254004B0001",
      "--cable-connected2",
      "on",
      "--uart1",
      "0x3F8",
      "4",
      "--uart-mode1",
      "file",
      join(out, "up/master01/serial.log"),
    ]);
    expect(calls[4]!.argv).toEqual(["showvminfo", "lab-master01", "--machinereadable"]);
    // the first free slot on the IDE controller, as showvminfo listed it
    expect(calls[5]!.argv).toEqual([
      "storageattach",
      "lab-master01",
      "--storagectl",
      "IDE Controller",
      "--port",
      "0",
      "--device",
      "0",
      "--type",
      "dvddrive",
      "--medium",
      join(out, "up/master01/seed.iso"),
    ]);
    expect(calls[6]!.argv).toEqual(["startvm", "lab-master01", "--type", "headless"]);
    expect(verbs.slice(7, 12)).toEqual([
      "import " + join(dir, "golden.ova"),
      "modifyvm lab-master02",
      "showvminfo lab-master02",
      "storageattach lab-master02",
      "startvm lab-master02",
    ]);
  });

  it("gives up after --timeout with exit 3, and removes every VM it made and the host-only interface", () => {
    expect(up.code, up.stderr).toBe(3);
    expect(up.stderr).toMatch(/cloud-init did not finish on master01, master02 within 3 s/);
    const tail = calls.slice(12).map((c) => c.argv.join(" "));
    expect(tail.filter((c) => c.startsWith("controlvm"))).toEqual([
      "controlvm lab-master01 poweroff",
      "controlvm lab-master02 poweroff",
    ]);
    expect(tail.filter((c) => c.startsWith("unregistervm"))).toEqual([
      "unregistervm lab-master01 --delete",
      "unregistervm lab-master02 --delete",
    ]);
    expect(tail.at(-1)).toBe("hostonlyif remove vboxnet0");
    const left = JSON.parse(readFileSync(join(dir, "state.json"), "utf8")) as { vms: object; hostonly: string[] };
    expect(left).toEqual({ vms: {}, hostonly: [] });
    expect(existsSync(join(out, "up"))).toBe(false);
  });
});

describe("the seed's storage slot, from showvminfo --machinereadable", () => {
  const info = (slots: string) =>
    parseMachineReadable(
      [
        'name="lab-master01"',
        'storagecontrollername0="SATA Controller"',
        'storagecontrollertype0="IntelAhci"',
        'storagecontrollername1="IDE Controller"',
        'storagecontrollertype1="PIIX4"',
        '"SATA Controller-0-0"="/vms/disk001.vmdk"',
        '"SATA Controller-1-0"="none"',
        slots,
      ].join("\n"),
    );

  it("takes the first free IDE slot, not one that holds a disk", () => {
    const slot = freeStorageSlot(
      info('"IDE Controller-0-0"="/vms/other.vdi"\n"IDE Controller-0-1"="none"\n"IDE Controller-1-0"="none"'),
      "/seed.iso",
    );
    expect(slot).toEqual({ controller: "IDE Controller", port: 0, device: 1 });
  });

  it("reuses the slot holding this seed, or an empty DVD drive, before a free one", () => {
    expect(freeStorageSlot(info('"IDE Controller-0-0"="none"\n"IDE Controller-1-0"="/seed.iso"'), "/seed.iso")).toEqual(
      { controller: "IDE Controller", port: 1, device: 0 },
    );
    expect(
      freeStorageSlot(info('"IDE Controller-0-0"="none"\n"IDE Controller-1-1"="emptydrive"'), "/seed.iso"),
    ).toEqual({ controller: "IDE Controller", port: 1, device: 1 });
  });

  it("falls back to another controller, and finds nothing when every slot is taken", () => {
    expect(freeStorageSlot(info('"IDE Controller-0-0"="/a.vdi"'), "/seed.iso")).toEqual({
      controller: "SATA Controller",
      port: 1,
      device: 0,
    });
    expect(
      freeStorageSlot(
        parseMachineReadable('storagecontrollername0="IDE"\nstoragecontrollertype0="PIIX4"\n"IDE-0-0"="/a.vdi"'),
        "/seed.iso",
      ),
    ).toBeUndefined();
  });
});

describe("Ctrl-C during up --provider virtualbox", () => {
  it("stops and removes every VM it made, removes the host-only interface and exits 130", async () => {
    const { dir, cleanup } = await tempDir("k8s-ha-up-vbox-int-");
    try {
      const spec = join(dir, "k8s-ha.yaml");
      await writeFile(
        spec,
        specYaml((s) => {
          s.spec.vip = "192.0.2.100";
          s.spec.network = { interface: "enp0s8", prefixLength: 24 };
          s.spec.nodes = [
            { name: "master01", address: "192.0.2.10" },
            { name: "master02", address: "192.0.2.11" },
          ];
        }),
      );
      const ova = join(dir, "golden.ova");
      await writeFile(ova, "x");
      const out = join(dir, "out");
      const child = spawn(
        process.execPath,
        [
          BIN,
          "up",
          spec,
          "-o",
          out,
          "--provider",
          "virtualbox",
          "--image",
          ova,
          "--memory",
          "1024",
          "--timeout",
          "600",
        ],
        {
          env: { ...process.env, PATH: `${STAND_IN}${delimiter}${process.env.PATH}`, K8S_HA_FAKE_VBOX_DIR: dir },
          stdio: ["ignore", "pipe", "pipe"],
        },
      );
      let stderr = "";
      child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
      const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
      // interrupt once both VMs run and up waits for them
      while (!stderr.includes("waiting for cloud-init")) {
        if (child.exitCode !== null) throw new Error(`up ended early:\n${stderr}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      child.kill("SIGINT");
      expect(await exited, stderr).toBe(130);
      expect(stderr).toMatch(/SIGINT: stopping/);
      const left = JSON.parse(readFileSync(join(dir, "state.json"), "utf8")) as { vms: object; hostonly: string[] };
      expect(left).toEqual({ vms: {}, hostonly: [] });
      expect(existsSync(join(out, "up"))).toBe(false);
    } finally {
      await cleanup();
    }
  });
});

// The rendered VirtualBox template run by the real Packer 1.6.6 `virtualbox-iso` builder through
// `build-image`, with a stand-in VBoxManage that records every call (VirtualBox cannot be had
// here). The build runs until Packer has typed the boot command and waits for SSH, then is
// interrupted like a Ctrl-C. That is enough to see what Packer asks of VirtualBox: the
// controllers and slots it makes, our vboxmanage lines, and the VirtualBox 7 NAT flag that
// preflight decides from `VBoxManage --version` (packer #12118). Packer runs in a network
// namespace of its own with only `lo` (its HTTP server listens on every address).
import { execFileSync, spawnSync } from "node:child_process";
import { sha256 } from "../../src/write/hash.js";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { InterruptedError } from "../../src/errors.js";
import { loadPackerAssets } from "../../src/packer/assets.js";
import { buildImage } from "../../src/packer/build-image.js";
import { PACKER_MAIN_FILE, renderPacker } from "../../src/packer/render.js";
import { INSTALLER_ISOS } from "../../src/spec/targets.js";
import { haveTools, IN_CI, isRoot } from "../helpers/tools.js";
import { Capture, DEFAULT_IMAGE, packerTestEnv, tempDir } from "./helpers.js";

function prerequisites(): boolean {
  if (!isRoot()) {
    if (IN_CI) throw new Error("the stand-in VirtualBox test must run as root in CI (ip netns)");
    process.stderr.write("\n!!!!! SKIPPING the stand-in VirtualBox test: it needs root (ip netns) !!!!!\n\n");
    return false;
  }
  return haveTools("packer", "ip");
}

const ready = prerequisites();
const NETNS = `k8s-ha-vbox-${process.pid}`;
const VM = DEFAULT_IMAGE.name;
let work: { dir: string; cleanup: () => void };

beforeAll(() => {
  if (ready) execFileSync("ip", ["netns", "add", NETNS]);
  if (ready) execFileSync("ip", ["-n", NETNS, "link", "set", "lo", "up"]);
});
afterAll(() => {
  if (ready) spawnSync("ip", ["netns", "del", NETNS]);
});
beforeEach(() => {
  work = tempDir("vbox-standin");
});
afterEach(() => {
  vi.unstubAllEnvs();
  work.cleanup();
});

/** Bakes with VBoxManage reporting `version` until the boot command is typed; returns VBoxManage's calls. */
async function bakeUntilBootCommand(version: string): Promise<{ calls: string[]; stderr: string }> {
  const bin = join(work.dir, "bin");
  mkdirSync(bin);
  const calls = join(work.dir, "calls");
  writeFileSync(calls, "");
  writeFileSync(
    join(bin, "VBoxManage"),
    `#!/bin/sh\nprintf '%s\\n' "$*" >>'${calls}'\ncase "$1" in\n  --version) echo '${version}' ;;\n  showvminfo) echo 'VMState="running"' ;;\nesac\nexit 0\n`,
    { mode: 0o755 },
  );
  const packer = String(await import("../../src/tools/run.js").then((m) => m.which("packer")));
  writeFileSync(join(bin, "packer-in-netns"), `#!/bin/sh\nexec ip netns exec '${NETNS}' '${packer}' "$@"\n`, {
    mode: 0o755,
  });
  vi.stubEnv("PATH", `${bin}:/usr/sbin:/usr/bin:/sbin:/bin`);

  // The shipped template, with one change: a small local file instead of the Ubuntu ISO.
  const iso = join(work.dir, "fake.iso");
  writeFileSync(iso, Buffer.alloc(1 << 20));
  const sha = sha256(readFileSync(iso));
  const upstream = INSTALLER_ISOS["ubuntu-20.04"]!;
  const artifacts = renderPacker({
    clusterName: "lab",
    image: DEFAULT_IMAGE,
    os: "ubuntu-20.04",
    assets: await loadPackerAssets(),
  }).map((a) =>
    a.path === PACKER_MAIN_FILE
      ? { ...a, contents: String(a.contents).replace(upstream.url, iso).replace(upstream.checksum, `sha256:${sha}`) }
      : a,
  );

  const controller = new AbortController();
  const typed = setInterval(() => {
    if (existsSync(calls) && readFileSync(calls, "utf8").includes(" keyboardputscancode 09 89")) controller.abort();
  }, 200);
  const stderr = new Capture();
  try {
    const error = await buildImage({
      outDir: join(work.dir, "out"),
      specSha256: "a".repeat(64),
      clusterName: "lab",
      image: DEFAULT_IMAGE,
      os: "ubuntu-20.04",
      packer: join(bin, "packer-in-netns"),
      requireVirtualBox: true,
      template: { artifacts, mainFile: PACKER_MAIN_FILE },
      stderr,
      tty: false,
      env: packerTestEnv(work.dir),
      signal: controller.signal,
    }).catch((e: unknown) => e);
    expect(error, stderr.text).toBeInstanceOf(InterruptedError);
  } finally {
    clearInterval(typed);
  }
  return { calls: readFileSync(calls, "utf8").trim().split("\n"), stderr: stderr.text };
}

describe.skipIf(!ready)(
  "the VirtualBox template under Packer 1.6.6, with a stand-in VBoxManage",
  { timeout: 120_000 },
  () => {
    it("VirtualBox 7: the NAT flag after our vboxmanage lines, before the VM starts; the seed's slot stays free", async () => {
      const { calls, stderr } = await bakeUntilBootCommand("7.0.14r161095");
      const index = (line: string) => calls.indexOf(line);
      const nat = index(`modifyvm ${VM} --nat-localhostreachable1 on`);
      expect(nat, calls.join("\n")).toBeGreaterThan(index(`modifyvm ${VM} --vram 16`));
      expect(nat).toBeLessThan(index(`startvm ${VM} --type headless`));
      expect(stderr).toContain("--nat-localhostreachable1 on");
      // Packer 1.6.6 names the controller "IDE Controller" and puts the installer ISO at port 0,
      // device 1: port 0, device 0 (where `seed` attaches) is free, and the disk is on SATA.
      expect(calls).toContain(`storagectl ${VM} --name IDE Controller --add ide`);
      expect(
        calls.some((c) =>
          c.startsWith(`storageattach ${VM} --storagectl IDE Controller --port 0 --device 1 --type dvddrive`),
        ),
      ).toBe(true);
      expect(calls.some((c) => /--storagectl IDE Controller --port 0 --device 0 /.test(c))).toBe(false);
      expect(
        calls.some((c) =>
          c.startsWith(`storageattach ${VM} --storagectl SATA Controller --port 0 --device 0 --type hdd`),
        ),
      ).toBe(true);
      // The keys were typed after the VM started; Ctrl-C then made Packer power the VM off and delete it.
      expect(index(`controlvm ${VM} keyboardputscancode 1c 9c`)).toBeGreaterThan(
        index(`startvm ${VM} --type headless`),
      );
      expect(calls).toContain(`unregistervm ${VM} --delete`);
    });

    it("VirtualBox 6.1: no NAT flag (VirtualBox 6 rejects it)", async () => {
      const { calls } = await bakeUntilBootCommand("6.1.50r161033");
      expect(calls).toContain(`startvm ${VM} --type headless`);
      expect(calls.filter((c) => c.includes("nat-localhostreachable"))).toEqual([]);
    });
  },
);

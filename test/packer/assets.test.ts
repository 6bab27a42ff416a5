// The static pieces of packer/: shellcheck on the scripts, cloud-init on the autoinstall seed,
// the build user agreed on by the seed, the template and the last script, and the package
// script's refusal of anything that is not a package name.
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { findPackerAssetsDir, loadPackerAssets, packerAssetsDir } from "../../src/packer/assets.js";
import { PACKER_ASSET_FILES, PACKER_MAIN_FILE, renderPacker, type PackerAssets } from "../../src/packer/render.js";
import { haveTools } from "../helpers/tools.js";
import { DEFAULT_IMAGE, tempDir } from "./helpers.js";

let assets: PackerAssets;
let main: string;
beforeAll(async () => {
  assets = await loadPackerAssets();
  const rendered = renderPacker({ clusterName: "lab", image: DEFAULT_IMAGE, os: "ubuntu-20.04", assets });
  main = String(rendered.find((a) => a.path === PACKER_MAIN_FILE)?.contents);
});

const scriptsDir = join(packerAssetsDir(), "scripts");
const scripts = readdirSync(scriptsDir).filter((f) => f.endsWith(".sh"));

describe("packer/ assets", { timeout: 30_000 }, () => {
  it("are found from the source tree and from a bundle in dist/ alike", () => {
    const dir = tempDir("layout");
    try {
      const root = join(dir.dir, "node_modules", "k8s-ha");
      mkdirSync(join(root, "packer", "http"), { recursive: true });
      mkdirSync(join(root, "dist", "packer"), { recursive: true });
      writeFileSync(join(root, "package.json"), "{}");
      writeFileSync(join(root, "packer", "http", "user-data"), "#cloud-config\n");
      expect(findPackerAssetsDir(join(root, "dist"))).toBe(join(root, "packer")); // esbuild chunk
      expect(findPackerAssetsDir(join(root, "dist", "packer"))).toBe(join(root, "packer")); // tsc output
      expect(findPackerAssetsDir(join(dir.dir, "elsewhere"))).toBeUndefined();
      expect(packerAssetsDir()).toBe(join(process.cwd(), "packer"));
    } finally {
      dir.cleanup();
    }
  });

  it("lists every script in the folder, and the folder has every listed file", () => {
    expect(scripts.map((s) => `scripts/${s}`).sort()).toEqual(
      PACKER_ASSET_FILES.filter((f) => f.startsWith("scripts/")),
    );
    for (const file of PACKER_ASSET_FILES) expect(assets[file].length, file).toBeGreaterThan(0);
  });

  it("scripts start with a shebang and `set -eu`", () => {
    for (const file of PACKER_ASSET_FILES.filter((f) => f.endsWith(".sh"))) {
      const text = assets[file];
      expect(text.startsWith("#!/bin/sh\n"), file).toBe(true);
      expect(text, file).toMatch(/^set -eu$/m);
    }
  });

  it.skipIf(!haveTools("shellcheck"))("scripts are shellcheck-clean", () => {
    const result = spawnSync("shellcheck", ["--shell=sh", ...scripts.map((s) => join(scriptsDir, s))], {
      encoding: "utf8",
    });
    expect(result.stdout + result.stderr).toBe("");
    expect(result.status).toBe(0);
  });

  it.skipIf(!haveTools("cloud-init"))("the autoinstall seed is valid cloud-config", () => {
    const result = spawnSync("cloud-init", ["schema", "-c", join(packerAssetsDir(), "http", "user-data")], {
      encoding: "utf8",
    });
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
  });

  it("the seed, the template and 99-shutdown.sh agree on the build user", () => {
    const seed = parse(assets["http/user-data"]) as {
      autoinstall: {
        version: number;
        identity: { username: string; password: string };
        ssh: Record<string, boolean>;
        "early-commands": string[];
        "late-commands": string[];
        storage: { swap: { size: number } };
      };
    };
    const auto = seed.autoinstall;
    expect(auto.version).toBe(1);
    expect(auto.ssh).toEqual({ "install-server": true, "allow-pw": true });
    expect(auto["early-commands"].join("\n")).toContain("systemctl stop ssh");
    expect(auto.storage.swap.size).toBe(0);

    const user = auto.identity.username;
    const password = /ssh_password\s+= "([^"]+)"/.exec(main)?.[1];
    expect(/ssh_username\s+= "([^"]+)"/.exec(main)?.[1]).toBe(user);
    expect(assets["scripts/99-shutdown.sh"]).toContain(`build_user=${user}\n`);

    // The hash in the seed is the template's password, so the two cannot drift apart.
    const [, , salt] = auto.identity.password.split("$");
    const crypt = execFileSync("openssl", ["passwd", "-6", "-salt", String(salt), String(password)], {
      encoding: "utf8",
    });
    expect(crypt.trim()).toBe(auto.identity.password);

    const sudoers = /\/target(\/etc\/sudoers\.d\/[\w-]+)/.exec(auto["late-commands"].join("\n"))?.[1];
    expect(sudoers).toBeDefined();
    expect(assets["scripts/99-shutdown.sh"]).toContain(String(sudoers));

    const remote = /destination = "([^"]+)"/.exec(main)?.[1];
    expect(main).toMatch(new RegExp(`shutdown_command = "sudo -n /bin/sh ${remote}"`));
  });

  it("90-generalize and 99-shutdown remove what would make a clone ignore its seed or share an identity", () => {
    const generalize = assets["scripts/90-generalize.sh"];
    for (const needle of [
      "cloud-init clean --logs",
      '"$cfg_d/99-installer.cfg"',
      "subiquity-disable-cloudinit-networking.cfg",
      ": >/etc/machine-id",
      "rm -f /etc/netplan/*.yaml",
    ]) {
      expect(generalize).toContain(needle);
    }
    const shutdown = assets["scripts/99-shutdown.sh"];
    for (const needle of ["rm -f /etc/ssh/ssh_host_*", "PasswordAuthentication no", "userdel --force --remove"]) {
      expect(shutdown).toContain(needle);
    }
    // Power-off comes last, after everything else succeeded (set -e).
    expect(shutdown.trimEnd().endsWith("shutdown -P now")).toBe(true);
  });
});

describe("20-install-packages.sh", () => {
  // Runs the real script with apt-get, systemctl and dpkg-query replaced by recorders.
  // `updateFailures`: how many `apt-get update` calls fail first, as while apt-daily holds the lists lock.
  function runInstall(
    extraPackages: string,
    updateFailures = 0,
  ): { status: number | null; calls: string[]; stderr: string } {
    const dir = tempDir("install");
    try {
      const log = join(dir.dir, "calls.log");
      for (const tool of ["apt-get", "systemctl", "dpkg-query", "sleep"]) {
        const stub = join(dir.dir, tool);
        const fail =
          tool === "apt-get"
            ? `case "$*" in *" update") n=$(grep -c ' update$' "${log}"); [ "$n" -le ${updateFailures} ] && exit 100;; esac\n`
            : "";
        writeFileSync(stub, `#!/bin/sh\necho "${tool} $*" >> "${log}"\n${fail}exit 0\n`);
        chmodSync(stub, 0o755);
      }
      writeFileSync(log, "");
      const result = spawnSync("sh", [join(scriptsDir, "20-install-packages.sh")], {
        env: { PATH: `${dir.dir}:/usr/bin:/bin`, EXTRA_PACKAGES: extraPackages },
        encoding: "utf8",
      });
      return { status: result.status, calls: readFileSync(log, "utf8").trim().split("\n"), stderr: result.stderr };
    } finally {
      dir.cleanup();
    }
  }

  it("installs the base set plus the extra packages, then disables keepalived and haproxy", () => {
    const { status, calls } = runInstall("jq vim=2:8.1.2269-1ubuntu5");
    expect(status).toBe(0);
    expect(calls[0]).toBe("apt-get -q -y -o DPkg::Lock::Timeout=600 update");
    expect(calls[1]).toBe(
      "apt-get -q -y -o DPkg::Lock::Timeout=600 install --no-install-recommends keepalived haproxy curl ufw cloud-init jq vim=2:8.1.2269-1ubuntu5",
    );
    expect(calls[2]).toBe("systemctl disable --now keepalived.service haproxy.service");
  });

  it("waits for the apt lists lock by retrying apt-get update (apt 2.0 ignores DPkg::Lock::Timeout there)", () => {
    const { status, calls, stderr } = runInstall("", 2);
    expect(status).toBe(0);
    const update = "apt-get -q -y -o DPkg::Lock::Timeout=600 update";
    expect(calls.slice(0, 6)).toEqual([
      update,
      "sleep 10",
      update,
      "sleep 10",
      update,
      expect.stringMatching(/ install /),
    ]);
    expect(stderr).toContain("apt-get update failed (the lists lock held by apt-daily?); again in 10s");
  });

  it("gives up on apt-get update after 60 tries", () => {
    const { status, calls, stderr } = runInstall("", 1000);
    expect(status).toBe(1);
    expect(calls.filter((c) => c.endsWith(" update"))).toHaveLength(60);
    expect(calls.some((c) => c.includes(" install "))).toBe(false);
    expect(stderr).toContain("apt-get update failed 60 times in 10 minutes");
  });

  it.each([["--allow-unauthenticated"], ["jq;reboot"], ["$(id)"], ["*"]])("refuses %s before calling apt", (bad) => {
    const { status, calls, stderr } = runInstall(`jq ${bad}`);
    expect(status).toBe(1);
    expect(stderr).toContain("not a Debian package name");
    expect(calls).toEqual([""]);
  });
});

describe("95-check-image.sh", () => {
  // The real script on this machine, with dpkg-query and systemctl replaced: a host that was never
  // generalised must fail it, and every check must say what it found.
  it("fails the build (exit 1) and names each failed check; a release mismatch fails too", () => {
    const dir = tempDir("check-image");
    try {
      writeFileSync(
        join(dir.dir, "dpkg-query"),
        '#!/bin/sh\ncase "$*" in *Status*) echo "install ok installed 1:2.2.7-1+b2";; *) echo "1:2.2.7-1+b2";; esac\n',
      );
      writeFileSync(
        join(dir.dir, "systemctl"),
        '#!/bin/sh\ncase "$1" in is-enabled) echo enabled;; is-active) echo active;; esac\n',
      );
      for (const tool of ["dpkg-query", "systemctl"]) chmodSync(join(dir.dir, tool), 0o755);
      const result = spawnSync("sh", [join(scriptsDir, "95-check-image.sh")], {
        env: {
          PATH: `${dir.dir}:/usr/bin:/bin`,
          EXPECT_KEEPALIVED: "2.2.7",
          EXPECT_HAPROXY: "2.6",
          EXTRA_PACKAGES: "jq",
        },
        encoding: "utf8",
      });
      expect(result.status).toBe(1);
      expect(result.stdout).toContain("image-check: package jq 1:2.2.7-1+b2\n");
      expect(result.stdout).toContain("image-check: ok keepalived 1:2.2.7-1+b2 is release 2.2.7\n");
      expect(result.stdout).toContain(
        "image-check: FAIL haproxy release: installed '1:2.2.7-1+b2', k8s-ha renders its config for 2.6\n",
      );
      expect(result.stdout).toContain(
        "image-check: FAIL keepalived.service: is enabled and active; the seed enables it\n",
      );
      if (readFileSync("/etc/machine-id", "utf8").trim() !== "")
        expect(result.stdout).toMatch(/^image-check: FAIL machine-id: [0-9a-f]{32}$/m);
      expect(result.stderr).toMatch(/^image-check: failed \d+ of \d+ checks$/m);
      expect(result.stdout).not.toContain("image-check: passed");
    } finally {
      dir.cleanup();
    }
  });
});

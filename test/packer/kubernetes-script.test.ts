// packer/scripts/30-kubernetes.sh for real: run in a chroot of a Debian 12 root (built once and
// cached by scripts/build-kube-chroot.sh, copied here, never changed) against a local, signed apt
// repository shaped like pkgs.k8s.io (stand-in kubeadm/kubelet/kubectl .debs next to Debian's
// real containerd). Nothing leaves the machine: the repository is a file:// URL inside the root.
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, tempDir } from "../helpers/cli.js";
import { haveTools, IN_CI, isRoot } from "../helpers/tools.js";

const SCRIPT = join(ROOT, "packer/scripts/30-kubernetes.sh");
const REPO_FIXTURE = join(ROOT, "test/packer/fixtures/local-apt-repo.sh");
const BUILDER = join(ROOT, "scripts/build-kube-chroot.sh");
const REPO_IN_ROOT = "/srv/k8s-repo";

function prerequisites(): boolean {
  if (!isRoot()) {
    if (IN_CI) throw new Error("the image script test must run as root in CI (debootstrap, chroot)");
    process.stderr.write("\n!!!!! SKIPPING the 30-kubernetes.sh chroot test: it needs root !!!!!\n\n");
    return false;
  }
  return haveTools("debootstrap", "dpkg-deb", "dpkg-scanpackages", "gpg", "flock");
}

const canRun = prerequisites();

/** Runs the script in the root with only the parameters given (and a plain PATH). */
function runScript(root: string, env: Record<string, string>) {
  copyFileSync(SCRIPT, join(root, "tmp/30-kubernetes.sh"));
  const vars = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  return spawnSync(
    "env",
    [
      "-i",
      "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
      "LC_ALL=C",
      ...vars,
      "chroot",
      root,
      "/bin/sh",
      "/tmp/30-kubernetes.sh",
    ],
    {
      encoding: "utf8",
      timeout: 600_000,
      killSignal: "SIGKILL",
    },
  );
}

function inRoot(root: string, ...command: string[]): string {
  return execFileSync("chroot", [root, ...command], {
    encoding: "utf8",
    env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", LC_ALL: "C" },
  });
}

describe.skipIf(!canRun)("packer/scripts/30-kubernetes.sh in a Debian 12 chroot", () => {
  let tmp: { dir: string; cleanup: () => Promise<void> };
  let root: string;
  let cache: string;
  let run: ReturnType<typeof runScript>;
  const params = {
    K8S_HA_KUBERNETES_VERSION: "1.31.4",
    K8S_HA_KUBERNETES_REPO: `file://${REPO_IN_ROOT}/`,
    K8S_HA_KUBERNETES_KEY_URL: `file://${REPO_IN_ROOT}/Release.key`,
  };

  beforeAll(async () => {
    cache = execFileSync("bash", [BUILDER], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
      timeout: 1_800_000,
    })
      .trim()
      .split("\n")
      .pop()!;
    tmp = await tempDir("k8s-ha-kube-chroot-");
    root = join(tmp.dir, "root");
    mkdirSync(root);
    execFileSync("tar", ["-C", root, "--numeric-owner", "-xf", join(cache, "rootfs.tar")]);
    // the newer release beside the wanted one proves the pin; the extra revision, that the newest revision of it wins
    execFileSync(
      "bash",
      [REPO_FIXTURE, join(root, REPO_IN_ROOT), join(cache, "debs"), "1.31.4-1.0", "1.31.4-1.1", "1.31.5-1.1"],
      { stdio: ["ignore", "inherit", "inherit"] },
    );
    // as in an Ubuntu install: a swap file in fstab; and no service may start inside the chroot
    writeFileSync(join(root, "etc/fstab"), "/dev/vda / ext4 errors=remount-ro 0 1\n/swap.img\tnone\tswap\tsw\t0\t0\n");
    writeFileSync(join(root, "usr/sbin/policy-rc.d"), "#!/bin/sh\nexit 101\n", { mode: 0o755 });
    run = runScript(root, params);
  }, 1_900_000);

  afterAll(async () => {
    await tmp?.cleanup();
  });

  it("succeeds and reports the installed versions for the image record", () => {
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout).toMatch(/^k8s-ha-package kubeadm 1\.31\.4-1\.1$/m);
    expect(run.stdout).toMatch(/^k8s-ha-package containerd \S+$/m);
  });

  it("installs exactly the requested release of kubeadm, kubelet and kubectl, and Debian's containerd", () => {
    const installed = inRoot(
      root,
      "dpkg-query",
      "--show",
      "--showformat=${Package} ${Version} ${db:Status-Status}\\n",
      "kubeadm",
      "kubelet",
      "kubectl",
      "containerd",
    );
    expect(installed).toMatch(/^kubeadm 1\.31\.4-1\.1 installed$/m);
    expect(installed).toMatch(/^kubelet 1\.31\.4-1\.1 installed$/m);
    expect(installed).toMatch(/^kubectl 1\.31\.4-1\.1 installed$/m);
    const containerdDeb = readdirSync(join(cache, "debs")).find((f) => f.startsWith("containerd_"))!;
    const debVersion = decodeURIComponent(containerdDeb.split("_")[1]!);
    expect(installed).toContain(`containerd ${debVersion} installed`);
    expect(inRoot(root, "containerd", "--version")).toMatch(/containerd/);
  });

  it("holds all four packages", () => {
    expect(inRoot(root, "apt-mark", "showhold").trim().split("\n").sort()).toEqual([
      "containerd",
      "kubeadm",
      "kubectl",
      "kubelet",
    ]);
  });

  it("uses the repository through a signed-by keyring, not the global trust store", () => {
    expect(readFileSync(join(root, "etc/apt/sources.list.d/kubernetes.list"), "utf8")).toBe(
      `deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.asc] file://${REPO_IN_ROOT}/ /\n`,
    );
    expect(readFileSync(join(root, "etc/apt/keyrings/kubernetes-apt-keyring.asc"), "utf8")).toBe(
      readFileSync(join(root, REPO_IN_ROOT, "Release.key"), "utf8"),
    );
    expect(existsSync(join(root, "etc/apt/trusted.gpg.d/kubernetes-apt-keyring.asc"))).toBe(false);
  });

  it("configures containerd with the systemd cgroup driver", () => {
    const config = readFileSync(join(root, "etc/containerd/config.toml"), "utf8");
    expect(config).toMatch(/^\s*SystemdCgroup = true$/m);
    expect(config).not.toMatch(/SystemdCgroup = false/);
  });

  it("loads overlay and br_netfilter at boot and sets the sysctls kubeadm checks", () => {
    const modules = readFileSync(join(root, "etc/modules-load.d/k8s-ha-kubernetes.conf"), "utf8")
      .split("\n")
      .filter((l) => l && !l.startsWith("#"));
    expect(modules).toEqual(["overlay", "br_netfilter"]);
    const sysctl = readFileSync(join(root, "etc/sysctl.d/99-k8s-ha-kubernetes.conf"), "utf8");
    expect(sysctl).toMatch(/^net\.ipv4\.ip_forward = 1$/m);
    expect(sysctl).toMatch(/^net\.bridge\.bridge-nf-call-iptables = 1$/m);
  });

  it("turns swap off for good and enables containerd and the kubelet", () => {
    const fstab = readFileSync(join(root, "etc/fstab"), "utf8");
    expect(fstab).toMatch(/^# k8s-ha: swap off for the kubelet # \/swap\.img\tnone\tswap/m);
    expect(fstab).toMatch(/^\/dev\/vda \/ ext4/m);
    expect(readlinkSync(join(root, "etc/systemd/system/swap.target"))).toBe("/dev/null");
    for (const unit of ["containerd.service", "kubelet.service"]) {
      // an absolute link, as systemctl makes it: resolve it inside the root, not on this machine
      const target = readlinkSync(join(root, "etc/systemd/system/multi-user.target.wants", unit));
      expect(target, unit).toMatch(new RegExp(`^/(usr/)?lib/systemd/system/${unit}$`));
      expect(existsSync(join(root, target)), target).toBe(true);
    }
  });

  it("fails, naming the package, when the repository lacks the release", () => {
    const missing = runScript(root, { ...params, K8S_HA_KUBERNETES_VERSION: "1.31.9" });
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toMatch(/has no kubeadm 1\.31\.9/);
  });

  it("refuses parameters that are not plain URLs or versions", () => {
    const bad = runScript(root, { ...params, K8S_HA_KUBERNETES_REPO: "file:///srv/k8s-repo/ trusted=yes" });
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/not a plain URL/);
    expect(runScript(root, { ...params, K8S_HA_KUBERNETES_VERSION: "1.31.4;reboot" }).stderr).toMatch(
      /more than digits and dots/,
    );
  });
});

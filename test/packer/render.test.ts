// The rendered Packer folder: shape, determinism, values from the spec, and — the test that
// matters — Debian's Packer 1.6.6 validating and formatting what we write.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { GENERATED_BANNER, type Artifact } from "../../src/render/artifact.js";
import { loadPackerAssets } from "../../src/packer/assets.js";
import {
  KUBERNETES_SCRIPT,
  PACKER_ASSET_FILES,
  PACKER_MAIN_FILE,
  PACKER_PLUGINS_FILE,
  renderPacker,
  type PackerAssets,
} from "../../src/packer/render.js";
import type { ImageSpec } from "../../src/spec/schema.js";
import { INSTALLER_ISOS, OS_FACTS, TARGET_OSES, type TargetOs } from "../../src/spec/targets.js";
import { haveTools } from "../helpers/tools.js";
import { CUSTOM_IMAGE, DEFAULT_IMAGE, packerTestEnv, QEMU_IMAGE, tempDir } from "./helpers.js";

let assets: PackerAssets;
beforeAll(async () => {
  assets = await loadPackerAssets();
});

const render = (image: ImageSpec, clusterName = "lab", os: TargetOs = "ubuntu-20.04") =>
  renderPacker({ clusterName, image, os, assets });
/** The OSes with a cloud image: what the qemu builder bakes. */
const CLOUD_OSES = TARGET_OSES.filter((os) => OS_FACTS[os].cloudImage);
/** Every builder × OS that build-image bakes (the VirtualBox build installs Ubuntu only). */
const BUILDS: Array<[string, ImageSpec, TargetOs]> = [
  ...TARGET_OSES.filter((os) => os.startsWith("ubuntu-")).map((os): [string, ImageSpec, TargetOs] => [
    `virtualbox × ${os}`,
    DEFAULT_IMAGE,
    os,
  ]),
  ...CLOUD_OSES.map((os): [string, ImageSpec, TargetOs] => [`qemu × ${os}`, QEMU_IMAGE, os]),
];
const UBUNTU_RELEASES = Object.keys(INSTALLER_ISOS) as TargetOs[];
const text = (artifacts: Artifact[], path: string) => {
  const found = artifacts.find((a) => a.path === path);
  if (!found) throw new Error(`no ${path}`);
  return String(found.contents);
};

function writeOut(dir: string, artifacts: Artifact[]): void {
  for (const a of artifacts) {
    mkdirSync(dirname(join(dir, a.path)), { recursive: true });
    writeFileSync(join(dir, a.path), a.contents, { mode: a.mode });
  }
}

describe("renderPacker", () => {
  it("writes the two templates and every asset under packer/, scripts executable", () => {
    const artifacts = render(DEFAULT_IMAGE);
    expect(artifacts.map((a) => [a.path, a.mode.toString(8)])).toEqual([
      [PACKER_PLUGINS_FILE, "644"],
      [PACKER_MAIN_FILE, "644"],
      ...PACKER_ASSET_FILES.filter((f) => !f.startsWith("qemu-http/") && f !== KUBERNETES_SCRIPT).map((f) => [
        `packer/${f}`,
        f.endsWith(".sh") ? "755" : "644",
      ]),
    ]);
    // the qemu build serves its own cloud-init user instead of the autoinstall seed
    expect(render(QEMU_IMAGE, "lab", "debian-12").map((a) => a.path)).toEqual([
      PACKER_PLUGINS_FILE,
      PACKER_MAIN_FILE,
      ...PACKER_ASSET_FILES.filter((f) => !f.startsWith("http/") && f !== KUBERNETES_SCRIPT).map((f) => `packer/${f}`),
    ]);
  });

  it("is deterministic, and the cluster's name does not change the image", () => {
    expect(render(CUSTOM_IMAGE)).toEqual(render(CUSTOM_IMAGE));
    expect(render(CUSTOM_IMAGE, "prod")).toEqual(render(CUSTOM_IMAGE, "lab"));
  });

  it("puts the banner first, or right after a line that must stay first", () => {
    for (const a of render(DEFAULT_IMAGE)) {
      const lines = String(a.contents).split("\n");
      const bannerLine = lines[0]?.startsWith("#!") || lines[0] === "#cloud-config" ? 1 : 0;
      expect(lines[bannerLine], a.path).toBe(`# ${GENERATED_BANNER}`);
    }
  });

  it("keeps required_plugins alone in plugins.pkr.hcl, and the main template free of what 1.6.6 rejects", () => {
    const artifacts = render(DEFAULT_IMAGE);
    const plugins = text(artifacts, PACKER_PLUGINS_FILE)
      .replace(/^#.*\n/gm, "")
      .trim();
    expect(plugins).toBe(
      [
        "packer {",
        "  required_plugins {",
        "    virtualbox = {",
        '      version = ">= 1.1.0, < 2.0.0"',
        '      source  = "github.com/hashicorp/virtualbox"',
        "    }",
        "  }",
        "}",
      ].join("\n"),
    );
    const main = text(artifacts, PACKER_MAIN_FILE).replace(/^\s*#.*\n/gm, "");
    for (const rejected of ["required_plugins", "templatefile", "regex(", '"file:', "packer {"]) {
      expect(main).not.toContain(rejected);
    }
  });

  it("takes CPU, memory, disk, name, version and packages from spec.image", () => {
    const main = text(render(CUSTOM_IMAGE), PACKER_MAIN_FILE);
    const defaultOf = (name: string) =>
      new RegExp(`variable "${name}" \\{\\n[^}]*?default\\s+= ([^\\n]+)`).exec(main)?.[1];
    expect(defaultOf("vm_name")).toBe('"lab-golden.v2"');
    expect(defaultOf("image_version")).toBe('"1.2.3-rc.1"');
    expect(defaultOf("cpus")).toBe("4");
    expect(defaultOf("memory")).toBe("4096");
    expect(defaultOf("disk_size")).toBe("40960");
    expect(defaultOf("extra_packages")).toBe('["jq", "chrony", "vim=2:8.1.2269-1ubuntu5"]');
    expect(defaultOf("iso_checksum")).toBe(`"${INSTALLER_ISOS["ubuntu-20.04"]?.checksum}"`);
    expect(main).toContain('source "virtualbox-iso" "ubuntu" {');
    expect(main).toMatch(/format\s+= "ova"/);
    expect(main).toMatch(/headless\s+= var\.headless/);
    expect(main).toMatch(/"--options",\n\s+"nomacs",/);
    expect(main).toMatch(/"--product",\n\s+var\.vm_name,\n\s+"--version",\n\s+var\.image_version,/);
  });

  it.each([
    [DEFAULT_IMAGE, "http"],
    [QEMU_IMAGE, "qemu-http"],
  ])("references exactly the scripts and HTTP folder it renders (%#)", (image, http) => {
    const artifacts = render(image);
    const main = text(artifacts, PACKER_MAIN_FILE);
    const referenced = [...main.matchAll(/\$\{path\.root\}\/(scripts\/[^"]+)"/g)].map((m) => `packer/${m[1]}`);
    expect(referenced.sort()).toEqual(
      artifacts
        .filter((a) => a.path.startsWith("packer/scripts/"))
        .map((a) => a.path)
        .sort(),
    );
    expect(main).toMatch(new RegExp(`http_directory\\s+= "\\$\\{path\\.root\\}/${http}"`));
    expect(artifacts.filter((a) => a.path.includes("http/")).map((a) => a.path)).toEqual([
      `packer/${http}/meta-data`,
      `packer/${http}/user-data`,
    ]);
  });

  it.each(CLOUD_OSES)(
    "qemu × %s: starts from the OS's pinned cloud image and checks its keepalived and haproxy",
    (os) => {
      const artifacts = render(QEMU_IMAGE, "lab", os);
      const main = text(artifacts, PACKER_MAIN_FILE);
      const defaultOf = (name: string) =>
        new RegExp(`variable "${name}" \\{\\n[^}]*?default\\s+= ([^\\n]+)`).exec(main)?.[1];
      const cloudImage = OS_FACTS[os].cloudImage!;
      expect(defaultOf("iso_url")).toBe(`"${cloudImage.url}"`);
      expect(defaultOf("iso_checksum")).toBe(`"${cloudImage.checksum}"`);
      expect(cloudImage.checksum).toMatch(/^(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$/);
      expect(cloudImage.url).not.toMatch(/\/(current|latest|release)\//); // a dated build, not a moving link
      expect(main).toContain('source "qemu" "golden" {');
      expect(main).toMatch(/disk_image\s+= true/);
      expect(main).toMatch(/format\s+= "qcow2"/);
      expect(main).toContain('"type=1,serial=ds=nocloud-net;s=http://{{ .HTTPIP }}:{{ .HTTPPort }}/"');
      // the build's listeners stay on loopback: the SSH forward, the HTTP server, VNC
      expect(main).toContain('"user,id=user.0,hostfwd=tcp:127.0.0.1:{{ .SSHHostPort }}-:22"');
      expect(main).toMatch(/http_bind_address\s+= "127\.0\.0\.1"/);
      expect(main).toMatch(/vnc_bind_address\s+= "127\.0\.0\.1"/);
      expect(main).toMatch(
        new RegExp(
          `"EXPECT_KEEPALIVED=${OS_FACTS[os].keepalived.replace(/\./g, "\\.")}",\\s+"EXPECT_HAPROXY=${OS_FACTS[os].haproxy.replace(/\./g, "\\.")}"`,
        ),
      );
      expect(main).toContain('sources = ["source.qemu.golden"]');
      expect(main).not.toContain("boot_command");
      expect(text(artifacts, PACKER_PLUGINS_FILE)).toContain('source  = "github.com/hashicorp/qemu"');
    },
  );

  it("escapes values instead of pasting them (a spec that slipped past the schema)", () => {
    const evil = { ...DEFAULT_IMAGE, name: 'x" }\nvariable "y" { default = "${file("/etc/passwd")}' };
    const main = text(render(evil), PACKER_MAIN_FILE);
    expect(main).toContain('default     = "x\\" }\\nvariable \\"y\\" { default = \\"$${file(\\"/etc/passwd\\")}"');
  });

  it.each(UBUNTU_RELEASES)("%s: pinned ISO, the boot loader's keys, a first key at about 5 s", (os) => {
    const main = text(render(DEFAULT_IMAGE, "lab", os), PACKER_MAIN_FILE);
    const iso = INSTALLER_ISOS[os]!;
    const defaultOf = (name: string) =>
      new RegExp(`variable "${name}" \\{\\n[^}]*?default\\s+= ([^\\n]+)`).exec(main)?.[1];
    expect(defaultOf("iso_url")).toBe(`"${iso.url}"`);
    expect(iso.url).toContain(`ubuntu-${os.slice("ubuntu-".length)}.`);
    expect(iso.checksum).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(defaultOf("iso_checksum")).toBe(`"${iso.checksum}"`);
    const bootWait = Number(/boot_wait\s+= "(\d+)s"/.exec(main)?.[1]);
    const boot = /variable "boot_command" \{[^]*?default\s+= (\[[^]*?\n  \])/.exec(main)?.[1] ?? "";
    const leadingWaits = /^\[\n\s+"((?:<wait>)*)/.exec(boot)?.[1]?.length ?? 0;
    // packer #9115: at 8 s + <wait> focal's menu may already have booted its default entry.
    expect(bootWait + leadingWaits / "<wait>".length).toBe(5);
    if (iso.bootLoader === "grub") {
      // GRUB's command line: autoinstall and the seed URL before '---' (curtin copies what
      // follows into the installed GRUB_CMDLINE_LINUX_DEFAULT), the ';' quoted from GRUB.
      expect(boot).toContain('"c<wait>"');
      expect(boot).toContain(
        `"linux /casper/vmlinuz autoinstall 'ds=nocloud-net;s=http://{{ .HTTPIP }}:{{ .HTTPPort }}/' ---<enter><wait>"`,
      );
      expect(boot).toContain('"initrd /casper/initrd<enter><wait>"');
      expect(boot).toMatch(/"boot<enter>",\n\s+\]$/);
    } else {
      expect(boot).toContain('"<wait><enter><wait><enter><wait><f6><wait><esc><wait>"');
      expect(boot).toContain('" autoinstall ds=nocloud-net;s=http://{{ .HTTPIP }}:{{ .HTTPPort }}/"');
    }
    expect(main).toContain(`Ubuntu ${os.slice("ubuntu-".length)} live-server ISO`);
  });

  it("turns VirtualBox 7's nat-localhostreachable on for the build and off before the export, only when asked", () => {
    const main = text(render(DEFAULT_IMAGE), PACKER_MAIN_FILE);
    expect(main).toMatch(/variable "nat_localhost_reachable" \{\n\s+type\s+= bool\n\s+default\s+= false/);
    expect(main).toContain(
      'nat_localhost_reachable_on  = slice([["modifyvm", "{{ .Name }}", "--nat-localhostreachable1", "on"]], 0, var.nat_localhost_reachable ? 1 : 0)',
    );
    expect(main).toContain(
      'nat_localhost_reachable_off = slice([["modifyvm", "{{ .Name }}", "--nat-localhostreachable1", "off"]], 0, var.nat_localhost_reachable ? 1 : 0)',
    );
    expect(main).toMatch(/vboxmanage\s+= concat\(local\.vboxmanage_base, local\.nat_localhost_reachable_on\)/);
    expect(main).toMatch(/vboxmanage_post\s+= local\.nat_localhost_reachable_off/);
  });

  it("matches the golden files for the default image", async () => {
    const artifacts = render(DEFAULT_IMAGE);
    await expect(text(artifacts, PACKER_MAIN_FILE)).toMatchFileSnapshot("golden/default/k8s-ha.pkr.hcl");
    await expect(text(artifacts, PACKER_PLUGINS_FILE)).toMatchFileSnapshot("golden/default/plugins.pkr.hcl");
    const noble = render(DEFAULT_IMAGE, "lab", "ubuntu-24.04");
    await expect(text(noble, PACKER_MAIN_FILE)).toMatchFileSnapshot("golden/ubuntu-24.04/k8s-ha.pkr.hcl");
  });

  it("matches the golden files for the qemu build of Debian 12", async () => {
    const artifacts = render(QEMU_IMAGE, "lab", "debian-12");
    await expect(text(artifacts, PACKER_MAIN_FILE)).toMatchFileSnapshot("golden/qemu-debian-12/k8s-ha.pkr.hcl");
    await expect(text(artifacts, PACKER_PLUGINS_FILE)).toMatchFileSnapshot("golden/qemu-debian-12/plugins.pkr.hcl");
  });
});

describe("Packer 1.6.6 on the rendered folder", { timeout: 60_000 }, () => {
  const have = haveTools("packer");

  it
    .skipIf(!have)
    .each([
      ["default image", DEFAULT_IMAGE, "ubuntu-20.04"],
      ["custom image (extraPackages, other sizes)", CUSTOM_IMAGE, "ubuntu-20.04"],
      ["custom image, qemu", { ...CUSTOM_IMAGE, builder: "qemu" }, "ubuntu-24.04"],
      ...BUILDS,
    ] as Array<[string, ImageSpec, TargetOs]>)(
    "%s: packer validate <main file> passes offline, packer fmt has nothing to change",
    (_name, image, os) => {
      const dir = tempDir("packer-validate");
      try {
        writeOut(dir.dir, render(image, "lab", os));
        const env = packerTestEnv(dir.dir);
        const main = join(dir.dir, PACKER_MAIN_FILE);
        // From another folder: the template must find http/ and scripts/ through path.root.
        const validate = spawnSync("packer", ["validate", main], {
          cwd: dir.dir,
          env,
          encoding: "utf8",
          timeout: 60_000,
        });
        expect(validate.stdout + validate.stderr).toBe("");
        expect(validate.status).toBe(0);
        execFileSync("packer", ["fmt", "-check", join(dir.dir, "packer")], { env, timeout: 60_000 });
      } finally {
        dir.cleanup();
      }
    },
  );

  it.skipIf(!have)("rejects an overridden checksum that would need the network", () => {
    const dir = tempDir("packer-validate");
    try {
      writeOut(dir.dir, render(DEFAULT_IMAGE));
      const result = spawnSync(
        "packer",
        [
          "validate",
          "-var",
          "iso_checksum=file:https://releases.ubuntu.com/20.04.6/SHA256SUMS",
          join(dir.dir, PACKER_MAIN_FILE),
        ],
        { cwd: dir.dir, env: packerTestEnv(dir.dir), encoding: "utf8", timeout: 60_000 },
      );
      expect(result.status).toBe(1);
      expect(result.stdout + result.stderr).toContain("must be pinned as sha256");
    } finally {
      dir.cleanup();
    }
  });
});

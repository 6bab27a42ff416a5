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
  UBUNTU_ISO_CHECKSUM,
  renderPacker,
  type PackerAssets,
} from "../../src/packer/render.js";
import type { ImageSpec } from "../../src/spec/schema.js";
import { haveTools } from "../helpers/tools.js";
import { CUSTOM_IMAGE, DEFAULT_IMAGE, packerTestEnv, tempDir } from "./helpers.js";

let assets: PackerAssets;
beforeAll(async () => {
  assets = await loadPackerAssets();
});

const render = (image: ImageSpec, clusterName = "lab") => renderPacker({ clusterName, image, assets });
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
      ...PACKER_ASSET_FILES.filter((f) => f !== KUBERNETES_SCRIPT).map((f) => [`packer/${f}`, f.endsWith(".sh") ? "755" : "644"]),
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
    const plugins = text(artifacts, PACKER_PLUGINS_FILE).replace(/^#.*\n/gm, "").trim();
    expect(plugins).toBe(
      [
        "packer {",
        "  required_plugins {",
        "    virtualbox = {",
        '      version = ">= 1.1.0"',
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
    const defaultOf = (name: string) => new RegExp(`variable "${name}" \\{\\n[^}]*?default\\s+= ([^\\n]+)`).exec(main)?.[1];
    expect(defaultOf("vm_name")).toBe('"lab-golden.v2"');
    expect(defaultOf("image_version")).toBe('"1.2.3-rc.1"');
    expect(defaultOf("cpus")).toBe("4");
    expect(defaultOf("memory")).toBe("4096");
    expect(defaultOf("disk_size")).toBe("40960");
    expect(defaultOf("extra_packages")).toBe('["jq", "chrony", "vim=2:8.1.2269-1ubuntu5"]');
    expect(defaultOf("iso_checksum")).toBe(`"${UBUNTU_ISO_CHECKSUM}"`);
    expect(main).toContain('source "virtualbox-iso" "ubuntu" {');
    expect(main).toMatch(/format\s+= "ova"/);
    expect(main).toMatch(/headless\s+= var\.headless/);
    expect(main).toMatch(/"--options",\n\s+"nomacs",/);
    expect(main).toMatch(/"--product",\n\s+var\.vm_name,\n\s+"--version",\n\s+var\.image_version,/);
  });

  it("references exactly the scripts it renders", () => {
    const artifacts = render(DEFAULT_IMAGE);
    const main = text(artifacts, PACKER_MAIN_FILE);
    const referenced = [...main.matchAll(/\$\{path\.root\}\/(scripts\/[^"]+)"/g)].map((m) => `packer/${m[1]}`);
    expect(referenced.sort()).toEqual(artifacts.filter((a) => a.path.startsWith("packer/scripts/")).map((a) => a.path).sort());
    expect(main).toContain('http_directory = "${path.root}/http"');
  });

  it("escapes values instead of pasting them (a spec that slipped past the schema)", () => {
    const evil = { ...DEFAULT_IMAGE, name: 'x" }\nvariable "y" { default = "${file("/etc/passwd")}' };
    const main = text(render(evil), PACKER_MAIN_FILE);
    expect(main).toContain('default     = "x\\" }\\nvariable \\"y\\" { default = \\"$${file(\\"/etc/passwd\\")}"');
  });

  it("matches the golden files for the default image", async () => {
    const artifacts = render(DEFAULT_IMAGE);
    await expect(text(artifacts, PACKER_MAIN_FILE)).toMatchFileSnapshot("golden/default/k8s-ha.pkr.hcl");
    await expect(text(artifacts, PACKER_PLUGINS_FILE)).toMatchFileSnapshot("golden/default/plugins.pkr.hcl");
  });
});

describe("Packer 1.6.6 on the rendered folder", { timeout: 60_000 }, () => {
  const have = haveTools("packer");

  it.skipIf(!have).each([
    ["default image", DEFAULT_IMAGE],
    ["custom image (extraPackages, other sizes)", CUSTOM_IMAGE],
  ])("%s: packer validate <main file> passes offline, packer fmt has nothing to change", (_name, image) => {
    const dir = tempDir("packer-validate");
    try {
      writeOut(dir.path, render(image));
      const env = packerTestEnv(dir.path);
      const main = join(dir.path, PACKER_MAIN_FILE);
      // From another folder: the template must find http/ and scripts/ through path.root.
      const validate = spawnSync("packer", ["validate", main], { cwd: dir.path, env, encoding: "utf8", timeout: 60_000 });
      expect(validate.stdout + validate.stderr).toBe("");
      expect(validate.status).toBe(0);
      execFileSync("packer", ["fmt", "-check", join(dir.path, "packer")], { env, timeout: 60_000 });
    } finally {
      dir.remove();
    }
  });

  it.skipIf(!have)("rejects an overridden checksum that would need the network", () => {
    const dir = tempDir("packer-validate");
    try {
      writeOut(dir.path, render(DEFAULT_IMAGE));
      const result = spawnSync(
        "packer",
        ["validate", "-var", "iso_checksum=file:https://releases.ubuntu.com/20.04.6/SHA256SUMS", join(dir.path, PACKER_MAIN_FILE)],
        { cwd: dir.path, env: packerTestEnv(dir.path), encoding: "utf8", timeout: 60_000 },
      );
      expect(result.status).toBe(1);
      expect(result.stdout + result.stderr).toContain("must be pinned as sha256");
    } finally {
      dir.remove();
    }
  });
});

// The Packer template with spec.kubernetes: 30-kubernetes.sh shipped and run between the base
// packages and the generalisation, with the release in its environment; without it, nothing changes.
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadPackerAssets } from "../../src/packer/assets.js";
import { KUBERNETES_SCRIPT, PACKER_MAIN_FILE, renderPacker, type PackerAssets } from "../../src/packer/render.js";
import { haveTools } from "../helpers/tools.js";
import { DEFAULT_IMAGE, packerTestEnv, tempDir } from "./helpers.js";

let assets: PackerAssets;
beforeAll(async () => {
  assets = await loadPackerAssets();
});

const main = (kubernetes?: { version: string }) =>
  String(
    renderPacker({
      clusterName: "lab",
      image: DEFAULT_IMAGE,
      os: "ubuntu-20.04",
      assets,
      ...(kubernetes ? { kubernetes } : {}),
    }).find((a) => a.path === PACKER_MAIN_FILE)!.contents,
  );

describe("the Packer template with spec.kubernetes", () => {
  it("ships 30-kubernetes.sh and runs it after the base packages, before generalising, with the release", () => {
    const artifacts = renderPacker({
      clusterName: "lab",
      image: DEFAULT_IMAGE,
      os: "ubuntu-20.04",
      assets,
      kubernetes: { version: "1.31.4" },
    });
    expect(artifacts.find((a) => a.path === `packer/${KUBERNETES_SCRIPT}`)?.mode).toBe(0o755);
    const text = main({ version: "1.31.4" });
    const scripts = [...text.matchAll(/\/scripts\/([^"]+)"/g)].map((m) => m[1]);
    expect(scripts).toEqual([
      "10-wait-cloud-init.sh",
      "20-install-packages.sh",
      "30-kubernetes.sh",
      "90-generalize.sh",
      "95-check-image.sh",
      "99-shutdown.sh",
    ]);
    expect(text).toContain('"K8S_HA_KUBERNETES_VERSION=1.31.4"');
  });

  it("leaves the template and the files exactly as they were without it", () => {
    const without = renderPacker({ clusterName: "lab", image: DEFAULT_IMAGE, os: "ubuntu-20.04", assets });
    expect(without.some((a) => a.path.endsWith("30-kubernetes.sh"))).toBe(false);
    expect(main()).not.toMatch(/kubernetes|K8S_HA/i);
  });

  it.skipIf(!haveTools("packer"))("passes packer validate offline", { timeout: 60_000 }, () => {
    const dir = tempDir("packer-k8s");
    try {
      for (const a of renderPacker({
        clusterName: "lab",
        image: DEFAULT_IMAGE,
        os: "ubuntu-20.04",
        assets,
        kubernetes: { version: "1.31.4" },
      })) {
        mkdirSync(dirname(join(dir.dir, a.path)), { recursive: true });
        writeFileSync(join(dir.dir, a.path), a.contents, { mode: a.mode });
      }
      const result = spawnSync("packer", ["validate", join(dir.dir, PACKER_MAIN_FILE)], {
        cwd: dir.dir,
        env: packerTestEnv(dir.dir),
        encoding: "utf8",
        timeout: 60_000,
      });
      expect(result.stdout + result.stderr).toBe("");
      expect(result.status).toBe(0);
    } finally {
      dir.cleanup();
    }
  });
});

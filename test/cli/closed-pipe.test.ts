// A reader that goes away (a closed terminal, a test runner that died) must not end a command
// half-way: `up`'s Ctrl-C clean-up, which logs as it stops VMs, died of EPIPE on its first line
// and left the VMs running. Here `render` runs with both its output pipes closed by the reader.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BIN, tempDir } from "../helpers/cli.js";
import { specYaml } from "../helpers/specs.js";

describe("a command whose reader went away", () => {
  const { dir, cleanup } = tempDir("k8s-ha-closed-pipe-");
  afterAll(cleanup);

  it("still does its work and exits 0", async () => {
    const spec = join(dir, "k8s-ha.yaml");
    await writeFile(spec, specYaml());
    const out = join(dir, "out");
    const child = spawn(process.execPath, [BIN, "render", spec, "-o", out], { stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.destroy();
    child.stderr.destroy();
    const code = await new Promise((resolve) => child.on("close", resolve));
    expect(code).toBe(0);
    expect(existsSync(join(out, "manifest.json"))).toBe(true);
  });
});

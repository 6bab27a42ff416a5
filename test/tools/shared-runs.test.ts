// validate --tools runs a ufw rule that several nodes share once, and still checks every node's
// rules (issue 13: 27 ufw runs for three nodes became one per distinct rule). The real ufw runs,
// behind a wrapper on PATH that logs each call.
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { afterEach, describe, expect, it } from "vitest";
import { isDryRunnable } from "../../src/render/firewall.js";
import { EXAMPLES, runCli, tempDir } from "../helpers/cli.js";
import { EXAMPLE_ENV } from "../helpers/plan.js";
import { haveTools, isRoot } from "../helpers/tools.js";
import { which } from "../../src/tools/run.js";

let cleanup = () => {};
afterEach(() => cleanup());

describe.skipIf(!haveTools("ufw") || !isRoot())("shared tool runs", () => {
  it("each distinct ufw rule of the three nodes runs once; every node's verdict is reported", async () => {
    const temp = tempDir("k8s-ha-shared-runs-");
    cleanup = temp.cleanup;
    const log = join(temp.dir, "ufw.log");
    writeFileSync(
      join(temp.dir, "ufw"),
      `#!/bin/sh\nprintf '%s\\n' "$*" >> '${log}'\nexec '${await which("ufw")}' "$@"\n`,
    );
    chmodSync(join(temp.dir, "ufw"), 0o755);
    const spec = join(EXAMPLES, "three-node-unicast.yaml");
    const out = join(temp.dir, "out");
    expect((await runCli(["render", spec, "-o", out], { env: EXAMPLE_ENV })).code).toBe(0);
    const wanted = ["cp1", "cp2", "cp3"].flatMap((node) =>
      (parse(readFileSync(join(out, "nodes", node, "user-data"), "utf8")) as { runcmd: unknown[] }).runcmd
        .filter((c): c is string[] => Array.isArray(c) && c[0] === "ufw" && isDryRunnable(c))
        .map((c) => ["--dry-run", ...c.slice(1)].join(" ")),
    );
    const result = await runCli(["validate", spec, "--tools", "auto", "--format", "json"], {
      env: { ...EXAMPLE_ENV, PATH: `${temp.dir}:${process.env.PATH}` },
    });
    expect(result.code, result.stderr).toBe(0);
    const ran = readFileSync(log, "utf8").trim().split("\n");
    expect(ran.sort()).toEqual([...new Set(wanted)].sort());
    expect(ran.length).toBeLessThan(wanted.length);
    const verdicts = JSON.parse(result.stdout).tools.verdicts as { tool: string; node: string; ok: boolean }[];
    expect(verdicts.filter((v) => v.tool === "ufw").map((v) => [v.node, v.ok])).toEqual([
      ["cp1", true],
      ["cp2", true],
      ["cp3", true],
    ]);
  });
});

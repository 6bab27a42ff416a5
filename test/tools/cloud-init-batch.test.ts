// validate --tools runs all of its cloud-init commands in one interpreter (src/tools/cloud-init-batch.ts).
// Each answer must be the one a separate `cloud-init …` run gives: the same exit code, stdout and
// stderr, for good files and for each way a file can be bad. And a cloud-init the batch cannot
// drive gets its commands run one by one.
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { cloudInitInterpreter, runCloudInitBatch } from "../../src/tools/cloud-init-batch.js";
import { run, which, type RunResult } from "../../src/tools/run.js";
import { EXAMPLES, runCli, tempDir } from "../helpers/cli.js";
import { EXAMPLE_ENV } from "../helpers/plan.js";
import { haveTools } from "../helpers/tools.js";

let work: ReturnType<typeof tempDir>;
beforeEach(() => {
  work = tempDir("k8s-ha-cloud-init-batch-");
});
afterEach(() => work.cleanup());

const FILES: Record<string, string> = {
  "good-user-data": "#cloud-config\npackages: [curl]\nruncmd:\n  - [ufw, allow, 6443/tcp]\n",
  "wrong-types-user-data": '#cloud-config\npackages: 5\nruncmd: "x"\n',
  "not-yaml-user-data": "#cloud-config\nfoo: [\n",
  "no-header-user-data": "hello\n",
  "good-network-config":
    "version: 2\nethernets:\n  enp0s8:\n    addresses: [192.168.56.11/24]\n  enp0s3:\n    dhcp4: true\n",
  "default-route-network-config":
    "version: 2\nethernets:\n  eth0:\n    addresses: [10.0.0.5/24]\n    routes:\n      - to: default\n        via: 10.0.0.1\n",
  "not-yaml-network-config": "version: 2\nethernets: [\n",
  "unknown-version-network-config": "version: 7\n",
};

function commands(dir: string): string[][] {
  const netConvert = (file: string) => [
    ...["devel", "net-convert", "-p", join(dir, file), "-k", "yaml", "-d", join(dir, `out-${file}`)],
    ...["-D", "ubuntu", "-O", "networkd"],
  ];
  return [
    ...Object.keys(FILES).flatMap((file) =>
      file.endsWith("user-data") ? [["schema", "-c", join(dir, file)]] : [netConvert(file)],
    ),
    ["schema", "-c", join(dir, "missing-user-data")],
    netConvert("missing-network-config"),
    // a usage error, from argparse
    ["schema", "--no-such-flag"],
  ];
}

/**
 * A traceback's first frames name the script that ran (`/usr/bin/cloud-init` or the driver's
 * `<string>`), and log lines the time; every frame from cloud-init's own code on, and the rest of
 * every line, must be the same.
 */
function comparable(result: RunResult) {
  const stderr = result.stderr
    .replace(
      /Traceback \(most recent call last\):\n[\s\S]*?(?=^ {2}File ".*\/cloudinit\/)/gm,
      "Traceback (most recent call last):\n",
    )
    .replace(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} - /gm, "<time> - "); // the log lines' clock
  return { code: result.code, stdout: result.stdout, stderr, timedOut: result.timedOut };
}

describe.skipIf(!haveTools("cloud-init"))("cloud-init's commands in one interpreter", { timeout: 120_000 }, () => {
  it("answers each command exactly as a separate cloud-init run does", async () => {
    const binary = (await which("cloud-init"))!;
    for (const [file, text] of Object.entries(FILES)) writeFileSync(join(work.dir, file), text);
    const batched = await runCloudInitBatch(binary, commands(work.dir), { timeoutMs: 60_000 });
    expect(batched, "this cloud-init could not be driven in one interpreter").toBeDefined();
    const alone = [];
    for (const args of commands(work.dir)) alone.push(await run(binary, args, { timeoutMs: 60_000 }));
    expect(batched!.map(comparable)).toEqual(alone.map(comparable));
    // the corpus holds each kind of answer: a pass, findings, a traceback, a usage error
    expect(alone.map((r) => r.code)).toContain(0);
    expect(alone.filter((r) => r.code === 1).length).toBeGreaterThanOrEqual(6);
    expect(alone.some((r) => r.stderr.includes("Traceback"))).toBe(true);
    expect(alone.map((r) => r.code)).toContain(2);
  });

  it("drives only cloud-init's own entry point under a Python 3 interpreter", async () => {
    const real = (await which("cloud-init"))!;
    expect(cloudInitInterpreter(real)?.[0]).toMatch(/python3/);
    const script = (name: string, text: string) => {
      writeFileSync(join(work.dir, name), text);
      chmodSync(join(work.dir, name), 0o755);
      return join(work.dir, name);
    };
    expect(cloudInitInterpreter(script("wrapper", `#!/bin/sh\nexec '${real}' "$@"\n`))).toBeUndefined();
    expect(cloudInitInterpreter(script("other-python", "#!/usr/bin/python3\nprint('hi')\n"))).toBeUndefined();
    const entry = "import sys\nfrom cloudinit.cmd.main import main\nsys.exit(main())\n";
    expect(cloudInitInterpreter(script("env", `#!/usr/bin/env python3\n${entry}`))).toEqual([
      "/usr/bin/env",
      "python3",
    ]);
    // -S: no site packages, so no cloudinit module: the batch declines and the caller runs each
    const isolated = script("isolated", `#!/usr/bin/python3 -S\n${entry}`);
    expect(cloudInitInterpreter(isolated)).toEqual(["/usr/bin/python3", "-S"]);
    expect(await runCloudInitBatch(isolated, [["schema", "-c", "x"]], { timeoutMs: 60_000 })).toBeUndefined();
  });

  it("validate --tools: one interpreter for every node's cloud-init checks, and a wrapper still gets each run", async () => {
    const real = (await which("cloud-init"))!;
    const spec = join(EXAMPLES, "three-node-unicast.yaml");
    const verdictsWith = async (cloudInit: string) => {
      writeFileSync(join(work.dir, "cloud-init"), cloudInit);
      chmodSync(join(work.dir, "cloud-init"), 0o755);
      const result = await runCli(["validate", spec, "--tools", "auto", "--format", "json"], {
        env: { ...EXAMPLE_ENV, PATH: `${work.dir}:${process.env.PATH}` },
      });
      expect(result.code, result.stderr).toBe(0);
      const verdicts = JSON.parse(result.stdout).tools.verdicts as { node: string; command: string; ok: boolean }[];
      return verdicts.filter((v) => v.command.startsWith("cloud-init")).map((v) => [v.node, v.command, v.ok]);
    };
    const log = join(work.dir, "runs.log");
    // cloud-init's own script, copied, with a line that logs each time it is run as a program
    const [shebang, ...rest] = readFileSync(real, "utf8").split("\n");
    const copy = `${shebang}\nopen(${JSON.stringify(log)}, "a").write("ran\\n")\n${rest.join("\n")}`;
    const batched = await verdictsWith(copy);
    expect(() => readFileSync(log, "utf8"), "the copy ran as a program").toThrow(/ENOENT/);
    const wrapped = await verdictsWith(`#!/bin/sh\necho ran >> '${log}'\nexec '${real}' "$@"\n`);
    expect(readFileSync(log, "utf8")).toBe("ran\n".repeat(6));
    expect(batched).toEqual(wrapped);
    expect(batched).toHaveLength(6);
    expect(batched.every(([, , ok]) => ok)).toBe(true);
  });
});

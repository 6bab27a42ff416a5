// A tool that hangs must not hang k8s-ha: many packaged tools are shell wrappers whose child
// inherits the output pipes, so killing the wrapper alone leaves the child holding them open.
// A `haproxy` stand-in on PATH does exactly that (a shell running `sleep`); validate --tools must
// stop the whole process group at the deadline, name the tool and the file, and exit 3.
import { readFileSync } from "node:fs";
import { chmod, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { run } from "../../src/tools/run.js";
import { EXAMPLES, runCli, tempDir } from "../helpers/cli.js";

let work: ReturnType<typeof tempDir>;
beforeEach(async () => {
  work = tempDir("k8s-ha-deadline-");
});
afterEach(async () => {
  work.cleanup();
});

/** A shell script that starts `sleep` (which keeps stdout open), records its pid, and waits. */
async function hangingTool(name: string): Promise<{ path: string; sleepPid: () => Promise<number> }> {
  const pidFile = join(work.dir, `${name}.sleep-pid`);
  const path = join(work.dir, name);
  await writeFile(path, `#!/bin/sh\nsleep 1000 &\necho $! > '${pidFile}'\nwait\n`);
  await chmod(path, 0o755);
  return { path, sleepPid: async () => Number((await readFile(pidFile, "utf8")).trim()) };
}

/** Running, not a zombie waiting for a parent that is gone to be reaped. */
function alive(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]![0] !== "Z";
  } catch {
    return false;
  }
}

describe("deadlines hold for a tool whose child keeps the output open", { timeout: 30_000 }, () => {
  it("run(): the whole process group is stopped, and the result says it timed out", async () => {
    const tool = await hangingTool("wrapper");
    const result = await run(tool.path, [], { timeoutMs: 500 });
    expect(result.timedOut).toBe(true);
    const pid = await tool.sleepPid();
    expect(alive(pid), `sleep (pid ${pid}) outlived the deadline`).toBe(false);
  });

  it("validate --tools: exit 3, naming haproxy and haproxy.cfg, and the child is gone", async () => {
    const tool = await hangingTool("haproxy");
    const result = await runCli(["validate", join(EXAMPLES, "two-masters.yaml"), "--tools", "auto"], {
      env: { PATH: `${work.dir}:${process.env.PATH}`, K8S_HA_TOOL_TIMEOUT: "1" },
    });
    expect(result.code, result.stderr).toBe(3);
    expect(result.stderr).toMatch(/haproxy on nodes\/master0[12]\/files\/haproxy\.cfg.*did not finish in time/);
    expect(result.stderr).not.toMatch(/internal error/);
    expect(alive(await tool.sleepPid())).toBe(false);
  });
});

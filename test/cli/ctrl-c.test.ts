// The one Ctrl-C model (docs/cli.md#ctrl-c), on the built CLI: a first Ctrl-C stops what runs,
// cleans up and exits 130; a second one while a program is still stopping quits at once, says
// so, and leaves no program of ours running. The programs are stand-ins on PATH that record their
// pid and what they received: one that stops on SIGINT, one that traps it and carries on (as a
// Packer removing its VM, or a wrapper that ignores the signal, does).
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { chmod, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { BIN, EXAMPLES, tempDir } from "../helpers/cli.js";

let work: ReturnType<typeof tempDir>;
const started: number[] = [];
beforeEach(() => {
  work = tempDir("k8s-ha-ctrl-c-");
});
afterEach(() => {
  for (const pid of started.splice(0)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // ended, as it should
    }
  }
  work.cleanup();
});

/** Running, not a zombie. */
function alive(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]![0] !== "Z";
  } catch {
    return false;
  }
}

/**
 * A stand-in program: `prelude` answers the calls that must succeed (a version), then it records
 * its pid in NAME.pid, each SIGINT in NAME.signals, and waits on a `sleep` child that shares its
 * output. With `trap`, SIGINT does not end it.
 */
async function standIn(name: string, trap: boolean, prelude = ""): Promise<void> {
  const base = join(work.dir, name);
  const script = [
    "#!/bin/sh",
    prelude,
    `echo $$ > '${base}.pid'`,
    trap ? `trap 'echo INT >> "${base}.signals"' INT` : `trap 'echo INT >> "${base}.signals"; exit 130' INT`,
    "sleep 1000 &",
    `echo $! > '${base}.child-pid'`,
    // `wait` returns when a trapped signal arrives: wait again until the child is gone
    "while kill -0 $! 2>/dev/null; do wait $!; done",
  ].join("\n");
  await writeFile(base, `${script}\n`);
  await chmod(base, 0o755);
}

const pidOf = (name: string, which = "pid") => Number(readFileSync(join(work.dir, `${name}.${which}`), "utf8").trim());
const signalsOf = (name: string) =>
  existsSync(join(work.dir, `${name}.signals`)) ? readFileSync(join(work.dir, `${name}.signals`), "utf8") : "";

function startCli(args: string[]) {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: work.dir,
    env: {
      ...process.env,
      PATH: `${work.dir}:${process.env.PATH}`,
      TMPDIR: work.dir,
      K8S_HA_FAKE_VBOX_DIR: work.dir,
      CI: "",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  started.push(child.pid!);
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  child.stdout!.resume();
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("close", (code, signal) => resolve({ code, signal })),
  );
  return { child, done, stderr: () => stderr };
}

const WAIT = { timeout: 20_000, interval: 50 };

/** Two deliveries of one press within 500 ms count as one (npm exec forwards signals): wait past that. */
const pastSamePress = () => new Promise((resolve) => setTimeout(resolve, 700));

describe("Ctrl-C", { timeout: 60_000 }, () => {
  it("validate --tools, first Ctrl-C: the tool gets it, the temp folder goes, exit 130", async () => {
    await standIn("haproxy", false);
    const cli = startCli(["validate", join(EXAMPLES, "two-masters.yaml"), "--tools", "auto"]);
    await vi.waitFor(() => expect(existsSync(join(work.dir, "haproxy.child-pid"))).toBe(true), WAIT);
    cli.child.kill("SIGINT");
    const end = await cli.done;
    expect(end.code, cli.stderr()).toBe(130);
    expect(cli.stderr()).toMatch(
      /k8s-ha: SIGINT: stopping; stopping the checking tools and removing their temp folder \(Ctrl-C again quits at once\)/,
    );
    expect(signalsOf("haproxy")).toContain("INT");
    expect(readdirSync(work.dir).filter((f) => f.startsWith("k8s-ha-validate-"))).toEqual([]);
    expect(cli.stderr()).not.toMatch(/internal error|at .*\.js:\d+/);
  });

  it("validate --tools, second Ctrl-C while a tool ignores the first: quits at once, the tool's group is killed", async () => {
    await standIn("haproxy", true);
    const cli = startCli(["validate", join(EXAMPLES, "two-masters.yaml"), "--tools", "auto"]);
    await vi.waitFor(() => expect(existsSync(join(work.dir, "haproxy.child-pid"))).toBe(true), WAIT);
    cli.child.kill("SIGINT");
    await vi.waitFor(() => expect(signalsOf("haproxy")).toContain("INT"), WAIT);
    await pastSamePress();
    expect(alive(pidOf("haproxy")), "the tool ignores Ctrl-C: the first one must not end it").toBe(true);
    expect(cli.child.exitCode, "after the first Ctrl-C validate waits for its tool").toBeNull();
    cli.child.kill("SIGINT");
    const end = await cli.done;
    expect(end.signal, cli.stderr()).toBe("SIGINT"); // the shell shows 130
    expect(cli.stderr()).toMatch(/k8s-ha: SIGINT again: quitting at once, clean-up unfinished/);
    await vi.waitFor(
      () => expect([alive(pidOf("haproxy")), alive(pidOf("haproxy", "child-pid"))]).toEqual([false, false]),
      WAIT,
    );
  });

  it("build-image, second Ctrl-C while Packer removes its VM: quits at once, names what may remain, Packer's group is killed", async () => {
    await writeFile(join(work.dir, "VBoxManage"), '#!/bin/sh\n[ "$1" = --version ] && echo 7.0.20r163906\n');
    await chmod(join(work.dir, "VBoxManage"), 0o755);
    // `version` and `validate` answer; `build` prints a line, then "removes its VM" for ever on SIGINT
    await standIn(
      "packer",
      true,
      [
        'case "$1" in version) echo "Packer v1.6.6"; exit 0;; validate) exit 0;; esac',
        'echo "1,,ui,say,==> building"',
      ].join("\n"),
    );
    const spec = join(work.dir, "k8s-ha.yaml");
    await writeFile(spec, readFileSync(join(EXAMPLES, "two-masters.yaml"), "utf8"));
    const cli = startCli(["build-image", spec, "-o", join(work.dir, "out")]);
    await vi.waitFor(() => expect(existsSync(join(work.dir, "packer.child-pid"))).toBe(true), WAIT);
    cli.child.kill("SIGINT");
    await vi.waitFor(() => expect(signalsOf("packer")).toContain("INT"), WAIT);
    await vi.waitFor(
      () => expect(cli.stderr()).toMatch(/SIGINT: stopping; Packer gets it and removes its build VM/),
      WAIT,
    );
    await pastSamePress();
    expect(cli.child.exitCode, "after the first Ctrl-C build-image waits for Packer").toBeNull();
    cli.child.kill("SIGINT");
    const end = await cli.done;
    expect(end.signal, cli.stderr()).toBe("SIGINT");
    expect(cli.stderr()).toMatch(
      /SIGINT again: quitting at once, clean-up unfinished; Packer's build VM may remain .*\.partial-\*/,
    );
    await vi.waitFor(
      () => expect([alive(pidOf("packer")), alive(pidOf("packer", "child-pid"))]).toEqual([false, false]),
      WAIT,
    );
  });
});

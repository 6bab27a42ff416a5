// k8s-ha writes its output with fs.writeSync (src/terminal.ts). What must hold: every byte arrives,
// in order, whatever the descriptor is: a file, a pipe that a slow reader leaves full, and a
// non-blocking pipe (O_NONBLOCK, shared with a parent) on which a synchronous write fails with EAGAIN.
import { spawnSync } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Terminal } from "../../src/terminal.js";
import { BIN, ROOT, tempDir } from "../helpers/cli.js";

let cleanup = () => {};
afterEach(() => cleanup());

/**
 * Runs the CLI with its stdout on a 4 KiB pipe made non-blocking, read only after a pause, as
 * Python sets it up: what the reader got, and the CLI's exit status.
 */
function throughFullNonBlockingPipe(args: string[]): { output: Buffer; status: number } {
  const script = `
import fcntl, os, subprocess, sys, time
r, w = os.pipe()
fcntl.fcntl(w, 1031, 4096)  # F_SETPIPE_SZ: a full pipe after 4 KiB
os.set_blocking(w, False)
child = subprocess.Popen(sys.argv[1:], stdout=w)
os.close(w)
time.sleep(0.5)  # the CLI meets a full pipe: EAGAIN
chunks = []
while True:
    chunk = os.read(r, 65536)
    if not chunk:
        break
    chunks.append(chunk)
sys.stdout.buffer.write(b"".join(chunks))
sys.exit(child.wait())
`;
  const result = spawnSync("python3", ["-c", script, process.execPath, BIN, ...args], { cwd: ROOT });
  expect(result.error).toBeUndefined();
  return { output: result.stdout, status: result.status ?? -1 };
}

describe("terminal output", () => {
  it("writes every byte of multi-byte text to a file", () => {
    const temp = tempDir("k8s-ha-terminal-");
    cleanup = temp.cleanup;
    const file = join(temp.dir, "out.txt");
    const fd = openSync(file, "w");
    const text = `${"ünïcödé — 😀 ".repeat(20_000)}\n`;
    try {
      const terminal = new Terminal(1);
      Object.defineProperty(terminal, "fd", { value: fd });
      terminal.write(text);
      terminal.write("end\n");
    } finally {
      closeSync(fd);
    }
    expect(readFileSync(file, "utf8")).toBe(`${text}end\n`);
  });

  it("hands over to Node's stream on EAGAIN: the output of `schema` arrives whole through a full non-blocking pipe", () => {
    const expected = spawnSync(process.execPath, [BIN, "schema"], { cwd: ROOT });
    expect(expected.status).toBe(0);
    expect(expected.stdout.length).toBeGreaterThan(3 * 4096); // more than the pipe holds
    const { output, status } = throughFullNonBlockingPipe(["schema"]);
    expect(status).toBe(0);
    expect(output.equals(expected.stdout)).toBe(true);
  });
});

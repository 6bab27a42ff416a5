// Long test runs (image builds, bakes, `up` with its VMs) in their own process group, stopped as a
// whole on a hang or when the test process dies.
import { spawn } from "node:child_process";

/**
 * Runs a program to its end in its own process group (stopped as a whole by `stop()`, and sent
 * SIGTERM if this process dies: setpriv --pdeathsig), collecting its output.
 */
export function runDetached(
  program: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs: number; onStderr?: (chunk: string) => void },
): {
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
  stop: () => void;
} {
  const child = spawn("setpriv", ["--pdeathsig", "SIGTERM", "--", program, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
    env: { ...process.env, ...options.env },
  });
  const stop = () => {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {
      // already gone
    }
  };
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>(
    (resolve, reject) => {
      let stdout = "";
      let stderr = "";
      child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
      child.stderr.setEncoding("utf8").on("data", (c: string) => {
        stderr += c;
        options.onStderr?.(c);
      });
      const timer = setTimeout(stop, options.timeoutMs);
      child.on("error", reject);
      child.on("close", (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal, stdout, stderr });
      });
    },
  );
  return { done, stop };
}

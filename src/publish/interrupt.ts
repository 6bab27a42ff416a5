// Ctrl-C (SIGINT) and SIGTERM during a transfer: the first one aborts it cleanly (parts in
// flight stop, the multipart upload is aborted, temp files go, the catalogue is not touched) and
// the command exits 130. A second one while that clean-up runs ends the process at once.
import { InterruptedError } from "../errors.js";

export interface InterruptWatch {
  signal: AbortSignal;
  dispose(): void;
}

export function watchInterrupts(stderr: NodeJS.WritableStream, cleanup: string): InterruptWatch {
  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals) => {
    if (!controller.signal.aborted) {
      stderr.write(`\n${name}: stopping; ${cleanup} (again to quit at once)\n`);
      controller.abort(new InterruptedError(`interrupted (${name}): ${cleanup}`));
      return;
    }
    dispose();
    process.kill(process.pid, name); // the default action, now that our handler is gone
  };
  const dispose = () => {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return { signal: controller.signal, dispose };
}

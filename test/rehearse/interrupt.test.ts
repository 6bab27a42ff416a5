// An interrupt (Ctrl-C reaches rehearse as an aborted signal) removes the whole lab, then
// rejects with InterruptedError (exit 130).
import { describe, expect, it } from "vitest";
import { InterruptedError } from "../../src/errors.js";
import { rehearse } from "../../src/rehearse/index.js";
import { canRehearse, expectNothingLeft, LAB_TIMEOUT, labFromLog } from "./helpers.js";
import { planOfFile } from "../helpers/plan.js";

const ok = canRehearse();

describe("rehearse interrupted", () => {
  it.skipIf(!ok)(
    "with keepalived running: rejects with InterruptedError and leaves nothing, even with --keep",
    async () => {
      const controller = new AbortController();
      const lines: string[] = [];
      const log = (line: string) => {
        lines.push(line);
        if (line.startsWith("keepalived started")) setTimeout(() => controller.abort(), 500);
      };
      const run = rehearse({
        plan: await planOfFile("examples/two-masters.yaml"),
        keep: true,
        signal: controller.signal,
        log,
      });
      await expect(run).rejects.toBeInstanceOf(InterruptedError);
      expectNothingLeft(labFromLog(lines));
    },
    LAB_TIMEOUT,
  );
});

// The recipe's priorities (200/100 with weight -2) pass the static checks only with
// --accept-invalid, and the lab shows what the check says: the holder loses every apiserver, its
// check fails, and the VIP stays. (A dead haproxy moves the VIP anyway: keepalived's haproxy check
// puts the node into FAULT, whatever the priorities.)
import { afterEach, describe, expect, it, vi } from "vitest";
import { runRehearse } from "../../src/cli/commands/rehearse.js";
import { ExitError } from "../../src/errors.js";
import * as terminal from "../../src/terminal.js";
import { canRehearse, expectNothingLeft, LAB_TIMEOUT } from "./helpers.js";

const ok = canRehearse();
const RECIPE = "test/fixtures/recipe-priorities.yaml";

/**
 * Runs the command with stdout and stderr captured (k8s-ha's own writes, src/terminal.ts, and
 * anything written to Node's streams); returns them and what it threw.
 */
async function capture(run: () => Promise<void>): Promise<{ stdout: string; stderr: string; error: unknown }> {
  let stdout = "";
  let stderr = "";
  vi.spyOn(terminal.stdout, "write").mockImplementation((text) => void (stdout += text));
  vi.spyOn(terminal.stderr, "write").mockImplementation((text) => void (stderr += text));
  vi.spyOn(process.stdout, "write").mockImplementation((chunk) => ((stdout += String(chunk)), true));
  vi.spyOn(process.stderr, "write").mockImplementation((chunk) => ((stderr += String(chunk)), true));
  try {
    await run();
    return { stdout, stderr, error: undefined };
  } catch (error) {
    return { stdout, stderr, error };
  } finally {
    vi.restoreAllMocks();
  }
}

afterEach(() => vi.restoreAllMocks());

describe("rehearse the recipe's priorities", () => {
  it("refuses the spec without --accept-invalid, before building anything", async () => {
    const { stderr, error } = await capture(() => runRehearse(RECIPE, {}));
    expect(error).toBeInstanceOf(ExitError);
    expect((error as ExitError).code).toBe(1);
    expect((error as ExitError).hint).toMatch(/--accept-invalid/);
    expect(stderr).toMatch(/spec\.healthCheck\.weight .*198/);
    expect(stderr).not.toMatch(/^lab /m);
  });

  it.skipIf(!ok)(
    "with --accept-invalid: the findings become warnings, and the holder cut off from the apiservers keeps the VIP (exit 1)",
    async () => {
      const { stdout, stderr, error } = await capture(() => runRehearse(RECIPE, { json: true, acceptInvalid: true }));
      expect(stderr).toMatch(/spec\.healthCheck\.weight {2}warning: .*198/);
      expect((error as ExitError).code).toBe(1);
      const result = JSON.parse(stdout);
      expect(result.acceptedInvalid).toBe(true);
      expect(result.passed).toBe(false);
      const byId = Object.fromEntries(result.scenarios.map((s: { id: string }) => [s.id, s]));
      expect(byId["start"].verdict).toBe("pass");
      expect(byId["keepalived-stop"].verdict).toBe("pass");
      // haproxy dead: FAULT (priority 0), so the VIP moves whatever the priorities
      expect(byId["haproxy-stop"].verdict).toBe("pass");
      // 200 - 2 = 198 > 100: master01 keeps the VIP although its haproxy reaches no apiserver
      expect(byId["backends-cut"].verdict).toBe("fail");
      expect(byId["backends-cut"].detail).toMatch(/held by master01: .*198/);
      expect(byId["backends-cut-heal"].verdict).toBe("pass");
      expect(byId["single-holder"].verdict).toBe("pass");
      expectNothingLeft(result.lab);
    },
    LAB_TIMEOUT,
  );
});

// The progress display: a live status line on a terminal, timestamped plain lines elsewhere.
import { afterEach, describe, expect, it, vi } from "vitest";
import { createProgress, formatElapsed, formatTimestamp, stageOf } from "../../src/packer/progress.js";
import { Capture } from "./helpers.js";

const T0 = Date.UTC(2026, 0, 2, 3, 4, 5);

afterEach(() => {
  vi.useRealTimers();
});

describe("formatting", () => {
  it.each([
    [0, "0:00"],
    [75, "1:15"],
    [3725, "1:02:05"],
    [-3, "0:00"],
  ])("elapsed %d s → %s", (seconds, text) => {
    expect(formatElapsed(seconds)).toBe(text);
  });

  it("timestamps in UTC without milliseconds", () => {
    expect(formatTimestamp(T0 + 123)).toBe("2026-01-02T03:04:05Z");
  });

  it("recognises Packer's stage lines only", () => {
    expect(
      stageOf({
        level: "say",
        text: "==> virtualbox-iso.ubuntu: Waiting for SSH to become available...",
        timestamp: 1,
      }),
    ).toBe("virtualbox-iso.ubuntu: Waiting for SSH to become available...");
    expect(
      stageOf({ level: "message", text: "    virtualbox-iso.ubuntu: Reading package lists...", timestamp: 1 }),
    ).toBeUndefined();
    expect(stageOf({ level: "say", text: "Build 'x' finished after 1 second.", timestamp: 1 })).toBeUndefined();
  });
});

describe("plain output (not a terminal)", () => {
  it("prints each line with a timestamp and the elapsed time, and no control characters", () => {
    let now = T0;
    const stream = new Capture();
    const progress = createProgress({ stream, tty: false, now: () => now });
    progress.info("Packer 1.6.6 (/usr/bin/packer)");
    now += 75_000;
    progress.packer({ level: "say", text: "==> null.x: Running local shell script", timestamp: (T0 + 75_000) / 1000 });
    progress.packer({
      level: "message",
      text: "    null.x: \u001b[1;32mcolour\u001b[0m\nsecond line",
      timestamp: (T0 + 75_000) / 1000,
    });
    progress.stage("ignored without a terminal");
    progress.close();
    expect(stream.text).toBe(
      [
        "2026-01-02T03:04:05Z [0:00] Packer 1.6.6 (/usr/bin/packer)",
        "2026-01-02T03:05:20Z [1:15] ==> null.x: Running local shell script",
        "2026-01-02T03:05:20Z [1:15]     null.x: colour",
        "2026-01-02T03:05:20Z [1:15] second line",
        "",
      ].join("\n"),
    );
  });
});

describe("live output (terminal)", () => {
  it("keeps a status line with the stage and elapsed time under the scrolling lines", () => {
    vi.useFakeTimers();
    let now = T0;
    const stream = new Capture();
    stream.isTTY = true;
    const progress = createProgress({ stream, now: () => now, refreshMs: 1000 });
    progress.packer({
      level: "say",
      text: "==> virtualbox-iso.ubuntu: Waiting for SSH to become available...",
      timestamp: T0 / 1000,
    });
    now += 61_000;
    vi.advanceTimersByTime(1000);
    progress.packer({ level: "message", text: "    virtualbox-iso.ubuntu: apt output", timestamp: now / 1000 });
    progress.close();
    const CLEAR = "\r\u001b[2K";
    expect(stream.chunks.map((c) => c.text)).toEqual([
      "==> virtualbox-iso.ubuntu: Waiting for SSH to become available...\n",
      `${CLEAR}[0:00] virtualbox-iso.ubuntu: Waiting for SSH to become available...`,
      `${CLEAR}[1:01] virtualbox-iso.ubuntu: Waiting for SSH to become available...`,
      `${CLEAR}    virtualbox-iso.ubuntu: apt output\n`,
      `${CLEAR}[1:01] virtualbox-iso.ubuntu: Waiting for SSH to become available...`,
      CLEAR,
    ]);
  });

  it("cuts the status line to the terminal's width", () => {
    const stream = new Capture();
    stream.isTTY = true;
    stream.columns = 20;
    const progress = createProgress({ stream, now: () => T0 });
    progress.stage("a very long stage name that does not fit");
    progress.close();
    expect(stream.chunks[0]?.text).toBe("\r\u001b[2K[0:00] a very long…");
  });
});

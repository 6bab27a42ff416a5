// The transfer display: a bar redrawn in place on a terminal; timestamped lines every few
// seconds elsewhere, with no control characters in a CI log.
import { Writable } from "node:stream";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createTransferProgress, formatBytes, formatRate } from "../../src/publish/progress.js";

const T0 = Date.UTC(2026, 0, 2, 3, 4, 5);
const MiB = 1024 * 1024;

class Capture extends Writable {
  text = "";
  isTTY?: boolean;
  columns = 120;
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.text += chunk.toString("utf8");
    callback();
  }
}

afterEach(() => {
  vi.useRealTimers();
});

describe("formatting", () => {
  it.each([
    [0, "0 B"],
    [1023, "1023 B"],
    [1536, "1.5 KiB"],
    [2 * 1024 * MiB, "2.0 GiB"],
    [5 * 1024 * 1024 * MiB, "5.0 TiB"],
  ])("%d bytes → %s", (bytes, text) => expect(formatBytes(bytes)).toBe(text));

  it("rates", () => expect(formatRate(45.5 * MiB)).toBe("45.5 MiB/s"));
});

describe("plain output (not a terminal)", () => {
  it("prints a line every interval with bytes, rate and ETA, then the summary", () => {
    let now = T0;
    const stream = new Capture();
    const progress = createTransferProgress({
      stream,
      verb: "uploading",
      label: "x.ova",
      total: 100 * MiB,
      tty: false,
      now: () => now,
    });
    now += 1000;
    progress.update(10 * MiB); // before the interval: nothing yet
    expect(stream.text).toBe("");
    now += 4000;
    progress.update(50 * MiB);
    now += 1000;
    progress.update(60 * MiB);
    now += 4000;
    progress.update(100 * MiB);
    progress.finish("sha256 abc checked by HEAD");
    progress.close();
    expect(stream.text).toBe(
      [
        "2026-01-02T03:04:10Z uploading x.ova: 50% 50.0 MiB of 100.0 MiB, 10.0 MiB/s, ETA 0:05",
        "2026-01-02T03:04:15Z uploading x.ova: 100% of 100.0 MiB sent, waiting for the store to complete it",
        "uploaded x.ova: 100.0 MiB in 0:10 (10.0 MiB/s), sha256 abc checked by HEAD",
        "",
      ].join("\n"),
    );
    // eslint-disable-next-line no-control-regex
    expect(stream.text).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/);
  });

  it("keeps printing while nothing moves, so a stall shows", () => {
    vi.useFakeTimers({ now: T0 });
    const stream = new Capture();
    const progress = createTransferProgress({
      stream,
      verb: "downloading",
      label: "x.ova",
      total: 10 * MiB,
      tty: false,
    });
    progress.update(MiB);
    vi.advanceTimersByTime(12_000);
    progress.close();
    expect(stream.text.trim().split("\n")).toHaveLength(2);
    expect(stream.text).toMatch(/downloading x\.ova: 10% 1\.0 MiB of 10\.0 MiB, 0 B\/s, ETA --:--\n$/);
  });
});

describe("the rate", () => {
  it("is exact under a dense stream of updates (one per 64 KiB socket read, as a download gives)", () => {
    let now = T0;
    const stream = new Capture();
    const total = 2000 * MiB;
    const progress = createTransferProgress({
      stream,
      verb: "downloading",
      label: "x.ova",
      total,
      tty: false,
      now: () => now,
    });
    // 100 MiB/s for 12 s: 19,200 updates, 0.625 ms apart
    for (let bytes = 64 * 1024; bytes <= 1200 * MiB; bytes += 64 * 1024) {
      now += 0.625;
      progress.update(bytes);
    }
    progress.close();
    const lines = stream.text.trim().split("\n");
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(line).toMatch(/, 100\.0 MiB\/s, ETA /);
  });
});

describe("live output (terminal)", () => {
  it("redraws one line in place and clears it before the summary", () => {
    let now = T0;
    const stream = new Capture();
    const progress = createTransferProgress({
      stream,
      verb: "uploading",
      label: "x.ova",
      total: 4 * MiB,
      tty: true,
      now: () => now,
    });
    now += 1000;
    progress.update(MiB);
    now += 50;
    progress.update(2 * MiB); // within 100 ms of the last redraw: skipped
    now += 1000;
    progress.update(3 * MiB);
    const draws = stream.text.split("\r\u001b[2K").filter(Boolean);
    expect(draws).toHaveLength(3);
    expect(draws[0]).toMatch(/^x\.ova \[\.{30}\] 0% 0 B of 4\.0 MiB/);
    expect(draws[2]).toBe(`x.ova [${"#".repeat(22)}${".".repeat(8)}] 75% 3.0 MiB of 4.0 MiB, 1.5 MiB/s, ETA 0:00`);
    progress.finish();
    expect(stream.text).toMatch(/\r\u001b\[2Kuploaded x\.ova: 4\.0 MiB in 0:02 \(2\.0 MiB\/s\)\n$/);
    progress.close(); // twice is fine
  });

  it("fits an 80-column terminal, dropping the bar before the numbers", () => {
    for (const columns of [80, 60, 30]) {
      const stream = Object.assign(new Capture(), { columns });
      const progress = createTransferProgress({
        stream,
        verb: "downloading",
        label: "k8s-ha-ubuntu-20.04-0.1.0.ova",
        total: 2 * 1024 * MiB,
        tty: true,
        now: () => T0,
      });
      progress.close();
      const line = stream.text.split("\r\u001b[2K").filter(Boolean)[0]!;
      expect(line.length, line).toBeLessThan(columns);
      if (columns === 80) expect(line).toMatch(/\[\.+\] 0% 0 B of 2\.0 GiB, 0 B\/s, ETA --:--$/);
    }
  });
});

// The download's file sink (src/publish/file-sink.ts): whatever the chunking, the file holds
// exactly the bytes streamed, with the mode asked for; a failure reaches the pipeline.
import { createHash, randomBytes } from "node:crypto";
import { readdirSync, readFileSync, readlinkSync, statSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FileSink } from "../../src/publish/file-sink.js";
import { tempDir } from "../helpers/cli.js";

let dir = "";
let cleanup = () => {};
beforeEach(() => ({ dir, cleanup } = tempDir("k8s-ha-sink-")));
afterEach(() => cleanup());

const MIB = 1024 * 1024;
const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");

/** `data` cut into chunks of the given sizes, in turn, as a socket might hand them over. */
function chunked(data: Buffer, sizes: number[]): Readable {
  const chunks: Buffer[] = [];
  for (let offset = 0, i = 0; offset < data.length; i++) {
    const size = sizes[i % sizes.length]!;
    chunks.push(data.subarray(offset, offset + size));
    offset += size;
  }
  return Readable.from(chunks);
}

describe("FileSink", () => {
  it("writes exactly the bytes, across batch boundaries, chunks of any size, with the mode", async () => {
    for (const [size, sizes] of [
      [0, [1]],
      [1, [1]],
      [3 * MIB + 17, [65536]],
      [2 * MIB + 5, [1, 1000, 65535, 1048577, 7]],
    ] as const) {
      const data = randomBytes(size);
      const file = join(dir, `f-${size}`);
      await pipeline(chunked(data, [...sizes]), new FileSink(file, 0o640));
      expect(sha256(readFileSync(file)), `${size} bytes in chunks of ${sizes.join(",")}`).toBe(sha256(data));
      expect(statSync(file).mode & 0o777).toBe(0o640);
    }
  });

  it("past the flush interval (64 MiB): the file is whole", async () => {
    const block = randomBytes(MIB);
    const blocks = 70;
    const expected = createHash("sha256");
    for (let i = 0; i < blocks; i++) expected.update(block);
    const file = join(dir, "big");
    await pipeline(Readable.from(Array.from({ length: blocks }, () => block)), new FileSink(file, 0o644));
    expect(statSync(file).size).toBe(blocks * MIB);
    expect(createHash("sha256").update(readFileSync(file)).digest("hex")).toBe(expected.digest("hex"));
  });

  it("a file that cannot be made fails the pipeline with the system's error", async () => {
    await expect(
      pipeline(Readable.from([Buffer.from("x")]), new FileSink(join(dir, "no/such/dir/f"), 0o644)),
    ).rejects.toThrow(/ENOENT/);
  });

  it("a source that fails: the pipeline fails and the sink's file is closed", async () => {
    const file = join(dir, "partial");
    const failing = new Readable({
      read() {
        this.push(randomBytes(2 * MIB));
        this.destroy(new Error("connection reset"));
      },
    });
    const sink = new FileSink(file, 0o644);
    await expect(pipeline(failing, sink)).rejects.toThrow(/connection reset/);
    expect(sink.destroyed).toBe(true);
    if (!sink.closed) await new Promise((resolve) => sink.on("close", resolve)); // its error event came first
    const open = readdirSync("/proc/self/fd").map((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        return "";
      }
    });
    expect(open).not.toContain(file);
  });
});

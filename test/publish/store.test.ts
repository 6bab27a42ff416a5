// The test store itself (helpers.ts): s3rver with its DeleteObject made safe for concurrent
// publishers. Each publish writes and deletes a probe object under the image's prefix; s3rver's
// own DeleteObject removed a folder it found empty while another request's PUT had just made it,
// and the PUT's file stream failed with an uncaught ENOENT (CI, test/publish/race.test.ts).
import { DeleteObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { afterEach, expect, it } from "vitest";
import { tempDir } from "../helpers/cli.js";
import { IMAGE_NAME, keysOf, PREFIX, startStore, type TestStore } from "./helpers.js";

let store: TestStore | undefined;
let cleanup: (() => void) | undefined;
afterEach(async () => {
  await store?.stop();
  cleanup?.();
});

it("survives objects written and deleted at once under one folder", { timeout: 60_000 }, async () => {
  const dir = tempDir("k8s-ha-s3rver-");
  cleanup = dir.cleanup;
  store = await startStore(dir.dir, ["probes"]);
  const client = store.client();
  const uncaught: unknown[] = [];
  const count = (error: unknown) => uncaught.push(error);
  process.on("uncaughtException", count);
  try {
    // four writers, each putting and deleting its own keys in one folder, without a barrier:
    // without the fix this loses a PUT to the folder clean-up several times per run
    await Promise.all(
      Array.from({ length: 4 }, async (_, writer) => {
        for (let round = 0; round < 200; round++) {
          const Key = `${PREFIX}${IMAGE_NAME}/.probe-${writer}-${round}`;
          await client.send(new PutObjectCommand({ Bucket: "probes", Key, Body: "probe\n" }));
          await client.send(new DeleteObjectCommand({ Bucket: "probes", Key }));
        }
      }),
    );
  } finally {
    process.off("uncaughtException", count);
  }
  expect(uncaught).toEqual([]);
  expect(await keysOf(store, "probes")).toEqual([]);
});

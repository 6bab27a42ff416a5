// build-image --dry-run checks that the installer ISO or cloud image can be had: a local file
// exists, a web server answers. Only loopback servers here, started and stopped by each test.
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ExternalError } from "../../src/errors.js";
import { buildImage } from "../../src/packer/build-image.js";
import { checkReachable, sourceImage, type SourceImage } from "../../src/packer/source-image.js";
import { INSTALLER_ISOS, OS_FACTS } from "../../src/spec/targets.js";
import { haveTools } from "../helpers/tools.js";
import { Capture, DEFAULT_IMAGE, packerTestEnv, tempDir } from "./helpers.js";

let work: ReturnType<typeof tempDir>;
let server: Server | undefined;
/** Sockets the never-answering server holds, closed at the end so that close() returns. */
const held = new Set<import("node:net").Socket>();
beforeEach(() => {
  work = tempDir("source-image");
});
afterEach(async () => {
  for (const socket of held) socket.destroy();
  held.clear();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
  work.cleanup();
});

/** A loopback web server answering each request with `reply`; returns its base URL and what it saw. */
async function serve(
  reply: (request: IncomingMessage) => number | "never",
): Promise<{ url: string; seen: Array<{ method: string; range?: string }> }> {
  const seen: Array<{ method: string; range?: string }> = [];
  server = createServer((request, response) => {
    seen.push({ method: request.method!, ...(request.headers.range ? { range: request.headers.range } : {}) });
    const status = reply(request);
    if (status === "never") return void held.add(request.socket);
    response.writeHead(status, { "content-length": "0" }).end();
  });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

const image = (url: string): SourceImage => ({ what: "installer ISO", url, from: "PKR_VAR_iso_url" });

async function refused(promise: Promise<unknown>): Promise<ExternalError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ExternalError);
  expect((error as ExternalError).code).toBe(3);
  expect((error as ExternalError).hint).toMatch(/PKR_VAR_iso_url=.*PKR_VAR_iso_checksum=sha256:/);
  return error as ExternalError;
}

describe("the source image of a bake", () => {
  it("is the template's ISO (VirtualBox) or cloud image (qemu), unless PKR_VAR_iso_url says otherwise", () => {
    expect(sourceImage("virtualbox", "ubuntu-22.04", {})).toEqual({
      what: "installer ISO",
      url: INSTALLER_ISOS["ubuntu-22.04"]!.url,
      from: "template",
    });
    expect(sourceImage("qemu", "debian-12", {})).toEqual({
      what: "cloud image",
      url: OS_FACTS["debian-12"].cloudImage!.url,
      from: "template",
    });
    expect(sourceImage("qemu", "debian-12", { PKR_VAR_iso_url: "/srv/debian.qcow2" })).toEqual({
      what: "cloud image",
      url: "/srv/debian.qcow2",
      from: "PKR_VAR_iso_url",
    });
  });

  it("a local path or file: URL must name a file", async () => {
    const iso = join(work.dir, "ubuntu.iso");
    writeFileSync(iso, "iso");
    expect(await checkReachable(image(iso))).toBe(true);
    expect(await checkReachable(image(pathToFileURL(iso).href))).toBe(true);
    const missing = await refused(checkReachable(image(pathToFileURL(join(work.dir, "gone.iso")).href)));
    expect(missing.message).toBe(
      `the installer ISO ${pathToFileURL(join(work.dir, "gone.iso")).href} (PKR_VAR_iso_url): ${join(work.dir, "gone.iso")} does not exist`,
    );
    mkdirSync(join(work.dir, "folder"));
    expect((await refused(checkReachable(image(join(work.dir, "folder"))))).message).toMatch(/folder is not a file$/);
  });

  it("an http URL must answer its HEAD with 2xx; a 404 is exit 3 naming the URL and the status", async () => {
    const { url, seen } = await serve((request) => (request.url === "/ubuntu.iso" ? 200 : 404));
    expect(await checkReachable(image(`${url}/ubuntu.iso`))).toBe(true);
    expect(seen).toEqual([{ method: "HEAD" }]);
    const gone = await refused(checkReachable(image(`${url}/gone.iso`)));
    expect(gone.message).toBe(
      `the installer ISO ${url}/gone.iso (PKR_VAR_iso_url) is not reachable: the server answered HTTP 404`,
    );
  });

  it("a server that refuses HEAD (405) is asked for one byte instead", async () => {
    const { url, seen } = await serve((request) => (request.method === "HEAD" ? 405 : 206));
    expect(await checkReachable(image(`${url}/ubuntu.iso`))).toBe(true);
    expect(seen).toEqual([{ method: "HEAD" }, { method: "GET", range: "bytes=0-0" }]);
  });

  it("a server that never answers, or a closed port: exit 3 within the timeout, with the reason", async () => {
    const { url } = await serve(() => "never");
    expect((await refused(checkReachable(image(`${url}/ubuntu.iso`), 300))).message).toMatch(
      /is not reachable: no answer within 0\.3 s$/,
    );
    const closed = url;
    for (const socket of held) socket.destroy();
    await new Promise<void>((resolve) => server!.close(() => resolve()));
    server = undefined;
    expect((await refused(checkReachable(image(`${closed}/ubuntu.iso`)))).message).toMatch(
      /is not reachable: ECONNREFUSED$/,
    );
    // a port fetch will not use (9, discard) is named as such, not as a dead server
    expect((await refused(checkReachable(image("http://127.0.0.1:9/ubuntu.iso")))).message).toMatch(
      /its port is one Node's fetch refuses/,
    );
  });

  it("a scheme only Packer's getter knows (s3::, git::) is left to Packer", async () => {
    expect(await checkReachable(image("s3::https://bucket.example/ubuntu.iso"))).toBe(false);
  });
});

const have = haveTools("packer");

describe("build-image --dry-run", { timeout: 30_000 }, () => {
  const dryRun = async (env: NodeJS.ProcessEnv) => {
    const stdout = new Capture();
    const stderr = new Capture();
    const result = await buildImage({
      outDir: join(work.dir, "out"),
      specSha256: "a".repeat(64),
      clusterName: "lab",
      image: DEFAULT_IMAGE,
      os: "ubuntu-20.04",
      dryRun: true,
      requireVirtualBox: false,
      stderr,
      stdout,
      tty: false,
      env: { ...packerTestEnv(work.dir), ...env },
      reachTimeoutMs: 2000,
    }).catch((e: unknown) => e);
    return { result, stdout: stdout.text, stderr: stderr.text };
  };

  it.skipIf(!have)(
    "checks the golden-image template's ISO: reachable → commands; 404 → exit 3 and no commands",
    async () => {
      const { url } = await serve((request) => (request.url === "/focal.iso" ? 200 : 404));
      const ok = await dryRun({ PKR_VAR_iso_url: `${url}/focal.iso` });
      expect(ok.result).toBeUndefined();
      expect(ok.stderr).toContain(`dry run: the installer ISO ${url}/focal.iso is reachable`);
      expect(ok.stdout).toMatch(/^\S*packer build -machine-readable /m);
      expect(ok.stdout).not.toMatch(/\.partial-/); // no throw-away folder in commands meant to be pasted

      const missing = await dryRun({ PKR_VAR_iso_url: `${url}/old.iso` });
      expect(missing.result).toBeInstanceOf(ExternalError);
      expect((missing.result as ExternalError).message).toContain("HTTP 404");
      expect(missing.stdout).toBe("");
    },
  );
});

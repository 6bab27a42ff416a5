// Shared fixtures for the Packer tests: image specs, a throwaway Packer environment (no update
// check, no shared cache, no HOME of the user) and a stream that remembers what was written.
import { join } from "node:path";
import { Writable } from "node:stream";
import type { ImageSpec } from "../../src/spec/schema.js";

/** spec.image with every default, as the schema fills it in. */
export const DEFAULT_IMAGE: ImageSpec = {
  builder: "virtualbox",
  name: "k8s-ha-ubuntu-20.04",
  version: "0.1.0",
  cpus: 2,
  memoryMiB: 2048,
  diskMiB: 20480,
  extraPackages: [],
};

/** A spec.image that changes everything that can change. */
export const CUSTOM_IMAGE: ImageSpec = {
  builder: "virtualbox",
  name: "lab-golden.v2",
  version: "1.2.3-rc.1",
  cpus: 4,
  memoryMiB: 4096,
  diskMiB: 40960,
  extraPackages: ["jq", "chrony", "vim=2:8.1.2269-1ubuntu5"],
};

export { tempDir } from "../helpers/cli.js";

/** The qemu build of the default image (a qcow2 from the target OS's cloud image). */
export const QEMU_IMAGE: ImageSpec = { ...DEFAULT_IMAGE, builder: "qemu", name: "k8s-ha-debian-12" };

/** An environment in which Packer touches nothing outside `home` and asks no server anything. */
export function packerTestEnv(home: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: home,
    TMPDIR: home,
    CHECKPOINT_DISABLE: "1",
    PACKER_CACHE_DIR: join(home, "packer_cache"),
    PACKER_CONFIG_DIR: join(home, ".packer.d"),
    PACKER_PLUGIN_PATH: join(home, "plugins"),
  };
}

/** A writable stream that keeps every chunk with the time it arrived. */
export class Capture extends Writable {
  readonly chunks: { at: number; text: string }[] = [];
  isTTY = false;
  columns = 100;

  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: () => void): void {
    this.chunks.push({ at: Date.now(), text: chunk.toString() });
    callback();
  }

  get text(): string {
    return this.chunks.map((c) => c.text).join("");
  }
}

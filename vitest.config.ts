import { defineConfig } from "vitest/config";

/**
 * The golden path in real VMs: the qemu bake of a Debian 12 image, then `up --rehearse` on two
 * nodes booted from it, a rolling re-seed and `down` (minutes of emulated CPU: no KVM on CI machines).
 */
const GOLDEN_PATH_TEST = "test/up/up-qemu.test.ts";
// debootstrap (first run) and dpkg in a chroot: heavy too, so it runs after the suite with the boots
const IMAGE_SCRIPT_TEST = "test/packer/kubernetes-script.test.ts";

export default defineConfig({
  test: {
    // real tools, namespaces and a VM boot run in these tests: give them room, not retries
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    // snapshots are written only by an explicit `npx vitest run -u`, never by CI
    update: false,
    projects: [
      {
        extends: true,
        test: {
          name: "suite",
          include: ["test/**/*.test.ts"],
          exclude: [GOLDEN_PATH_TEST, IMAGE_SCRIPT_TEST],
          sequence: { groupOrder: 0 },
        },
      },
      // Each of these emulates a CPU for minutes (no KVM on CI machines): one file at a time, after
      // the suite. (Run beside the suite, a boot took 927 s instead of 286 s and its report's
      // journal overflowed: see scripts/test.sh.)
      {
        extends: true,
        test: {
          name: "boot",
          include: [GOLDEN_PATH_TEST, IMAGE_SCRIPT_TEST],
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});

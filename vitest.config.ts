import { defineConfig } from "vitest/config";

const BOOT_TEST = "test/seed/boot.test.ts";
/** The qemu bake and the boot of the baked image: minutes of emulated CPU, like the boot test. */
const BAKE_TEST = "test/bake/bake-boot.test.ts";
// debootstrap (first run) and dpkg in a chroot: heavy too, so it runs after the suite with the boot
const IMAGE_SCRIPT_TEST = "test/packer/kubernetes-script.test.ts";
/**
 * `up --rehearse` on two VMs under TCG: two guests and a reboot, ~25 core-minutes (1040 s when it
 * passed, docs/up.md), more than CI's 40 minutes can take beside the other boots. Run by hand:
 * K8S_HA_TEST_UP_VM=1 npx vitest run --project boot test/up/up-qemu.test.ts
 */
const UP_QEMU_TEST = "test/up/up-qemu.test.ts";
const UP_QEMU_ASKED = process.env.K8S_HA_TEST_UP_VM === "1";

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
          exclude: [BOOT_TEST, BAKE_TEST, IMAGE_SCRIPT_TEST, UP_QEMU_TEST],
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
          include: [BOOT_TEST, BAKE_TEST, IMAGE_SCRIPT_TEST, ...(UP_QEMU_ASKED ? [UP_QEMU_TEST] : [])],
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});

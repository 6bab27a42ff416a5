import { defineConfig } from "vitest/config";

/**
 * The golden path in real VMs: the qemu bake of a Debian 12 image, then `up --rehearse` on two
 * nodes booted from it, a rolling re-seed and `down` (minutes of emulated CPU: no KVM on CI machines).
 */
const GOLDEN_PATH_TEST = "test/up/up-qemu.test.ts";
// dpkg in a chroot of the boot rootfs (which the golden path builds): after the suite, with the boots
const IMAGE_SCRIPT_TEST = "test/packer/kubernetes-script.test.ts";
/**
 * The rehearsals time failovers in network namespaces against fixed windows (haproxy's checks,
 * keepalived's adverts). Beside another test file's CPU load one failed (2026-12-02: haproxy took
 * a failing apiserver out 4 s late), so they run after the suite, one at a time, as before.
 */
const REHEARSALS = "test/rehearse/**/*.test.ts";
/** Concurrent publishes against s3rver: two-wide, s3rver once threw ENOENT on a probe object a racer had deleted. */
const S3_RACES = "test/publish/race.test.ts";

/**
 * Files that run after the suite, one at a time, each group after the one before: the timed
 * rehearsals and races, then the VMs. Each boot emulates a CPU for minutes (no KVM on CI
 * machines); run beside the suite, a boot took 927 s instead of 286 s and its report's journal
 * overflowed (scripts/test.sh).
 */
const ALONE = [
  { name: "timing", include: [REHEARSALS, S3_RACES] },
  { name: "boot", include: [GOLDEN_PATH_TEST, IMAGE_SCRIPT_TEST] },
];

export default defineConfig({
  test: {
    // real tools, namespaces and a VM boot run in these tests: give them room, not retries
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    // Vitest's default is one worker fewer than the cores: one file at a time on the 2-core CI
    // machine, while many files mostly wait on processes and timers and leave a core idle. Two
    // files at once in the suite; the groups in ALONE run their files alone.
    maxWorkers: 2,
    // snapshots are written only by an explicit `npx vitest run -u`, never by CI
    update: false,
    projects: [
      {
        extends: true,
        test: {
          name: "suite",
          include: ["test/**/*.test.ts"],
          exclude: ALONE.flatMap((group) => group.include),
          sequence: { groupOrder: 0 },
        },
      },
      ...ALONE.map(({ name, include }, index) => ({
        extends: true,
        test: { name, include, fileParallelism: false, sequence: { groupOrder: index + 1 } },
      })),
    ],
  },
});

import { defineConfig } from "vitest/config";

const BOOT_TEST = "test/seed/boot.test.ts";
const UP_TEST = "test/up/up-qemu.test.ts";

export default defineConfig({
  test: {
    // real tools, namespaces and a VM boot run in these tests: give them room, not retries
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    // snapshots are written only by an explicit `npx vitest run -u`, never by CI
    update: false,
    projects: [
      { extends: true, test: { name: "suite", include: ["test/**/*.test.ts"], exclude: [BOOT_TEST, UP_TEST], sequence: { groupOrder: 0 } } },
      // The VM boot emulates a CPU on both cores for minutes (no KVM on CI machines): run it
      // alone, after the suite, so that it neither slows nor skews the rehearsal's timing verdicts.
      // Two VM tests: one after the other, each alone on the cores.
      { extends: true, test: { name: "boot", include: [BOOT_TEST, UP_TEST], fileParallelism: false, sequence: { groupOrder: 1 } } },
    ],
  },
});

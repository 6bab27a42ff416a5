#!/usr/bin/env bash
# The test command (README: `npm test`). Installs the real tools the tests hand files to (root on
# Debian, via apt-get, only those missing) and the haproxy/keepalived version matrix, builds the
# CLI the end-to-end tests spawn, runs every test, and ends with one plain
# "N passed, N failed, N skipped" line.
#
# Without arguments (CI) the tests run in three lanes side by side, to keep a fresh machine's run
# well inside CI's 40 minutes. The two cores are the limit: the version matrix's compilation, the
# images' debootstrap, the VM boots and the suite are each minutes of CPU, and run side by side so
# that none waits while another idles (the rehearsal's tests mostly wait on timers):
#   - the suite (vitest project "suite"), in the foreground. Its timing verdicts (the rehearsal)
#     are built to hold on a busy machine (issue 12);
#   - the version matrix: scripts/build-matrix.sh, then the tests that need it (project "matrix");
#   - the boot lane (project "boot": VM boots, the Packer bake, the kubeadm chroot), one file at a
#     time: each emulates a CPU (TCG) on about one core for minutes. Its images build in the
#     background from the start; the tests find them cached, or wait on the build's lock.
# With arguments (`npm test -- test/iso`), they go to one plain vitest run.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-tools.sh

lanes=false
[ $# -eq 0 ] && lanes=true
rm -f test-results*.json
image_log=$(mktemp -t k8s-ha-images.XXXXXX)
boot_log=$(mktemp -t k8s-ha-boot-lane.XXXXXX)
matrix_log=$(mktemp -t k8s-ha-matrix-lane.XXXXXX)
images=""
boot=""
matrix=""
# Background work runs under setsid, in a process group of its own: stopped as a whole (its qemu and
# debootstrap children too) when this script ends early, by a failure or Ctrl-C.
stop_background() {
    for pid in $images $boot $matrix; do kill -- "-$pid" 2>/dev/null || true; done
    rm -f "$image_log" "$boot_log" "$matrix_log"
}
trap stop_background EXIT
trap 'exit 130' INT TERM
if $lanes && [ "$(id -u)" -eq 0 ]; then
    # best effort: a failed build is rebuilt, and its error reported, by the test that needs it
    setsid bash -c 'bash scripts/build-test-cloud-image.sh && bash scripts/build-kube-chroot.sh' >"$image_log" 2>&1 &
    images=$!
fi

npm run --silent typecheck
npm run --silent format:check   # prettier, width 120 (.prettierrc); `npm run format` fixes
npm run --silent build

vitest_args=(vitest run --reporter=default --reporter=json)
status=0
if $lanes; then
    echo "test: three lanes: the suite here; the VM boots, and the version matrix (its build, then its"
    echo "test: tests) beside it; their output follows the suite's"
    # three lanes on two cores: a TCG boot has taken 927 s here (286 s alone), close to the 1200 s
    # hang ceiling of test/helpers/vm-boot.ts; give it room unless the caller chose a ceiling
    K8S_HA_TEST_BOOT_TIMEOUT=${K8S_HA_TEST_BOOT_TIMEOUT:-2400} \
        setsid npx "${vitest_args[@]}" --project boot --outputFile=test-results-boot.json >"$boot_log" 2>&1 &
    boot=$!
    # the matrix compiles for minutes; only its own tests wait for it. Niced: it has the most slack,
    # while the boot lane is the longest and the suite's timing verdicts want their share.
    setsid bash -c 'nice -n 10 bash scripts/build-matrix.sh && npx "$@" --project matrix --outputFile=test-results-matrix.json' \
        matrix "${vitest_args[@]}" >"$matrix_log" 2>&1 &
    matrix=$!
    npx "${vitest_args[@]}" --project suite --outputFile=test-results-suite.json || status=$?
    lane_status=0
    wait "$matrix" || lane_status=$?
    matrix=""
    echo "test: ---- the version matrix lane ----"
    cat "$matrix_log"
    [ "$status" -ne 0 ] || status=$lane_status
    lane_status=0
    wait "$boot" || lane_status=$?
    boot=""
    echo "test: ---- the boot lane ----"
    cat "$boot_log"
    [ "$status" -ne 0 ] || status=$lane_status
    if [ -n "$images" ] && ! wait "$images"; then
        echo "test: the background image build failed (the tests that need it rebuilt it):"
        tail -n 20 "$image_log"
    fi
    images=""
    node scripts/test-summary.mjs test-results-suite.json test-results-matrix.json test-results-boot.json ||
        status=$((status == 0 ? 1 : status))
else
    bash scripts/build-matrix.sh   # haproxy 2.0 → 3.5-dev, keepalived 2.0.19 → 2.3.4: cached, ~5 min the first time
    npx "${vitest_args[@]}" --outputFile=test-results.json "$@" || status=$?
    node scripts/test-summary.mjs test-results.json || status=$((status == 0 ? 1 : status))
fi
exit "$status"

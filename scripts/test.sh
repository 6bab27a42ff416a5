#!/usr/bin/env bash
# The test command (README: `npm test`). Installs the real tools the tests hand files to (root on
# Debian, via apt-get, only those missing) and the haproxy/keepalived version matrix, builds the CLI the end-to-end tests spawn, runs every
# test, and ends with one plain "N passed, N failed, N skipped" line.
#
# The suite runs two files at once (vitest.config.ts), the image builds start in the background
# (below), and the VM boots run alone after the suite. Tried on 2026-12-01: three lanes side by side (the suite,
# the matrix build then its tests, the VM boots) took a cold run from ~45 to 41 minutes on the 2-core
# machine, but the CPU is the limit (the matrix, the images, the boots and the suite are each minutes
# of it): a boot beside the others took 927 s instead of 286 s, and its report lost keepalived's
# state line under a minute of "send advert error 11" lines. Fewer, busier boots are the way down.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-tools.sh

# The VM tests' Debian images (scripts/build-test-cloud-image.sh, then the kube chroot from the
# same root): a debootstrap, minutes of downloads and dpkg on a fresh machine, cached after.
# Started now, in a process group of their own, beside the matrix build and the suite; the boot
# project's tests run the same scripts, which wait on the builds' locks and then find them
# cached (or, if a background build failed, build again and report why). Stopped if this ends first.
images_pgid=""
if [ "$(id -u)" -eq 0 ]; then
  images_log=$(mktemp -t k8s-ha-images.XXXXXX.log)
  setsid bash -c 'bash scripts/build-test-cloud-image.sh >/dev/null && bash scripts/build-kube-chroot.sh >/dev/null' \
    2>"$images_log" </dev/null &
  images_pgid=$!
  echo "test images: building in the background (log: $images_log)" >&2
fi
# shellcheck disable=SC2317 # called by the trap
stop_image_builds() { [ -z "$images_pgid" ] || kill -TERM -- "-$images_pgid" 2>/dev/null || true; }
trap stop_image_builds EXIT

bash scripts/build-matrix.sh   # haproxy 2.0 → 3.5-dev, keepalived 2.0.19 → 2.3.4: cached, ~5 min the first time
npm run --silent typecheck
npm run --silent format:check   # prettier, width 120 (.prettierrc); `npm run format` fixes
npm run --silent build

status=0
npx vitest run --reporter=default --reporter=json --outputFile=test-results.json "$@" || status=$?
node scripts/test-summary.mjs test-results.json || status=$((status == 0 ? 1 : status))
exit "$status"

#!/usr/bin/env bash
# The test command (README: `npm test`). Installs the real tools the tests hand files to (root on
# Debian, via apt-get, only those missing) and the haproxy/keepalived version matrix, builds the CLI the end-to-end tests spawn, runs every
# test, and ends with one plain "N passed, N failed, N skipped" line.
#
# One step after the other; inside vitest the suite runs two files at once (vitest.config.ts), then
# the timed rehearsals and races and the VM boots run alone. Tried on 2026-12-02: the image builds
# in the background from the start, beside the matrix build: 16.7 minutes for both, not clearly
# better than one after the other (both CPU-bound). Tried on 2026-12-01: three lanes side by side (the suite,
# the matrix build then its tests, the VM boots) took a cold run from ~45 to 41 minutes on the 2-core
# machine, but the CPU is the limit (the matrix, the images, the boots and the suite are each minutes
# of it): a boot beside the others took 927 s instead of 286 s, and its report lost keepalived's
# state line under a minute of "send advert error 11" lines. Fewer, busier boots are the way down.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-tools.sh
bash scripts/build-matrix.sh   # haproxy 2.0 → 3.5-dev, keepalived 2.0.19 → 2.3.4: cached, ~5 min the first time
npm run --silent typecheck
npm run --silent format:check   # prettier, width 120 (.prettierrc); `npm run format` fixes
npm run --silent build

status=0
npx vitest run --reporter=default --reporter=json --outputFile=test-results.json "$@" || status=$?
node scripts/test-summary.mjs test-results.json || status=$((status == 0 ? 1 : status))
exit "$status"

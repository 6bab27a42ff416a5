#!/usr/bin/env bash
# Builds, once and cached, the haproxy and keepalived releases the version-matrix tests hand every
# rendered config to (test/tools/matrix.test.ts), by running the team's shared build script. That
# script and its upstream tarballs are test tools kept outside the repository: shared/matrix/build.sh
# beside the clone (CI) or in a folder above it; K8S_HA_MATRIX_BUILD names it explicitly.
# The cache is K8S_HA_MATRIX_CACHE or /var/cache/k8s-ha-matrix, where the tests look.
# Under CI=true a missing build script is an error; elsewhere a loud warning (the tests then skip loudly).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
script=${K8S_HA_MATRIX_BUILD:-}
if [ -z "$script" ]; then
  dir=$repo
  while [ "$dir" != / ]; do
    dir=$(dirname "$dir")
    if [ -f "$dir/shared/matrix/build.sh" ]; then script=$dir/shared/matrix/build.sh; break; fi
  done
fi
if [ -z "$script" ] || [ ! -f "$script" ]; then
  message="shared/matrix/build.sh not found beside or above $repo (set K8S_HA_MATRIX_BUILD)"
  if [ "${CI:-}" = true ] || [ "${CI:-}" = 1 ]; then
    echo "error: $message: CI must build the haproxy/keepalived version matrix" >&2
    exit 1
  fi
  echo "!!!!! warning: $message: the version-matrix tests will skip !!!!!" >&2
  exit 0
fi
echo "version matrix: $script" >&2
# The matrix's haproxy binaries only parse configs (haproxy -c): built without optimisation, which
# compiles ~2.5x faster (three of haproxy 3.2's files: 9.4-9.8 s at -O2, 3.4-4.8 s at -O0).
# MAKEFLAGS carries the override to the make that the shared script runs; keepalived's build
# (autotools, with _FORTIFY_SOURCE, which wants optimisation) takes no notice of these two names.
MAKEFLAGS="CPU_CFLAGS.generic=-O0 OPT_CFLAGS=-O0" bash "$script"

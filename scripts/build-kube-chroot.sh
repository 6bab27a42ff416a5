#!/usr/bin/env bash
# Builds the Debian 12 system (with systemd, as on the golden image) that test/packer/kubernetes-script.test.ts runs
# packer/scripts/30-kubernetes.sh in (chroot): the root of scripts/build-boot-rootfs.sh (the VM
# tests' stand-in golden image: one debootstrap serves both), packed as rootfs.tar, plus debs/
# holding Debian's real containerd and every package it needs that the root lacks (downloaded
# here, so the test itself needs no network: it serves them from a local apt repository beside its
# stand-in kubeadm/kubelet/kubectl).
#
# Output: ${K8S_HA_TEST_CACHE:-/var/cache/k8s-ha-test}/kube-chroot-<hash of this file and that
# root>/ with rootfs.tar, debs/*.deb and `complete`; its path is the only thing printed on stdout.
# Cached and locked like scripts/build-boot-rootfs.sh. Needs root and the Debian archive once.
#
# Usage: scripts/build-kube-chroot.sh
set -euo pipefail

cache_root=${K8S_HA_TEST_CACHE:-/var/cache/k8s-ha-test}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

log() { printf 'build-kube-chroot: %s\n' "$*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
    log "needs root (chroot, file ownership)"
    exit 1
fi
for tool in flock tar; do
    command -v "$tool" >/dev/null 2>&1 || { log "missing $tool (apt-get install util-linux tar)"; exit 1; }
done
base=$(bash "$here/build-boot-rootfs.sh" | tail -n 1)
key=$( { cat "${BASH_SOURCE[0]}"; cat "$base/complete"; } | sha256sum | cut -c1-16)
out="$cache_root/kube-chroot-$key"
if [ -f "$out/complete" ]; then
    printf '%s\n' "$out"
    exit 0
fi

mkdir -p "$cache_root"
exec 9>"$cache_root/.kube-chroot.lock"
if ! flock -w 1800 9; then
    log "another build has held $cache_root/.kube-chroot.lock for 30 minutes; giving up"
    exit 1
fi
if [ -f "$out/complete" ]; then
    printf '%s\n' "$out"
    exit 0
fi

work=$(mktemp -d "$cache_root/.kube-build-XXXXXX")
rootfs="$work/rootfs"
cleanup() {
    local mountpoint
    while read -r mountpoint; do
        umount -l "$mountpoint" 2>/dev/null || true
    done < <(awk -v w="$work/" 'index($2, w) == 1 { print $2 }' /proc/mounts | sort -r)
    rm -rf --one-file-system "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log "unpacking the root of $base"
mkdir "$rootfs"
tar -C "$rootfs" --numeric-owner -xf "$base/rootfs.tar"
# apt in the chroot resolves deb.debian.org with the host's resolver
rm -f "$rootfs/etc/resolv.conf"
cp -L /etc/resolv.conf "$rootfs/etc/resolv.conf"

# Debian's containerd and what it pulls in, downloaded (not installed) by the root's own apt.
log "downloading containerd and its dependencies"
chroot "$rootfs" apt-get -q -y update >&2
chroot "$rootfs" apt-get -q -y --no-install-recommends --download-only install containerd >&2
mkdir -p "$work/out/debs"
cp "$rootfs"/var/cache/apt/archives/*.deb "$work/out/debs/"
chroot "$rootfs" apt-get -q clean >&2
rm -rf "$rootfs"/var/lib/apt/lists/*
# The test's apt must see only its own repository.
: >"$rootfs/etc/apt/sources.list"

log "packing rootfs.tar"
tar -C "$rootfs" --numeric-owner -cf "$work/out/rootfs.tar" .
touch "$work/out/complete"
rm -rf "$out"
mv "$work/out" "$out"
printf '%s\n' "$out"

#!/usr/bin/env bash
# Builds a small Debian 12 UEFI "cloud image" that stands in for the baked golden image in
# `k8s-ha up` tests (test/up/up-qemu.test.ts): a GPT qcow2 with an ESP (GRUB, standalone, finds
# the root by label) and an ext4 root holding cloud-init, keepalived, haproxy, curl, ufw, sudo,
# openssh-server and python3 — installed, nothing configured, keepalived and haproxy disabled, as
# the golden image ships them. No test fixture lives in the image: the lab-only pieces (stand-in
# apiserver, rehearsal agent) come with `up --stand-in-apiserver`'s seeds.
#
# Recipe from DESIGN.md "A real Packer bake works here", made without loop mounts: debootstrap,
# `mkfs.ext4 -d`, `mkfs.vfat -C` + mtools, `grub-mkstandalone`, sfdisk on a sparse file, dd at
# the partition offsets, `qemu-img convert -O qcow2`.
#
# Output: ${K8S_HA_TEST_CACHE:-/var/cache/k8s-ha-test}/cloud-image-<hash of this file>/disk.qcow2;
# that path is the only line on stdout. Cached; a lock keeps parallel runs from building twice.
# Needs root, debootstrap, e2fsprogs, dosfstools, mtools, grub-efi-amd64-bin, fdisk, qemu-utils.
#
# Usage: scripts/build-cloud-image.sh [--print-path]
set -euo pipefail

cache_root=${K8S_HA_TEST_CACHE:-/var/cache/k8s-ha-test}
mirror=${K8S_HA_DEBIAN_MIRROR:-http://deb.debian.org/debian}
suite=bookworm
key=$(sha256sum "${BASH_SOURCE[0]}" | cut -c1-16)
out="$cache_root/cloud-image-$key"
label=k8s-ha-root

log() { printf 'build-cloud-image: %s\n' "$*" >&2; }

if [ "${1:-}" = "--print-path" ]; then
    printf '%s\n' "$out/disk.qcow2"
    exit 0
fi
if [ -f "$out/complete" ]; then
    printf '%s\n' "$out/disk.qcow2"
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    log "needs root (debootstrap, chroot, file ownership in the image)"
    exit 1
fi
for tool in debootstrap mkfs.ext4 mkfs.vfat mmd mcopy grub-mkstandalone sfdisk qemu-img flock; do
    command -v "$tool" >/dev/null 2>&1 || { log "missing $tool (scripts/install-tools.sh installs it)"; exit 1; }
done

mkdir -p "$cache_root"
exec 9>"$cache_root/.cloud-image.lock"
if ! flock -w 1800 9; then
    log "another build has held $cache_root/.cloud-image.lock for 30 minutes; giving up"
    exit 1
fi
if [ -f "$out/complete" ]; then
    printf '%s\n' "$out/disk.qcow2"
    exit 0
fi

work=$(mktemp -d "$cache_root/.build-cloud-XXXXXX")
rootfs="$work/rootfs"

# debootstrap mounts /proc and /sys in the target; a killed build can leave them mounted.
cleanup() {
    local mountpoint
    while read -r mountpoint; do
        umount -l "$mountpoint" 2>/dev/null || true
    done < <(awk -v w="$work/" 'index($2, w) == 1 { print $2 }' /proc/mounts | sort -r)
    rm -rf --one-file-system "$work"
}
child=""
on_signal() {
    trap '' INT TERM
    log "interrupted: stopping the build and removing $work"
    kill -TERM 0 2>/dev/null || true
    [ -z "$child" ] || wait "$child" 2>/dev/null || true
    exit 130
}
# Bash runs a trap only after the foreground command ends: long steps run in the background.
run_step() {
    "$@" &
    child=$!
    wait "$child"
}
trap cleanup EXIT
trap on_signal INT TERM

packages=(
    linux-image-amd64 systemd-sysv udev dbus kmod
    cloud-init netplan.io iproute2 keepalived haproxy curl ufw sudo openssh-server
    openssl python3 ca-certificates
    # debootstrap does not resolve virtual packages: name their providers
    python3-cffi-backend
)
include=$(IFS=,; printf '%s' "${packages[*]}")

log "debootstrap $suite (minbase + ${#packages[@]} packages) from $mirror"
if ! run_step debootstrap --variant=minbase --components=main --include="$include" "$suite" "$rootfs" "$mirror" >&2; then
    log "debootstrap failed; the end of its log:"
    tail -n 40 "$rootfs/debootstrap/debootstrap.log" >&2 || true
    exit 1
fi

log "configuring the image"
in_root() { chroot "$rootfs" "$@"; }
printf 'golden\n' >"$rootfs/etc/hostname"
printf '127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n' >"$rootfs/etc/hosts"
printf 'LABEL=%s / ext4 errors=remount-ro 0 1\n' "$label" >"$rootfs/etc/fstab"
sed -i 's/^# *\(en_US.UTF-8 UTF-8\)/\1/' "$rootfs/etc/locale.gen"
in_root locale-gen >&2
printf 'LANG=en_US.UTF-8\n' >"$rootfs/etc/default/locale"
# netplan (cloud-init's renderer without ifupdown) writes systemd-networkd units
in_root systemctl enable systemd-networkd.service >&2
in_root systemctl mask systemd-firstboot.service >&2
# as the golden image ships them: installed, disabled; the seed enables and starts them
in_root systemctl disable keepalived.service haproxy.service >&2
in_root systemctl mask apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer \
    e2scrub_reap.service fstrim.timer >&2

# Speed under TCG: ed25519 host keys only, no fingerprints on the console; the stand-in has no
# growpart, and its root file system is already the size it keeps.
cat >"$rootfs/etc/cloud/cloud.cfg.d/90-k8s-ha-stand-in.cfg" <<'EOF'
# k8s-ha stand-in cloud image (scripts/build-cloud-image.sh)
ssh_genkeytypes: [ed25519]
ssh:
  emit_keys_to_console: false
growpart:
  mode: "off"
resize_rootfs: false
EOF
# The CD-ROM driver must be in the initrd: ds-identify looks for the cidata label before udev in
# the real root loads drivers (see scripts/build-boot-rootfs.sh).
printf 'MODULES=list\n' >"$rootfs/etc/initramfs-tools/conf.d/k8s-ha-stand-in.conf"
printf '%s\n' virtio_pci virtio_blk ext4 ata_piix sr_mod >>"$rootfs/etc/initramfs-tools/modules"
run_step chroot "$rootfs" update-initramfs -u -k all >&2
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/*
rm -f "$rootfs"/etc/ssh/ssh_host_* "$rootfs"/etc/machine-id
: >"$rootfs/etc/machine-id"

log "making the EFI system partition (standalone GRUB)"
cat >"$work/grub.cfg" <<EOF
set timeout=0
search --no-floppy --label $label --set=root
linux /vmlinuz root=LABEL=$label rw console=ttyS0,115200 panic=10 mitigations=off
initrd /initrd.img
boot
EOF
grub-mkstandalone -O x86_64-efi -o "$work/BOOTX64.EFI" \
    --modules="part_gpt ext2 search search_label linux normal" "boot/grub/grub.cfg=$work/grub.cfg"
mkfs.vfat -C "$work/esp.img" 65536 >&2
mmd -i "$work/esp.img" ::/EFI ::/EFI/BOOT
mcopy -i "$work/esp.img" "$work/BOOTX64.EFI" ::/EFI/BOOT/BOOTX64.EFI

used_mib=$(du -sm --apparent-size "$rootfs" | cut -f1)
root_mib=$((used_mib + 1024))
log "making the root file system (${root_mib} MiB ext4, ${used_mib} MiB used) without mounting"
truncate -s "${root_mib}M" "$work/root.img"
mkfs.ext4 -q -F -L "$label" -d "$rootfs" "$work/root.img" >&2

log "partitioning (GPT: ESP at 1 MiB, root at 65 MiB) and converting to qcow2"
truncate -s "$((1 + 64 + root_mib + 1))M" "$work/disk.raw"
sfdisk -q "$work/disk.raw" >&2 <<EOF
label: gpt
start=2048, size=131072, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name=esp
start=133120, size=$((root_mib * 2048)), type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=root
EOF
dd if="$work/esp.img" of="$work/disk.raw" bs=1M seek=1 conv=notrunc,sparse status=none
dd if="$work/root.img" of="$work/disk.raw" bs=1M seek=65 conv=notrunc,sparse status=none
mkdir -p "$work/out"
qemu-img convert -O qcow2 "$work/disk.raw" "$work/out/disk.qcow2"

printf '%s\n' "$key" >"$work/out/complete"
rm -rf "$out"
mv "$work/out" "$out"
find "$cache_root" -mindepth 1 -maxdepth 1 -name 'cloud-image-*' ! -path "$out" -exec rm -rf --one-file-system {} +
log "done: $out/disk.qcow2"
printf '%s\n' "$out/disk.qcow2"

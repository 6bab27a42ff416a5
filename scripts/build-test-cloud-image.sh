#!/usr/bin/env bash
# Builds the "cloud image" that test/up/up-qemu.test.ts hands to `k8s-ha build-image` (qemu
# builder) as its source: a Debian 12 UEFI disk like the distributions' cloud images (GPT, an ESP
# with GRUB, an ext4 root with cloud-init, sshd and sudo), made from the root file system of
# scripts/build-boot-rootfs.sh — the same debootstrap, not a second one. The baked image keeps that
# system's stand-in kube-apiserver on 6443, which the VM test's lab must NOT be answered by (its
# spec puts the apiserver on 6444); the rootfs's boot report unit stays off (nothing asks for it
# since the VM test reads `k8s-ha status --report`).
#
# Recipe from DESIGN.md "A real Packer bake works here", without loop mounts: the rootfs's ext4
# image, grown and edited with debugfs; `mkfs.vfat -C` + mtools for the ESP, holding a standalone
# GRUB that finds the root by its label; sfdisk on a sparse file; dd at the partition offsets;
# `qemu-img convert -O qcow2`. Changes to the root (debugfs):
#   - /etc/fstab names the root by label (the rootfs's says /dev/vda, a whole-disk file system);
#   - the boot report runs only when the kernel command line asks for it (k8s_ha_test.wait=…):
#     it powers the VM off, which must not happen to Packer's build VM;
#   - growpart and resize_rootfs off (no cloud-guest-utils; the file system keeps its size).
#
# Output: ${K8S_HA_TEST_CACHE:-/var/cache/k8s-ha-test}/test-cloud-image-<hash>/ with disk.qcow2,
# and the vmlinuz and initrd.img inside it (for a direct-kernel boot). The hash covers this file
# and the rootfs it starts from. The folder is the only line on stdout. Cached; a lock keeps
# parallel runs from building twice. Needs root and the tools checked below.
#
# Usage: scripts/build-test-cloud-image.sh
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache_root=${K8S_HA_TEST_CACHE:-/var/cache/k8s-ha-test}
label=k8s-ha-root

log() { printf 'build-test-cloud-image: %s\n' "$*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
    log "needs root (the rootfs it starts from is built with debootstrap and chroot)"
    exit 1
fi
for tool in debugfs e2fsck resize2fs mkfs.vfat mmd mcopy grub-mkstandalone sfdisk qemu-img flock; do
    command -v "$tool" >/dev/null 2>&1 || { log "missing $tool (scripts/install-tools.sh installs it)"; exit 1; }
done

rootfs=$(bash "$here/build-boot-rootfs.sh" | tail -n 1)
key=$( { cat "${BASH_SOURCE[0]}"; cat "$rootfs/complete"; } | sha256sum | cut -c1-16)
out="$cache_root/test-cloud-image-$key"
if [ -f "$out/complete" ]; then
    printf '%s\n' "$out"
    exit 0
fi

exec 9>"$cache_root/.test-cloud-image.lock"
if ! flock -w 1800 9; then
    log "another build has held $cache_root/.test-cloud-image.lock for 30 minutes; giving up"
    exit 1
fi
if [ -f "$out/complete" ]; then
    printf '%s\n' "$out"
    exit 0
fi

work=$(mktemp -d "$cache_root/.build-test-cloud-XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'log "interrupted: removing $work"; exit 130' INT TERM

log "root file system: a copy of $rootfs/disk.img, 1 GiB larger (apt's lists and new packages)"
cp --sparse=always "$rootfs/disk.img" "$work/root.img"
truncate -s +1G "$work/root.img"
e2fsck -f -y "$work/root.img" >&2 || [ $? -le 1 ]
resize2fs "$work/root.img" >&2

printf 'LABEL=%s / ext4 errors=remount-ro 0 1\n' "$label" >"$work/fstab"
cat >"$work/report.conf" <<'EOF'
# scripts/build-test-cloud-image.sh: the boot report powers the VM off when it is done; only
# the boot test asks for it. Packer's build VM must keep running.
[Unit]
ConditionKernelCommandLine=k8s_ha_test.wait
EOF
cat >"$work/stand-in.cfg" <<'EOF'
# k8s-ha test cloud image (scripts/build-test-cloud-image.sh): no cloud-guest-utils here, and
# the root file system already has the size it keeps.
growpart:
  mode: "off"
resize_rootfs: false
EOF
chmod 0644 "$work/fstab" "$work/report.conf" "$work/stand-in.cfg"
debugfs -w -f - "$work/root.img" >/dev/null 2>"$work/debugfs.log" <<EOF
rm /etc/fstab
write $work/fstab /etc/fstab
mkdir /etc/systemd/system/k8s-ha-test-report.service.d
write $work/report.conf /etc/systemd/system/k8s-ha-test-report.service.d/only-when-asked.conf
write $work/stand-in.cfg /etc/cloud/cloud.cfg.d/91-k8s-ha-test-cloud-image.cfg
EOF
# debugfs reports a failed command on stderr and still exits 0
if grep -v '^debugfs ' "$work/debugfs.log" | grep -q .; then
    log "debugfs failed:"; cat "$work/debugfs.log" >&2; exit 1
fi
for path in /etc/fstab /etc/systemd/system/k8s-ha-test-report.service.d/only-when-asked.conf \
    /etc/cloud/cloud.cfg.d/91-k8s-ha-test-cloud-image.cfg /vmlinuz /initrd.img; do
    debugfs -R "stat $path" "$work/root.img" 2>/dev/null | grep -q 'User: *0 *Group: *0' || { log "$path is missing or not root's"; exit 1; }
done

log "EFI system partition: a standalone GRUB that boots the root by its label"
# Predictable NIC names (no net.ifnames=0), as the distributions' cloud images have: a NIC in PCI
# slot 8 is enp0s8, the name `k8s-ha up` places it by. Packer's build VM is configured by
# cloud-init's fallback network config, which takes the first NIC whatever its name.
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

root_mib=$(( $(stat -c %s "$work/root.img") / 1048576 ))
log "GPT disk (ESP at 1 MiB, root ${root_mib} MiB at 65 MiB), converted to qcow2"
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
cp "$rootfs/vmlinuz" "$rootfs/initrd.img" "$work/out/"

printf '%s\n' "$key" >"$work/out/complete"
rm -rf "$out"
mv "$work/out" "$out"
# Older builds (another recipe or rootfs) only take space.
find "$cache_root" -mindepth 1 -maxdepth 1 -name 'test-cloud-image-*' ! -path "$out" -exec rm -rf {} +
log "done: $out"
printf '%s\n' "$out"

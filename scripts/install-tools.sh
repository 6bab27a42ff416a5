#!/usr/bin/env bash
# Installs, from Debian's archive, every real program the tests hand generated files to.
# Idempotent: does nothing when all are present. Needs root on Debian/Ubuntu.
set -euo pipefail

# program-on-PATH:debian-package
tools=(
  haproxy:haproxy
  keepalived:keepalived
  shellcheck:shellcheck
  cloud-init:cloud-init
  curl:curl
  ip:iproute2
  # the rehearsal's partition scenario drops VRRP inside a lab namespace
  iptables:iptables
  openssl:openssl
  ufw:ufw
  packer:packer
  ignition-validate:ignition
  # readers of the seed ISOs
  isoinfo:genisoimage
  isovfy:genisoimage
  xorriso:xorriso
  bsdtar:libarchive-tools
  7z:p7zip-full
  blkid:util-linux
  # the seed benchmark's baseline (bench/seed.mjs)
  cloud-localds:cloud-image-utils
  # the golden path in VMs (test/up/up-qemu.test.ts): the Debian system of scripts/build-boot-rootfs.sh
  debootstrap:debootstrap
  qemu-system-x86_64:qemu-system-x86
  mkfs.ext4:e2fsprogs
  setpriv:util-linux
  flock:util-linux
  # its cloud image and the qemu bake (scripts/build-test-cloud-image.sh)
  qemu-img:qemu-utils
  sfdisk:fdisk
  mkfs.vfat:dosfstools
  mcopy:mtools
  grub-mkstandalone:grub-efi-amd64-bin
  debugfs:e2fsprogs
  # the local apt repository of the image script test (test/packer/kubernetes-script.test.ts)
  dpkg-scanpackages:dpkg-dev
  gpg:gnupg
)

missing=()
for pair in "${tools[@]}"; do
  program=${pair%%:*}
  package=${pair#*:}
  # keepalived and haproxy live in /usr/sbin, which a non-login PATH may lack
  command -v "$program" >/dev/null 2>&1 || [ -x "/usr/sbin/$program" ] || missing+=("$package")
done
# UEFI firmware of the qemu bake: a file, not a program
[ -e /usr/share/ovmf/OVMF.fd ] || missing+=(ovmf)

# UEFI firmware for the lab VMs: a file, not a program
[ -f /usr/share/ovmf/OVMF.fd ] || missing+=(ovmf)

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-tools: every tool is present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-tools: missing ${missing[*]}; run as root (or: sudo apt-get install ${missing[*]})" >&2
  exit 1
fi
echo "install-tools: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-tools: done"

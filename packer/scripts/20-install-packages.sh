#!/bin/sh
# Installs what every control-plane node needs before its seed arrives, so that a node boots
# without reaching an apt mirror: keepalived, haproxy, curl (the apiserver health check), ufw,
# and the newest cloud-init of focal-updates; then EXTRA_PACKAGES (spec.image.extraPackages,
# space-separated, passed by the Packer template).
set -eu
export DEBIAN_FRONTEND=noninteractive
# The package list is split on spaces below and must never be globbed.
set -f

set -- keepalived haproxy curl ufw cloud-init
for package in ${EXTRA_PACKAGES:-}; do
  # The spec already allows only Debian package names (optionally =version); check again here,
  # so that a hand-edited template cannot slip an apt option or a shell word through.
  case $package in
    -* | *[!A-Za-z0-9+.~:=-]*)
      echo "20-install-packages: refusing '$package': not a Debian package name" >&2
      exit 1
      ;;
  esac
  set -- "$@" "$package"
done

apt_get() {
  apt-get -q -y -o DPkg::Lock::Timeout=600 "$@"
}

apt_get update
apt_get install --no-install-recommends "$@"

# With the packages' own configs, keepalived would claim no VIP yet still run VRRP, and haproxy
# would listen with an empty frontend. Keep both off until a node's seed writes their configs
# and enables them (the seed runs `systemctl enable --now keepalived haproxy`).
systemctl disable --now keepalived.service haproxy.service

dpkg-query --show --showformat='${Package} ${Version}\n' keepalived haproxy curl ufw cloud-init

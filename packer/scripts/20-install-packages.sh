#!/bin/sh
# Installs what every control-plane node needs before its seed arrives, so that a node boots
# without reaching an apt mirror: keepalived, haproxy, curl (the apiserver health check), ufw,
# and the newest cloud-init of the release's updates; then EXTRA_PACKAGES (spec.image.extraPackages,
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

# apt 2.0 (focal) honours DPkg::Lock::Timeout for the dpkg lock only: `apt-get update` fails at
# once while apt-daily holds the lists lock. Wait for that lock by retrying.
tries=0
until apt_get update; do
  tries=$((tries + 1))
  if [ "$tries" -ge 60 ]; then
    echo "20-install-packages: apt-get update failed 60 times in 10 minutes" >&2
    exit 1
  fi
  echo "20-install-packages: apt-get update failed (the lists lock held by apt-daily?); again in 10s" >&2
  sleep 10
done
apt_get install --no-install-recommends "$@"

# With the packages' own configs, keepalived would claim no VIP yet still run VRRP, and haproxy
# would listen with an empty frontend. Keep both off until a node's seed writes their configs
# and enables them (the seed runs `systemctl enable --now keepalived haproxy`).
systemctl disable --now keepalived.service haproxy.service

dpkg-query --show --showformat='${Package} ${Version}\n' keepalived haproxy curl ufw cloud-init

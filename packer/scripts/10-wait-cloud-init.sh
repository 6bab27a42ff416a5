#!/bin/sh
# Runs first, as root, on the freshly installed build VM. Packer connects as soon as sshd
# answers, which on the first boot is before cloud-init has finished writing users and apt
# sources. `cloud-init status --wait` returns at the first recorded error, before the final
# stage ends, so wait for the marker the final stage writes instead.
set -eu

timeout_s=900
waited=0
while [ ! -e /var/lib/cloud/instance/boot-finished ]; do
  if [ "$waited" -ge "$timeout_s" ]; then
    echo "10-wait-cloud-init: cloud-init did not finish within ${timeout_s}s" >&2
    cloud-init status --long >&2 || true
    exit 1
  fi
  sleep 5
  waited=$((waited + 5))
done

status=$(cloud-init status --long 2>&1 || true)
printf '%s\n' "$status"
case $status in
  *"status: error"*)
    echo "10-wait-cloud-init: cloud-init failed on the build VM's first boot; an image baked from it would inherit the damage" >&2
    exit 1
    ;;
esac

# apt-daily and unattended-upgrades start on the first boot and take the dpkg lock that the next
# script needs. Stop their timers for the build only (not disabled: a clone runs them as usual);
# the next script waits for their locks (DPkg::Lock::Timeout, and retries of apt-get update) in
# case a run already started.
systemctl stop apt-daily.timer apt-daily-upgrade.timer || true
echo "10-wait-cloud-init: first boot finished after ${waited}s"

#!/bin/sh
# Packer's shutdown_command runs this as root (`sudo -n /bin/sh /tmp/k8s-ha-shutdown.sh`), the very
# last step of the build. It removes what lets anyone log in — SSH host keys, password logins, the
# build user and its sudo grant — which an earlier script cannot do while Packer still needs its
# SSH connection and this file needs that grant; then it powers off.
set -eu
build_user=packer

# cloud-init's ssh module generates new host keys on a clone's first boot.
rm -f /etc/ssh/ssh_host_*
# The installer allowed password logins for the build user; clones log in with the SSH keys of
# their seed (a seed that wants passwords sets ssh_pwauth, which rewrites this line).
sed -i 's/^[#[:space:]]*PasswordAuthentication[[:space:]].*/PasswordAuthentication no/' /etc/ssh/sshd_config

rm -f "$0" /etc/sudoers.d/90-k8s-ha-build
# --force: this very SSH session belongs to the build user; the power-off below ends it.
userdel --force --remove "$build_user" 2>/dev/null || true
rm -rf "/home/${build_user:?}"
if getent passwd "$build_user" >/dev/null; then
  # No power-off: Packer times out waiting for it and the build fails instead of shipping an
  # image that still has a password login.
  echo "99-shutdown: could not delete the build user '$build_user'" >&2
  exit 1
fi
# The build's own logins.
: >/var/log/wtmp
: >/var/log/lastlog
sync
shutdown -P now

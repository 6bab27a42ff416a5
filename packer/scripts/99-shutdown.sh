#!/bin/sh
# Packer's shutdown_command runs this as root (`sudo -n /bin/sh /tmp/k8s-ha-shutdown.sh`), the very
# last step of the build. It removes what lets anyone log in — SSH host keys, password logins, the
# build user and its sudo grant — which an earlier script cannot do while Packer still needs its
# SSH connection and this file needs that grant; then it powers off. Any failure here stops before
# the power-off: Packer times out waiting for it and the build fails instead of shipping an image
# that still lets someone in.
set -eu
build_user=packer

fail() {
  echo "99-shutdown: $*" >&2
  exit 1
}

# Password logins: the installer allowed them for the build user; clones log in with the SSH
# keys of their seed (a seed that wants passwords sets ssh_pwauth). cloud-init's allow-pw wrote
# sshd_config.d/50-cloud-init.conf, which the Include at the top of sshd_config makes win over
# any line below it (sshd takes the first value it reads), so it goes; then sshd itself must say no.
rm -f /etc/ssh/sshd_config.d/50-cloud-init.conf
sed -i 's/^[#[:space:]]*PasswordAuthentication[[:space:]].*/PasswordAuthentication no/' /etc/ssh/sshd_config
grep -q '^PasswordAuthentication no' /etc/ssh/sshd_config || echo 'PasswordAuthentication no' >>/etc/ssh/sshd_config
# `sshd -T` needs the host keys: this check runs before they go.
effective=$(sshd -T 2>&1 | grep -i '^passwordauthentication ' || true)
[ "$effective" = "passwordauthentication no" ] ||
  fail "sshd would still accept passwords (sshd -T: '${effective:-no answer}'); check /etc/ssh/sshd_config.d/"

# Each clone's first boot generates its own host keys (cloud-init's ssh module; a re-seed of the
# same instance keeps them). Keys baked into the image would be shared by every clone.
rm -f /etc/ssh/ssh_host_*
for key in /etc/ssh/ssh_host_*; do
  if [ -e "$key" ]; then fail "could not remove the SSH host key $key"; fi
done

rm -f "$0" /etc/sudoers.d/90-k8s-ha-build
# --force: this very SSH session belongs to the build user; the power-off below ends it.
userdel --force --remove "$build_user" 2>/dev/null || true
rm -rf "/home/${build_user:?}"
if getent passwd "$build_user" >/dev/null; then
  fail "could not delete the build user '$build_user'"
fi
# The build's own logins.
: >/var/log/wtmp
: >/var/log/lastlog
sync
shutdown -P now

#!/bin/sh
# Turns the build VM into a template. A clone must come up as a new machine and take everything
# that names it (hostname, addresses, users, SSH keys, keepalived and haproxy configs) from its
# own NoCloud seed ISO, so every trace of this VM's identity goes.
set -eu
export DEBIAN_FRONTEND=noninteractive

echo "90-generalize: apt caches"
apt-get -q -y -o DPkg::Lock::Timeout=600 autoremove --purge
apt-get -q -y clean
rm -rf /var/lib/apt/lists/*

echo "90-generalize: cloud-init"
# subiquity leaves two files that make a clone ignore its seed: 99-installer.cfg pins the
# datasource to None (with the installer's own user-data) and the other turns off cloud-init's
# networking, so a seed's network-config would never be applied.
rm -f /etc/cloud/cloud.cfg.d/99-installer.cfg \
  /etc/cloud/cloud.cfg.d/subiquity-disable-cloudinit-networking.cfg
# Clones get their seed from a "cidata" ISO: look only there, and don't spend the first boot
# probing cloud metadata services that a VirtualBox VM does not have.
cat >/etc/cloud/cloud.cfg.d/90-k8s-ha-datasource.cfg <<'CFG'
# k8s-ha golden image: every node boots with a NoCloud seed ISO (volume label "cidata").
datasource_list: [ NoCloud, None ]
CFG
# Forget this instance, so that a clone runs every per-instance module again with its own seed.
cloud-init clean --logs --seed 2>/dev/null || cloud-init clean --logs

echo "90-generalize: network"
# The installer's DHCP config would apply next to the seed's static address on every clone;
# cloud-init writes 50-cloud-init.yaml from the seed's network-config instead.
rm -f /etc/netplan/00-installer-config.yaml /etc/netplan/50-cloud-init.yaml
# Debian's cloud images have no netplan: there cloud-init wrote the build VM's DHCP for ifupdown.
rm -f /etc/network/interfaces.d/50-cloud-init /etc/network/interfaces.d/50-cloud-init.cfg

echo "90-generalize: machine identity"
# An empty machine-id (not a missing one) makes systemd generate a new one on the next boot;
# it also seeds the DHCP client identifier and the journal's file names.
: >/etc/machine-id
if [ -e /var/lib/dbus/machine-id ] && [ ! -L /var/lib/dbus/machine-id ]; then
  rm -f /var/lib/dbus/machine-id
  ln -s /etc/machine-id /var/lib/dbus/machine-id
fi
rm -f /var/lib/systemd/random-seed
# The seed sets the hostname; drop the build VM's name from /etc/hosts as well.
echo localhost >/etc/hostname
sed -i '/^127\.0\.1\.1[[:space:]]/d' /etc/hosts

echo "90-generalize: logs and temporary files"
find /var/log -type f -exec truncate --size=0 {} +
rm -rf /tmp/* /var/tmp/*

# SSH host keys, sshd's password logins and the build user go last, in 99-shutdown.sh: Packer
# still needs its SSH connection (and a reconnect would read sshd's files again).
echo "90-generalize: done"

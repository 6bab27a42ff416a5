#!/bin/sh
# Turns the build VM into a template. A clone must come up as a new machine and take everything
# that names it (hostname, addresses, users, SSH keys, keepalived and haproxy configs) from its
# own NoCloud seed ISO, so every trace of this VM's identity goes. OS-neutral: the Ubuntu
# installer's (subiquity's) leftovers are removed where they exist, and the checks at the end
# hold on any image that cloud-init boots (Ubuntu from the ISO, Debian or Ubuntu cloud images).
set -eu
export DEBIAN_FRONTEND=noninteractive

fail() {
  echo "90-generalize: $*" >&2
  exit 1
}

echo "90-generalize: apt caches"
apt-get -q -y -o DPkg::Lock::Timeout=600 autoremove --purge
apt-get -q -y clean
rm -rf /var/lib/apt/lists/*

echo "90-generalize: cloud-init"
cfg_d=/etc/cloud/cloud.cfg.d
# subiquity leaves files that make a clone ignore its seed: 99-installer.cfg pins the datasource
# to None (with the installer's own user-data), subiquity-disable-cloudinit-networking.cfg turns
# off cloud-init's networking (a seed's network-config would never apply), and
# curtin-preserve-sources.cfg keeps the installer's apt sources. ds-identify.cfg pins the
# datasource that ds-identify reports, before cloud.cfg.d is even read.
rm -f "$cfg_d/99-installer.cfg" \
  "$cfg_d/subiquity-disable-cloudinit-networking.cfg" \
  "$cfg_d/curtin-preserve-sources.cfg" \
  /etc/cloud/ds-identify.cfg
# Clones get their seed from a "cidata" ISO: look only there, and don't spend the first boot
# probing cloud metadata services that a VirtualBox VM does not have. cloud-init reads
# cloud.cfg.d in lexical (C locale) order and later files win; "99_" sorts after "90_dpkg.cfg"
# and after any "99-…" file, and the check below proves that nothing sorts after it.
datasource_cfg=99_k8s-ha-datasource.cfg
rm -f "$cfg_d/90-k8s-ha-datasource.cfg"
cat >"$cfg_d/$datasource_cfg" <<'CFG'
# k8s-ha golden image: every node boots with a NoCloud seed ISO (volume label "cidata").
datasource_list: [ NoCloud, None ]
CFG
last=$(cd "$cfg_d" && printf '%s\n' *.cfg | LC_ALL=C sort | tail -n 1)
[ "$last" = "$datasource_cfg" ] || fail "$cfg_d/$last sorts after $datasource_cfg and would override its datasource_list"
# Forget this instance, so that a clone runs every per-instance module again with its own seed.
cloud-init clean --logs --seed 2>/dev/null || cloud-init clean --logs

echo "90-generalize: network"
# Every netplan file (the installer's DHCP config, cloud-init's 50-cloud-init.yaml, a cloud
# image's own) would apply next to the seed's static address on every clone; cloud-init writes
# the clone's file from its seed's network-config. Debian's ifupdown counterpart goes too.
rm -f /etc/netplan/*.yaml /etc/network/interfaces.d/50-cloud-init /etc/network/interfaces.d/50-cloud-init.cfg
# A top-level network: key in cloud.cfg.d outranks the seed's network-config.
for cfg in "$cfg_d"/*.cfg; do
  [ -e "$cfg" ] || continue
  if grep -q '^network:' "$cfg"; then
    fail "$cfg has a top-level network: key, which would outrank every clone's network-config"
  fi
done

echo "90-generalize: kernel command line"
# The installer's autoinstall arguments must not follow the image into its clones (curtin copies
# the arguments after '---' into GRUB_CMDLINE_LINUX_DEFAULT unless the seed's storage config says
# grub: {replace_linux_default: false}): a clone would look for an installer's seed on every boot.
for grub_cfg in /etc/default/grub /etc/default/grub.d/*.cfg; do
  [ -e "$grub_cfg" ] || continue
  if grep -Eq '^GRUB_CMDLINE_LINUX.*(autoinstall|ds=nocloud)' "$grub_cfg"; then
    fail "$grub_cfg passes the installer's autoinstall arguments to every boot: $(grep -E '^GRUB_CMDLINE_LINUX' "$grub_cfg" | tr '\n' ' ')"
  fi
done

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
# Truncating a journal file that journald has open corrupts it: have journald close its files,
# then delete the archived ones. (No journald running, e.g. in a chroot: nothing is open.)
if [ -d /run/systemd/system ] && command -v journalctl >/dev/null 2>&1; then
  journalctl --rotate
  journalctl --vacuum-time=1s
fi
find /var/log -path /var/log/journal -prune -o -type f -exec truncate --size=0 {} +
rm -rf /tmp/* /var/tmp/*

# SSH host keys, sshd's password logins and the build user go last, in 99-shutdown.sh: Packer
# still needs its SSH connection (and a reconnect would read sshd's files again).
echo "90-generalize: done"

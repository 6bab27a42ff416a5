#!/usr/bin/env bash
# Builds the small Debian 12 system that scripts/build-test-cloud-image.sh makes the VM tests'
# cloud image of (and scripts/build-kube-chroot.sh its chroot). It stands in for the k8s-ha golden
# image: cloud-init, keepalived, haproxy, curl and ufw are installed, nothing is configured for a
# cluster, so first boot needs no apt.
# Also installed, as test fixtures only:
#   - k8s-ha-test-apiserver.service: a stand-in kube-apiserver (HTTPS, 200 on every GET, so
#     /healthz passes and keepalived's check lets the node hold the VIP);
#   - k8s-ha-test-report.service: waits for /var/lib/cloud/instance/boot-finished (not
#     `cloud-init status --wait`, which returns at the first error), prints a marked report to
#     the second serial port (ttyS1, so kernel and systemd messages on ttyS0 never interleave
#     with it) and powers off.
#
# Output: a folder with disk.img (raw ext4, made with `mkfs.ext4 -d`, no mount), the same root
# as rootfs.tar, vmlinuz and initrd.img, under ${K8S_HA_TEST_CACHE:-/var/cache/k8s-ha-test}/boot-rootfs-<hash of this file>.
# Its path is the only thing printed on stdout; progress goes to stderr. Cached: a second run
# prints the path at once. A lock keeps parallel runs from building twice. Needs root and
# debootstrap, and network access to the Debian archive for the first build.
#
# Usage: scripts/build-boot-rootfs.sh [--print-dir]
set -euo pipefail

cache_root=${K8S_HA_TEST_CACHE:-/var/cache/k8s-ha-test}
mirror=${K8S_HA_DEBIAN_MIRROR:-http://deb.debian.org/debian}
suite=bookworm
key=$(sha256sum "${BASH_SOURCE[0]}" | cut -c1-16)
out="$cache_root/boot-rootfs-$key"

log() { printf 'build-boot-rootfs: %s\n' "$*" >&2; }

if [ "${1:-}" = "--print-dir" ]; then
    printf '%s\n' "$out"
    exit 0
fi
if [ -f "$out/complete" ]; then
    printf '%s\n' "$out"
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    log "needs root (debootstrap, chroot, file ownership in the image)"
    exit 1
fi
for tool in debootstrap mkfs.ext4 flock openssl; do
    command -v "$tool" >/dev/null 2>&1 || { log "missing $tool (apt-get install debootstrap e2fsprogs util-linux openssl)"; exit 1; }
done

mkdir -p "$cache_root"
exec 9>"$cache_root/.boot-rootfs.lock"
if ! flock -w 1800 9; then
    log "another build has held $cache_root/.boot-rootfs.lock for 30 minutes; giving up"
    exit 1
fi
# Another run may have finished the build while we waited for the lock.
if [ -f "$out/complete" ]; then
    printf '%s\n' "$out"
    exit 0
fi

work=$(mktemp -d "$cache_root/.build-XXXXXX")
rootfs="$work/rootfs"

# debootstrap mounts /proc, /sys and more inside the target; a killed build can leave them
# mounted. Unmount everything below $work (deepest first) before deleting, and never cross into
# another file system while deleting.
cleanup() {
    local mountpoint
    while read -r mountpoint; do
        umount -l "$mountpoint" 2>/dev/null || true
    done < <(awk -v w="$work/" 'index($2, w) == 1 { print $2 }' /proc/mounts | sort -r)
    rm -rf --one-file-system "$work"
}
# Bash runs a trap only after the foreground command ends, so long steps run in the background
# (run_step) and a signal stops them at once: the whole process group, then the clean-up.
child=""
on_signal() {
    trap '' INT TERM
    log "interrupted: stopping the build and removing $work"
    kill -TERM 0 2>/dev/null || true
    [ -z "$child" ] || wait "$child" 2>/dev/null || true
    exit 130
}
run_step() {
    "$@" &
    child=$!
    wait "$child"
}
trap cleanup EXIT
trap on_signal INT TERM

packages=(
    # the golden image's part: what k8s-ha's user-data expects to find
    linux-image-amd64 systemd-sysv udev dbus kmod
    cloud-init netplan.io iproute2 keepalived haproxy curl ufw sudo openssh-server
    # the fixtures' part: the stand-in apiserver (python3 comes with cloud-init) and its cert
    openssl python3 ca-certificates
    # debootstrap does not resolve virtual packages: name their providers
    python3-cffi-backend
)
include=$(IFS=,; printf '%s' "${packages[*]}")

log "debootstrap $suite (minbase + ${#packages[@]} packages) from $mirror into $rootfs"
if ! run_step debootstrap --variant=minbase --components=main --include="$include" "$suite" "$rootfs" "$mirror" >&2; then
    log "debootstrap failed; the end of its log:"
    tail -n 40 "$rootfs/debootstrap/debootstrap.log" >&2 || true
    exit 1
fi

log "configuring the image"
in_root() { chroot "$rootfs" "$@"; }

printf 'golden\n' >"$rootfs/etc/hostname"
printf '127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n' >"$rootfs/etc/hosts"
printf '/dev/vda / ext4 errors=remount-ro 0 1\n' >"$rootfs/etc/fstab"

# A golden image ships with its locale generated; otherwise cloud-init's locale module runs
# locale-gen on first boot, which takes long without KVM.
sed -i 's/^# *\(en_US.UTF-8 UTF-8\)/\1/' "$rootfs/etc/locale.gen"
in_root locale-gen >&2
printf 'LANG=en_US.UTF-8\n' >"$rootfs/etc/default/locale"

# cloud-init renders network-config with netplan (the renderer of the Ubuntu target) when
# ifupdown is absent; netplan writes systemd-networkd units, so networkd must run.
in_root systemctl enable systemd-networkd.service >&2
# Never prompt on the console at first boot.
in_root systemctl mask systemd-firstboot.service >&2
# Like the golden image (src/packer): keepalived and haproxy are installed but disabled; the
# seed's user-data enables and starts them.
in_root systemctl disable keepalived.service haproxy.service >&2
# Timers and checks that would only compete for the CPU during the test boot (apt-daily runs at
# boot when its last run was missed).
in_root systemctl mask apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer \
    e2scrub_reap.service fstrim.timer >&2

# The stand-in kube-apiserver: HTTPS on the port given on the kernel command line.
mkdir -p "$rootfs/etc/k8s-ha-test"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
    -subj /CN=kube-apiserver -keyout "$rootfs/etc/k8s-ha-test/apiserver.key" \
    -out "$rootfs/etc/k8s-ha-test/apiserver.crt" 2>/dev/null
chmod 0600 "$rootfs/etc/k8s-ha-test/apiserver.key"

cat >"$rootfs/usr/local/sbin/k8s-ha-test-apiserver" <<'EOF'
#!/usr/bin/python3
# Stand-in kube-apiserver for the k8s-ha boot test: answers 200 "ok" to every GET over TLS.
import http.server
import ssl

port = 6443
with open("/proc/cmdline") as f:
    for word in f.read().split():
        if word.startswith("k8s_ha_test.apiserver_port="):
            port = int(word.split("=", 1)[1])


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"ok"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        pass


context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain("/etc/k8s-ha-test/apiserver.crt", "/etc/k8s-ha-test/apiserver.key")
server = http.server.ThreadingHTTPServer(("0.0.0.0", port), Handler)
server.socket = context.wrap_socket(server.socket, server_side=True)
server.serve_forever()
EOF

cat >"$rootfs/etc/systemd/system/k8s-ha-test-apiserver.service" <<'EOF'
[Unit]
Description=k8s-ha boot test: stand-in kube-apiserver

[Service]
ExecStart=/usr/local/sbin/k8s-ha-test-apiserver
Restart=always

[Install]
WantedBy=multi-user.target
EOF

cat >"$rootfs/usr/local/sbin/k8s-ha-test-report" <<'EOF'
#!/bin/sh
# Prints the k8s-ha boot report to ttyS1 once cloud-init has finished, then powers off.
# Settings come from the kernel command line: k8s_ha_test.vip=, .iface=, .lb_port=, .wait= (s).
set -u
vip=""; iface=eth0; lb_port=""; wait_s=600
for word in $(cat /proc/cmdline); do
    case "$word" in
        k8s_ha_test.vip=*) vip=${word#*=} ;;
        k8s_ha_test.iface=*) iface=${word#*=} ;;
        k8s_ha_test.lb_port=*) lb_port=${word#*=} ;;
        k8s_ha_test.wait=*) wait_s=${word#*=} ;;
    esac
done
out=/dev/ttyS1
[ -c "$out" ] || out=/dev/console

# cloud-init's generator writes /run/cloud-init/disabled when ds-identify found no datasource
# (no seed): then boot-finished never comes, and there is no point in waiting for it.
waited=0
while [ ! -e /var/lib/cloud/instance/boot-finished ] && [ ! -e /run/cloud-init/disabled ] && [ "$waited" -lt "$wait_s" ]; do
    sleep 1; waited=$((waited + 1))
done
boot_finished=no
[ -e /var/lib/cloud/instance/boot-finished ] && boot_finished=yes
# keepalived needs a few advert intervals (and the check's rise) to take the VIP.
vip_held=no
if [ -n "$vip" ]; then
    n=0
    while [ "$n" -lt 60 ]; do
        if ip -o -4 addr show dev "$iface" | grep -qF " $vip/"; then vip_held=yes; break; fi
        sleep 1; n=$((n + 1))
    done
fi
files="/etc/keepalived/keepalived.conf /etc/keepalived/check_apiserver.sh /etc/haproxy/haproxy.cfg"

section() { printf '\n--- %s\n' "$1"; }
{
    printf '\n=== k8s-ha boot report begin ===\n'
    section boot-finished; echo "$boot_finished after ${waited}s"
    section cloud-init-status; cloud-init status --long 2>&1
    section result.json; cat /run/cloud-init/result.json 2>&1
    # word splitting of $files is intended
    section files; stat -c '%a %U:%G %n' $files 2>&1
    section sha256; sha256sum $files 2>&1
    section is-active; systemctl is-active keepalived.service haproxy.service 2>&1
    section is-enabled; systemctl is-enabled keepalived.service haproxy.service 2>&1
    section addresses; ip -4 addr show dev "$iface" 2>&1
    # every NIC, one line per address (the DHCP NIC beside the cluster NIC)
    section all-addresses; ip -4 -o addr show 2>&1
    section routes; ip -4 route show 2>&1
    # who applied network-config: cloud-init's renderer, and what it wrote for systemd-networkd
    section network-renderer
    grep -o "Selected renderer '[a-z]*'" /var/log/cloud-init.log 2>&1 | tail -n 1
    ls /etc/netplan /run/systemd/network 2>&1
    section networkctl; networkctl --no-pager status 2>&1 | head -n 20
    section vip; echo "$vip_held"
    # keepalived runs the check every interval and tolerates `fall - 1` failures; without KVM one
    # run can exceed curl's 2 s, so the report shows the first success of up to 5 runs
    section check-script
    for attempt in 1 2 3 4 5; do
        if /etc/keepalived/check_apiserver.sh 2>&1; then echo "exit 0"; break; fi
        [ "$attempt" -lt 5 ] || echo "exit 1 (5 runs)"
        sleep 1
    done
    section lb-local; curl -sfk --max-time 5 "https://127.0.0.1:$lb_port/healthz" 2>&1; echo " exit $?"
    section lb-vip; curl -sfk --max-time 5 "https://$vip:$lb_port/healthz" 2>&1; echo " exit $?"
    # the rules ufw loaded into the kernel (iptables, not `ufw status`: Python is slow without KVM)
    section ufw; grep '^ENABLED=' /etc/ufw/ufw.conf; iptables -S ufw-user-input 2>&1
    # ufw's own view: the default policies (routed among them) and the rules with their sources
    section ufw-status; ufw status verbose 2>&1
    # the routed policy as ufw stored it and as the kernel has it
    section ufw-routed; grep '^DEFAULT_FORWARD_POLICY=' /etc/default/ufw; iptables -S FORWARD 2>&1 | head -n 1
    # "master|worker user root-directory" per haproxy process (no ps in a minbase system: /proc)
    section haproxy-processes
    for proc in /proc/[0-9]*; do
        [ "$(cat "$proc/comm" 2>/dev/null)" = haproxy ] || continue
        parent=$(awk '/^PPid:/ { print $2 }' "$proc/status")
        role=master
        [ "$(cat "/proc/$parent/comm" 2>/dev/null)" = haproxy ] && role=worker
        echo "$role $(stat -c %U "$proc") $(readlink "$proc/root")"
    done
    section ssh-host-keys; for key in /etc/ssh/ssh_host_*_key.pub; do ssh-keygen -lf "$key" 2>&1; done
    section hostname; hostname
    section users; awk -F: '$3 >= 1000 && $3 < 65534 { print $1 }' /etc/passwd
    section instance-id; cat /var/lib/cloud/data/instance-id 2>&1
    section datasource; grep -m1 -o 'DataSourceNoCloud \[[^]]*\]' /var/log/cloud-init.log 2>&1
    section ds-identify; tail -n 25 /run/cloud-init/ds-identify.log 2>&1
    section cloud-init-warnings; grep -E 'WARNING|ERROR|Traceback' /var/log/cloud-init.log 2>&1 | tail -n 40
    section journal
    # haproxy logs every connection; only its start and stop lines matter here
    journalctl -b --no-pager -o short-monotonic -u keepalived.service -u haproxy.service -u systemd-networkd.service 2>&1 |
        grep -v ' haproxy\[[0-9]*\]: [0-9.]*:[0-9]* \[' | tail -n 60
    printf '\n=== k8s-ha boot report end ===\n'
} >"$out" 2>&1
# Closing the tty above waited for the report to drain. The disk is a throw-away snapshot:
# power off at once instead of stopping every service, which takes long without KVM.
sync
systemctl poweroff --force --force
EOF
chmod 0755 "$rootfs/usr/local/sbin/k8s-ha-test-apiserver" "$rootfs/usr/local/sbin/k8s-ha-test-report"

cat >"$rootfs/etc/systemd/system/k8s-ha-test-report.service" <<'EOF'
[Unit]
Description=k8s-ha boot test: report to ttyS1 when cloud-init is done, then power off
After=multi-user.target

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/k8s-ha-test-report
TimeoutStartSec=infinity

[Install]
WantedBy=multi-user.target
EOF
in_root systemctl enable k8s-ha-test-apiserver.service k8s-ha-test-report.service >&2

# Speed without KVM, none of it touching what the seed configures: ed25519 host keys only (RSA
# key generation takes long under emulation), no key fingerprints printed on the console, and a
# small initrd: the root disk (virtio, ext4) and the CD-ROM (ata_piix, sr_mod). The CD-ROM driver
# must be loaded in the initrd: cloud-init's systemd generator runs ds-identify, which looks for
# the `cidata` label with blkid, before udev in the real root loads any driver; a seed on a drive
# that appears later is not seen and cloud-init disables itself for the boot.
cat >"$rootfs/etc/cloud/cloud.cfg.d/90-k8s-ha-test.cfg" <<'EOF'
# k8s-ha boot test image (scripts/build-boot-rootfs.sh)
ssh_genkeytypes: [ed25519]
ssh:
  emit_keys_to_console: false
EOF
# Like the Kubernetes golden image (packer/scripts/30-kubernetes.sh): the node forwards packets.
# Without it `ufw status verbose` shows the routed policy as "disabled", whatever the policy is.
printf 'net.ipv4.ip_forward = 1\n' >"$rootfs/etc/sysctl.d/99-k8s-ha-test.conf"
# Like the golden image's generalisation (packer/scripts/99-shutdown.sh): no SSH host keys (the
# openssh-server package generated them in the chroot); each first boot generates its own, and a
# re-seed must keep them (ssh_deletekeys: false), which the re-seed boot test compares.
rm -f "$rootfs"/etc/ssh/ssh_host_*
printf 'MODULES=list\n' >"$rootfs/etc/initramfs-tools/conf.d/k8s-ha-test.conf"
printf '%s\n' virtio_pci virtio_blk ext4 ata_piix sr_mod >>"$rootfs/etc/initramfs-tools/modules"
run_step chroot "$rootfs" update-initramfs -u -k all >&2

# Smaller image: downloaded packages, docs and man pages are of no use here.
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/*

log "copying the kernel and initrd"
mkdir -p "$work/out"
kernel=$(find "$rootfs/boot" -maxdepth 1 -name 'vmlinuz-*' | sort | tail -n 1)
initrd=$(find "$rootfs/boot" -maxdepth 1 -name 'initrd.img-*' | sort | tail -n 1)
if [ -z "$kernel" ] || [ -z "$initrd" ]; then
    log "no kernel or initrd in $rootfs/boot"
    exit 1
fi
cp "$kernel" "$work/out/vmlinuz"
cp "$initrd" "$work/out/initrd.img"

used_mib=$(du -sm --apparent-size "$rootfs" | cut -f1)
size_mib=$((used_mib + used_mib / 2 + 256))
log "making disk.img (${size_mib} MiB ext4, ${used_mib} MiB used) without mounting"
truncate -s "${size_mib}M" "$work/out/disk.img"
mkfs.ext4 -q -F -L k8s-ha-root -d "$rootfs" "$work/out/disk.img" >&2
# The same root as a tar, for the chroot of scripts/build-kube-chroot.sh: one debootstrap, not two.
tar -C "$rootfs" --numeric-owner -cf "$work/out/rootfs.tar" .

printf '%s\n' "$key" >"$work/out/complete"
rm -rf "$out"
mv "$work/out" "$out"
# Older builds (another recipe hash) only take space.
find "$cache_root" -mindepth 1 -maxdepth 1 -name 'boot-rootfs-*' ! -path "$out" -exec rm -rf --one-file-system {} +
log "done: $out"
printf '%s\n' "$out"

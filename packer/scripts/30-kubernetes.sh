#!/bin/sh
# Makes the golden image a Kubernetes node (only when spec.kubernetes is set; the Packer template
# passes the parameters): containerd with the systemd cgroup driver, kubeadm, kubelet and kubectl
# of exactly K8S_HA_KUBERNETES_VERSION from the Kubernetes package repository (pkgs.k8s.io, the
# v1.NN channel, its key as a signed-by keyring), all four held; the kernel modules and sysctls
# kubeadm's preflight wants, at every boot; swap off for good.
#
# Parameters (environment):
#   K8S_HA_KUBERNETES_VERSION  required, e.g. 1.31.4
#   K8S_HA_KUBERNETES_REPO     default https://pkgs.k8s.io/core:/stable:/v1.NN/deb/ (flat repository)
#   K8S_HA_KUBERNETES_KEY_URL  default <repo>Release.key (ASCII-armoured; any URL curl reads)
#   K8S_HA_CONTAINERD_VERSION  optional: the containerd package version; default the newest the
#                              OS's archive offers (held either way)
# Settings are written for the next boot, not applied now: the image is shut down after this.
set -eu
export DEBIAN_FRONTEND=noninteractive

fail() {
    echo "30-kubernetes: $*" >&2
    exit 1
}

version=${K8S_HA_KUBERNETES_VERSION:-}
case $version in
    1.[0-9]*.[0-9]*) ;;
    *) fail "K8S_HA_KUBERNETES_VERSION must be a release such as 1.31.4, not '$version'" ;;
esac
case $version in *[!0-9.]*) fail "K8S_HA_KUBERNETES_VERSION '$version' holds more than digits and dots" ;; esac
minor=${version%.*}
repo=${K8S_HA_KUBERNETES_REPO:-https://pkgs.k8s.io/core:/stable:/v$minor/deb/}
key_url=${K8S_HA_KUBERNETES_KEY_URL:-${repo}Release.key}
containerd_version=${K8S_HA_CONTAINERD_VERSION:-}
# These end up in an apt sources line and on curl's command line: plain URL characters only.
for value in "$repo" "$key_url" "$containerd_version"; do
    case $value in *[!A-Za-z0-9:/._~%+-]*) fail "refusing '$value': not a plain URL or version" ;; esac
done

apt_get() {
    apt-get -q -y -o DPkg::Lock::Timeout=600 "$@"
}

# The repository's key, kept apart from the global trusted keys: it vouches for this repository only.
keyring=/etc/apt/keyrings/kubernetes-apt-keyring.asc
install -d -m 0755 /etc/apt/keyrings
curl -fsSL --retry 3 -o "$keyring.tmp" "$key_url"
chmod 0644 "$keyring.tmp"
mv "$keyring.tmp" "$keyring"
printf 'deb [signed-by=%s] %s /\n' "$keyring" "$repo" >/etc/apt/sources.list.d/kubernetes.list

apt_get update
# The newest package revision of exactly this release (1.31.4-1.1, not 1.31.5-…).
package_version() {
    apt-cache madison "$1" | awk -F'|' -v want="$version-" '{ gsub(/ /, "", $2) } index($2, want) == 1 { print $2; exit }'
}
set --
for package in kubeadm kubelet kubectl; do
    found=$(package_version "$package")
    [ -n "$found" ] || fail "$repo has no $package $version (apt-cache madison $package)"
    set -- "$@" "$package=$found"
done
if [ -n "$containerd_version" ]; then
    set -- "$@" "containerd=$containerd_version"
else
    set -- "$@" containerd
fi
apt_get install --no-install-recommends "$@"
apt-mark hold containerd kubeadm kubelet kubectl

# containerd: its full default config with the systemd cgroup driver, which the kubelet uses
# (KubeletConfiguration cgroupDriver: systemd); two drivers would fight over the cgroups.
install -d -m 0755 /etc/containerd
containerd config default >/etc/containerd/config.toml.tmp
sed -i 's/SystemdCgroup = false/SystemdCgroup = true/' /etc/containerd/config.toml.tmp
grep -q 'SystemdCgroup = true' /etc/containerd/config.toml.tmp || fail "containerd's default config has no SystemdCgroup setting to turn on"
mv /etc/containerd/config.toml.tmp /etc/containerd/config.toml

# overlay for containerd's snapshotter, br_netfilter so bridged pod traffic meets iptables.
install -d -m 0755 /etc/modules-load.d /etc/sysctl.d
printf '# written by k8s-ha (30-kubernetes.sh): needed by containerd and kube-proxy\noverlay\nbr_netfilter\n' \
    >/etc/modules-load.d/k8s-ha-kubernetes.conf
printf '# written by k8s-ha (30-kubernetes.sh): kubeadm preflight and pod networking\nnet.ipv4.ip_forward = 1\nnet.bridge.bridge-nf-call-iptables = 1\nnet.bridge.bridge-nf-call-ip6tables = 1\n' \
    >/etc/sysctl.d/99-k8s-ha-kubernetes.conf

# The kubelet refuses to start with swap on: comment out every swap line of fstab, and stop
# systemd from activating swap by any other route.
sed -i -E 's/^([^#[:space:]]+[[:space:]]+[^[:space:]]+[[:space:]]+swap[[:space:]].*)$/# k8s-ha: swap off for the kubelet # \1/' /etc/fstab
systemctl mask swap.target >/dev/null
if [ -r /proc/swaps ] && [ -d /run/systemd/system ]; then swapoff -a; fi

systemctl enable containerd.service kubelet.service

# The image record lists these (build-image reads the lines starting "k8s-ha-package ").
dpkg-query --show --showformat='k8s-ha-package ${Package} ${Version}\n' containerd kubeadm kubelet kubectl

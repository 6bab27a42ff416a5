#!/bin/sh
# The image checks: run as root after generalisation, they fail the build (exit 1) unless the
# image is what every node's seed expects. Unlike a report that can be set to non-blocking, a
# failed check here means no image. Each check prints one line,
#   image-check: ok <what>      or      image-check: FAIL <what>: <why>
# and each package one line "image-check: package <name> <version>"; `k8s-ha build-image` copies
# them into the image record (images/<name>-<version>.json).
#
# Environment (set by the Packer template): EXPECT_KEEPALIVED and EXPECT_HAPROXY, the releases
# k8s-ha renders configs for on this OS (src/spec/targets.ts); EXTRA_PACKAGES as for
# 20-install-packages.sh.
#
# The SSH host keys and the build user are removed later, by 99-shutdown.sh, which refuses to
# power off (and so fails the build) when the user cannot be deleted: Packer's SSH session needs
# both until then.
# Every check runs to its end (a failure is counted, not fatal), so that the log lists them all.
set -eu

passed=0
failed=0
ok() {
  passed=$((passed + 1))
  echo "image-check: ok $1"
}
fail() {
  failed=$((failed + 1))
  echo "image-check: FAIL $1: $2"
}

# "1:2.2.7-1+b2" → "2.2.7-1+b2": the epoch is not part of the upstream release.
upstream() {
  printf '%s\n' "${1#*:}"
}

# $1 package, $2 expected release prefix ("2.6" matches 2.6.12-1, not 2.60)
check_release() {
  version=$(dpkg-query --show --showformat='${Version}' "$1" 2>/dev/null) || version=""
  case $(upstream "$version") in
    "$2" | "$2".* | "$2"-* | "$2"+* | "$2"~*) ok "$1 $version is release $2" ;;
    *) fail "$1 release" "installed '$version', k8s-ha renders its config for $2" ;;
  esac
}

# Packages: the base set and EXTRA_PACKAGES (name=version checks the version too), split on
# spaces and never globbed.
set -f
for spec in keepalived haproxy curl ufw cloud-init ${EXTRA_PACKAGES:-}; do
  name=${spec%%=*}
  status=$(dpkg-query --show --showformat='${Status} ${Version}' "$name" 2>/dev/null) || status=""
  case $status in
    "install ok installed "*)
      version=${status#install ok installed }
      echo "image-check: package $name $version"
      if [ "$spec" != "$name" ] && [ "${spec#*=}" != "$version" ]; then
        fail "package $name" "installed $version, the spec asks for ${spec#*=}"
      else
        ok "package $name installed"
      fi
      ;;
    *) fail "package $name" "not installed (${status:-unknown to dpkg})" ;;
  esac
done
set +f
check_release keepalived "${EXPECT_KEEPALIVED:?}"
check_release haproxy "${EXPECT_HAPROXY:?}"

# keepalived and haproxy stay off until a node's seed writes their configs and enables them.
for unit in keepalived.service haproxy.service; do
  enabled=$(systemctl is-enabled "$unit" 2>/dev/null || true)
  active=$(systemctl is-active "$unit" 2>/dev/null || true)
  if [ "$enabled" = disabled ] && [ "$active" = inactive ]; then
    ok "$unit disabled and stopped"
  else
    fail "$unit" "is $enabled and $active; the seed enables it"
  fi
done

# cloud-init forgot this instance: a clone runs every module again with its own seed.
leftovers=$(find /var/lib/cloud/instance /var/lib/cloud/instances /var/lib/cloud/seed /var/log/cloud-init.log \
  -maxdepth 1 -mindepth 0 2>/dev/null | grep -v '^/var/lib/cloud/instances$' | head -n 5 | tr '\n' ' ')
if [ -z "$leftovers" ]; then ok "cloud-init clean (no instance, seed or log)"; else fail "cloud-init clean" "left: $leftovers"; fi

if grep -Eqs '^datasource_list:.*\bNoCloud\b' /etc/cloud/cloud.cfg.d/*.cfg; then
  ok "cloud-init looks for a NoCloud seed"
else
  fail "cloud-init datasource" "no datasource_list with NoCloud in /etc/cloud/cloud.cfg.d"
fi

# A top-level network: key in cloud.cfg.d outranks the seed's network-config.
network_files=$(grep -ls '^network:' /etc/cloud/cloud.cfg.d/*.cfg | tr '\n' ' ')
if [ -z "$network_files" ]; then ok "no network config in cloud.cfg.d"; else fail "cloud.cfg.d network" "set in $network_files"; fi

# Installer and build-VM network leftovers would apply beside the seed's static address.
installer=""
for file in /etc/cloud/cloud.cfg.d/99-installer.cfg /etc/cloud/cloud.cfg.d/subiquity-disable-cloudinit-networking.cfg \
  /etc/cloud/cloud.cfg.d/curtin-preserve-sources.cfg /etc/netplan/*.yaml /etc/network/interfaces.d/50-cloud-init \
  /etc/network/interfaces.d/50-cloud-init.cfg; do
  if [ -e "$file" ]; then installer="$installer $file"; fi
done
if [ -z "$installer" ]; then ok "no installer or build network leftovers"; else fail "leftovers" "still there:$installer"; fi

# An empty machine-id (not a missing one): systemd makes a new one on the clone's first boot.
if [ -f /etc/machine-id ] && [ ! -s /etc/machine-id ]; then
  ok "machine-id empty"
else
  fail "machine-id" "$(cat /etc/machine-id 2>/dev/null || echo missing)"
fi

if [ "$(cat /etc/hostname 2>/dev/null)" = localhost ]; then ok "hostname reset"; else fail "hostname" "$(cat /etc/hostname 2>/dev/null)"; fi

if [ "$failed" -gt 0 ]; then
  echo "image-check: failed $failed of $((passed + failed)) checks" >&2
  exit 1
fi
echo "image-check: passed $passed checks"

#!/usr/bin/env bash
# Installs the Debian packages Tutti builds and tests with, when they are missing.
# As root it runs apt-get; otherwise it prints the exact command to run. iproute2 (ip, tc)
# makes the network-namespace hosts of tests/netns and perf/netns_*.sh.
set -euo pipefail

packages=(cmake ninja-build g++ make pkg-config libgtest-dev libgmock-dev
          libopenmpi-dev openmpi-bin libhwloc-dev libucx-dev libibverbs-dev librdmacm-dev
          python3 iproute2)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

cmd="apt-get install -y --no-install-recommends ${missing[*]}"
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-deps: missing ${missing[*]} and no apt-get here; install them by hand" >&2
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages; run as root:" >&2
  echo "  apt-get update && $cmd" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
$cmd

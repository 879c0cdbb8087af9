#!/usr/bin/env bash
# Several "hosts" on one machine: N network namespaces joined by veth pairs to a bridge that
# lives in its own namespace, so nothing is added to the root namespace. Used by the netns
# tests (tests/testing/netns_hosts.*), perf/netns_compare.sh and by hand (docs/multinode.md).
#
#   netns-hosts.sh up NAME N          create NAME-h0..NAME-h{N-1} and the switch NAME-sw
#   netns-hosts.sh down NAME          remove them (kills what still runs inside, /etc/hosts lines)
#   netns-hosts.sh exec NAME I CMD..  run CMD on host I (TUTTI_HOSTID, TUTTI_SOCKET_IFNAME set)
#   netns-hosts.sh exec-host NAME-hI CMD..  the same by namespace name (netns-rsh-agent.sh)
#   netns-hosts.sh addr NAME I        print host I's address
#   netns-hosts.sh names NAME         print the host namespaces, one a line
#   netns-hosts.sh etc-hosts NAME     add "ADDR NAME-hI" lines to /etc/hosts (for mpirun)
#   netns-hosts.sh limit NAME RATE    rate-limit every host's egress (tc tbf), e.g. 1gbit
#
# Every host sees one interface, IFACE (tnet0), with address 10.77.S.(I+1)/24; S is derived
# from NAME. The subnet exists only inside these namespaces. NAME defaults to tutti<pid> in
# the callers; `up` first removes sets named tutti<pid> whose process is gone (a crashed test).
set -euo pipefail

IFACE=tnet0
STATE_DIR=/run/tutti-netns
HOSTS_TAG="# tutti-netns"

die() {
  echo "netns-hosts: $*" >&2
  exit 1
}

usable() {
  [[ "$(id -u)" == 0 ]] || die "needs root to create network namespaces (running as $(id -un))"
  command -v ip >/dev/null || die "needs 'ip' (iproute2: scripts/install-deps.sh)"
}

subnet_of() {  # third octet for NAME: 10..249, stable per name
  local sum
  sum=$(printf '%s' "$1" | cksum | cut -d' ' -f1)
  echo $((sum % 240 + 10))
}

state() {  # prints "count subnet" of a live set
  [[ -f "$STATE_DIR/$1" ]] || die "no host set named $1 (netns-hosts.sh up $1 N first)"
  cat "$STATE_DIR/$1"
}

remove_hosts_lines() {
  [[ -f /etc/hosts ]] || return 0
  grep -q "$HOSTS_TAG $1\$" /etc/hosts || return 0
  # Rewrite in place (not mv): /etc/hosts may be a bind mount.
  local tmp
  tmp=$(mktemp)
  grep -v "$HOSTS_TAG $1\$" /etc/hosts >"$tmp" || true
  cat "$tmp" >/etc/hosts
  rm -f "$tmp"
}

down() {
  local name=$1 ns
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^$name-(h[0-9]+|sw)\$" || true); do
    # Processes left inside (a crashed rank, an orted) would keep the namespace alive.
    local pids
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    for p in $pids; do kill -9 "$p" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || true
  done
  remove_hosts_lines "$name"
  rm -f "$STATE_DIR/$name"
}

remove_stale() {  # sets named tutti<pid> whose creator has exited
  local name pid
  for name in $(ip netns list 2>/dev/null | awk '{print $1}' | sed -nE 's/^(tutti[0-9]+)-(h[0-9]+|sw)$/\1/p' | sort -u); do
    pid=${name#tutti}
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "netns-hosts: removing $name (its process $pid is gone)" >&2
      down "$name"
    fi
  done
}

up() {
  local name=$1 n=$2
  [[ "$n" =~ ^[0-9]+$ && "$n" -ge 1 && "$n" -le 200 ]] || die "host count must be 1..200, not '$n'"
  usable
  remove_stale
  ip netns list | awk '{print $1}' | grep -qE "^$name-(h[0-9]+|sw)\$" && die "$name already exists"
  local s
  s=$(subnet_of "$name")
  mkdir -p "$STATE_DIR"
  echo "$n $s" >"$STATE_DIR/$name"
  # Whatever fails below leaves nothing behind.
  trap 'down "$name"' ERR
  local sw="$name-sw"
  ip netns add "$sw"
  ip -n "$sw" link set lo up
  ip -n "$sw" link add br0 type bridge
  ip -n "$sw" link set br0 up
  local i
  for ((i = 0; i < n; ++i)); do
    local h="$name-h$i"
    ip netns add "$h"
    ip -n "$h" link set lo up
    # Both ends are created inside their namespaces: no name ever appears in the root one.
    ip link add "$IFACE" netns "$h" type veth peer name "p$i" netns "$sw"
    ip -n "$sw" link set "p$i" master br0
    ip -n "$sw" link set "p$i" up
    ip -n "$h" addr add "10.77.$s.$((i + 1))/24" dev "$IFACE"
    ip -n "$h" link set "$IFACE" up
  done
  trap - ERR
  for ((i = 0; i < n; ++i)); do echo "$name-h$i 10.77.$s.$((i + 1))"; done
}

cmd=${1:-}
case "$cmd" in
  up)
    [[ $# -eq 3 ]] || die "usage: up NAME N"
    up "$2" "$3"
    ;;
  down)
    [[ $# -eq 2 ]] || die "usage: down NAME"
    usable
    down "$2"
    ;;
  exec)
    [[ $# -ge 4 ]] || die "usage: exec NAME I CMD..."
    name=$2 i=$3
    shift 3
    read -r n _ < <(state "$name")
    [[ "$i" -ge 0 && "$i" -lt "$n" ]] || die "host $i not in 0..$((n - 1))"
    exec "$0" exec-host "$name-h$i" "$@"
    ;;
  exec-host)
    [[ $# -ge 3 ]] || die "usage: exec-host NAME-hI CMD..."
    h=$2
    shift 2
    ip netns list | awk '{print $1}' | grep -qx "$h" || die "no host namespace $h"
    # A host also gets its own hostname (UTS namespace): OpenMPI names its session directory
    # and shared-memory files after it, and hosts sharing them corrupt each other's. Tutti
    # is told the host apart through TUTTI_HOSTID as well, as where hostnames are shared.
    # shellcheck disable=SC2016 # "$0" and "$@" belong to the inner shell
    exec ip netns exec "$h" env TUTTI_HOSTID="$h" TUTTI_SOCKET_IFNAME="=$IFACE" \
      unshare --uts sh -c 'hostname "$0" && exec "$@"' "$h" "$@"
    ;;
  addr)
    [[ $# -eq 3 ]] || die "usage: addr NAME I"
    read -r _ s < <(state "$2")
    echo "10.77.$s.$(($3 + 1))"
    ;;
  names)
    [[ $# -eq 2 ]] || die "usage: names NAME"
    read -r n _ < <(state "$2")
    for ((i = 0; i < n; ++i)); do echo "$2-h$i"; done
    ;;
  etc-hosts)
    [[ $# -eq 2 ]] || die "usage: etc-hosts NAME"
    read -r n s < <(state "$2")
    remove_hosts_lines "$2"
    for ((i = 0; i < n; ++i)); do echo "10.77.$s.$((i + 1)) $2-h$i $HOSTS_TAG $2"; done >>/etc/hosts
    ;;
  limit)
    [[ $# -eq 3 ]] || die "usage: limit NAME RATE (e.g. 1gbit)"
    command -v tc >/dev/null || die "needs 'tc' (iproute2)"
    read -r n _ < <(state "$2")
    for ((i = 0; i < n; ++i)); do
      # Token bucket on each host's egress: both directions of every pair are limited.
      tc -n "$2-h$i" qdisc replace dev "$IFACE" root tbf rate "$3" burst 256kb latency 50ms
    done
    ;;
  *)
    sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac

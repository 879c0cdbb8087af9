#!/usr/bin/env bash
# AllReduce over UCX vs sockets between two emulated hosts on this machine (loopback): 8 B latency
# and 1-64 MiB bus bandwidth, rounds interleaved so that load from other processes hits both.
# Usage: scripts/ucx-loopback-perf.sh [build-dir] [rounds]
set -euo pipefail
build=${1:-build-cpu}
rounds=${2:-3}
perf="$build/perf/all_reduce_perf"
export TUTTI_RANKS_PER_NODE=1 UCX_TLS=${UCX_TLS:-tcp} UCX_NET_DEVICES=${UCX_NET_DEVICES:-lo}
export TUTTI_TIMEOUT_MS=120000
for r in $(seq 1 "$rounds"); do
  for net in ucx socket; do
    echo "## round $r TUTTI_NET=$net"
    TUTTI_NET=$net "$perf" --np 2 --mem host -b 8 -e 8 -n 500 -w 50 | grep -E '^ +[0-9]'
    TUTTI_NET=$net "$perf" --np 2 --mem host -b 1M -e 64M -f 2 -n 10 -w 2 | grep -E '^ +[0-9]'
  done
done

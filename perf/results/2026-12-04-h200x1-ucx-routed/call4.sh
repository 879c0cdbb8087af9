#!/usr/bin/env bash
# Session 4, call 4: device buffers through the proxy, proxy chunk 4 MiB (default) against
# 16 MiB, over sockets, UCX with one worker and UCX with 4 stripe workers; 2 nodes x 1 (-g 2)
# and 2 nodes x 2 (-g 4, hierarchical), host buffers beside.
set -uo pipefail
tar -xJf .gl/netbin.tar.xz
mkdir -p /work/main/build/src && cp -f build/src/libtutti.so.0 /work/main/build/src/ 2>/dev/null
echo "host $(hostname) cpus $(nproc) $(date -u '+%F %T') UTC; $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader)"
R=$OUT
run_g() {  # label, g, mem, env...
  local label=$1 g=$2 mem=$3; shift 3
  env "$@" UCX_TLS=tcp UCX_NET_DEVICES=lo TUTTI_RANKS_PER_NODE=$((g / 2)) TUTTI_ALLOW_SHARED_GPU=1 NCCL_NVLS_ENABLE=0 \
    timeout 60 build/perf/all_reduce_perf -g $g --mem $mem -b 4M -e 64M -f 4 -n 20 -w 3 > $R/g.txt 2>&1
  echo "$label -g $g $mem: $(grep -E '^ +(4194304|16777216|67108864) ' $R/g.txt | awk '{printf "%s: %s (wrong %s); ", $1, $8, $9}')"
}
for pass in 1 2; do for g in 2 4; do
  for net in socket:1 ucx:1 ucx:4; do
    n=${net%:*}; w=${net#*:}
    run_g "$n-w$w" $g host TUTTI_NET=$n TUTTI_UCX_WORKERS=$w
    run_g "$n-w$w chunk4M" $g device TUTTI_NET=$n TUTTI_UCX_WORKERS=$w
    run_g "$n-w$w chunk16M" $g device TUTTI_NET=$n TUTTI_UCX_WORKERS=$w TUTTI_PROXY_CHUNK_BYTES=16M
  done
done; done

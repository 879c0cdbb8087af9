#!/usr/bin/env bash
# Session 4, call 3 (8617f78 + checksum agreement): hybrid striped UCX against one worker and
# sockets; stripe threshold 2 MiB against the default (4 stripes = 4 MiB); device buffers
# with larger proxy chunks (so that each chunk's messages reach the stripe workers).
set -uo pipefail
export PATH=$PWD/.gl/iproute/bin:$PATH
tar -xJf .gl/netbin.tar.xz
mkdir -p /work/main/build/src && cp -f build/src/libtutti.so.0 /work/main/build/src/ 2>/dev/null
echo "host $(hostname) cpus $(nproc) $(date -u '+%F %T') UTC; $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader)"
R=$OUT; export BUILD_DIR=$PWD/build
OUT=$R/ab FLOOR_KIB=0 STREAMS_CEILING="1 4" PASSES=2 LAYOUTS="1,1 2,2" MIN=1M MAX=64M \
CONFIGS="sock:TUTTI_NET=socket w1:TUTTI_NET=ucx w4:TUTTI_NET=ucx,TUTTI_UCX_WORKERS=4 w4m2:TUTTI_NET=ucx,TUTTI_UCX_WORKERS=4,TUTTI_UCX_STRIPE_MIN_BYTES=2M" \
  timeout 300 perf/netns_streams.sh > $R/table.txt 2>&1
echo "netns rc $?"; cat $R/table.txt
echo "== 8 B AllReduce latency (us), 200 iterations"
export HOSTS=$PWD/scripts/netns-hosts.sh
N=lat$$; "$HOSTS" up $N 2 >/dev/null
for pass in 1 2 3; do for layout in 1,1 2,2; do for cfg in socket:1 ucx:1 ucx:4; do
  net=${cfg%:*}; w=${cfg#*:}
  timeout 30 scripts/netns-mpirun.sh $N $layout -x TUTTI_NET=$net -x UCX_TLS=tcp -x UCX_NET_DEVICES=tnet0 -x TUTTI_UCX_WORKERS=$w -- \
    build/perf/all_reduce_perf -b 8 -e 8 -n 200 -w 20 -d float -o sum --mem host > $R/lat.txt 2>&1
  echo "pass $pass $layout $net workers=$w: $(grep -E '^ +8 ' $R/lat.txt | awk '{print $6" us oop"}')"
done; done; done
"$HOSTS" down $N
echo "== device vs host over UCX (loopback, TUTTI_RANKS_PER_NODE=1, -g 2), busbw 4M / 16M / 64M oop"
run_g() {  # label, mem, env...
  local label=$1 mem=$2; shift 2
  env "$@" TUTTI_NET=ucx UCX_TLS=tcp UCX_NET_DEVICES=lo TUTTI_RANKS_PER_NODE=1 TUTTI_ALLOW_SHARED_GPU=1 NCCL_NVLS_ENABLE=0 \
    timeout 40 build/perf/all_reduce_perf -g 2 --mem $mem -b 4M -e 64M -f 4 -n 20 -w 3 > $R/g.txt 2>&1
  echo "$label $mem: $(grep -E '^ +(4194304|16777216|67108864) ' $R/g.txt | awk '{printf "%s: %s (wrong %s); ", $1, $8, $9}')"
}
for pass in 1 2; do
  run_g w1 host TUTTI_UCX_WORKERS=1
  run_g w1 device TUTTI_UCX_WORKERS=1
  run_g w4 host TUTTI_UCX_WORKERS=4
  run_g w4 device TUTTI_UCX_WORKERS=4
  run_g w4-chunk16M device TUTTI_UCX_WORKERS=4 TUTTI_PROXY_CHUNK_BYTES=16M
  run_g w4m2 device TUTTI_UCX_WORKERS=4 TUTTI_UCX_STRIPE_MIN_BYTES=2M
done

#!/usr/bin/env bash
# A planned device call (written 2026-12-05, session 10, which was lent no device): UCX's chunk
# (TUTTI_UCX_CHUNK_BYTES, the size of each tagged message and receive slot) at 32K (default),
# 128K and 256K. Host buffers across namespace hosts over UCX (UCX_TLS=tcp), 2 x 1 and 2 x 2,
# 64 KiB-64 MiB, three interleaved rounds. On the VM, 256K halved the system calls of a 1 MiB
# AllReduce (110 -> 57 per rank and call, strace -c). Needs .gl with netbin.tar.xz (library and
# perf binaries built from the commit named in .gl/netbin.rev) and iproute.
set -uo pipefail
export PATH=$PWD/.gl/iproute/bin:$PATH OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
tar -xJf .gl/netbin.tar.xz
mkdir -p /work/main/build/src && cp -f build/src/libtutti.so.0 /work/main/build/src/ 2>/dev/null
echo "host $(hostname) cpus $(nproc) $(date -u '+%F %T') UTC; load $(cut -d' ' -f1-3 /proc/loadavg); lib $(cat .gl/netbin.rev)"
NAME=tchk$$
trap 'scripts/netns-hosts.sh down $NAME >/dev/null 2>&1' EXIT
scripts/netns-hosts.sh up $NAME 2 > /dev/null || { echo "namespaces failed"; exit 1; }
B=$PWD/build/perf/all_reduce_perf
for round in 1 2 3; do for layout in 1,1 2,2; do for chunk in 32K 128K 256K; do
  f=$OUT/r$round-${layout//,/x}-$chunk.txt
  timeout 60 scripts/netns-mpirun.sh $NAME $layout -x TUTTI_NET=ucx -x UCX_TLS=tcp -x UCX_NET_DEVICES=tnet0 \
    -x TUTTI_UCX_CHUNK_BYTES=$chunk -- $B -b 64K -e 64M -f 4 -n 20 -w 5 --mem host -c 1 > "$f" 2>&1
  echo "r$round ${layout//,/x} $chunk: $(awk '$1 ~ /^[0-9]+$/ && NF >= 12 {printf "%s:%s/%s ", $1, $6, $10}' "$f")"
done; done; done
echo "end $(date -u '+%F %T') load $(cut -d' ' -f1-3 /proc/loadavg)"

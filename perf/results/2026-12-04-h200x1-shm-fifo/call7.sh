#!/usr/bin/env bash
# Session 7, call 7: the node phase's knobs. One host, 2 ranks, 16-64 MiB: shared-memory FIFO
# 1 MiB (default), 4 and 16 MiB; reduce threads 4 (auto here) and 8. Then 2 x 2 over sockets
# with the best FIFO against the default. Two passes, interleaved.
set -uo pipefail
export PATH=$PWD/.gl/iproute/bin:$PATH
tar -xJf .gl/netbin.tar.xz
mkdir -p /work/main/build/src && cp -f build/src/libtutti.so.0 /work/main/build/src/ 2>/dev/null
echo "host $(hostname) cpus $(nproc) $(date -u '+%F %T') UTC"
R=$OUT
M=(mpirun --oversubscribe --allow-run-as-root --bind-to none --mca mpi_yield_when_idle 1 -np 2)
S=(-b 16M -e 64M -f 4 -n 20 -w 5 -d float -o sum --mem host)
for pass in 1 2; do
  for cfg in "fifo1M|TUTTI_SHM_FIFO_BYTES=1M" "fifo4M|TUTTI_SHM_FIFO_BYTES=4M" "fifo16M|TUTTI_SHM_FIFO_BYTES=16M" "thr8|TUTTI_REDUCE_THREADS=8" "fifo4M-thr8|TUTTI_SHM_FIFO_BYTES=4M,TUTTI_REDUCE_THREADS=8"; do
    IFS='|' read -r tag envs <<<"$cfg"; x=(); IFS=, read -r -a vs <<<"$envs"; for v in "${vs[@]}"; do x+=(-x "$v"); done
    "${M[@]}" "${x[@]}" build/perf/all_reduce_perf "${S[@]}" > $R/one-$tag-p$pass.txt 2>&1
    echo "p$pass 1x2 $tag: $(awk '!/^#/ && NF>=13 && $1 ~ /^[0-9]+$/ {printf "%s %s  ", $1, $8}' $R/one-$tag-p$pass.txt)"
  done
done
export BUILD_DIR=$PWD/build
OUT=$R/ns FLOOR_KIB=0 STREAMS_CEILING="4" PASSES=2 LAYOUTS="2,2" MIN=16M MAX=64M \
  CONFIGS="sock:TUTTI_NET=socket sockfifo4:TUTTI_NET=socket,TUTTI_SHM_FIFO_BYTES=4M sockfifo16:TUTTI_NET=socket,TUTTI_SHM_FIFO_BYTES=16M" \
  timeout 300 perf/netns_streams.sh > $R/streams-table.txt 2>&1
echo "netns_streams rc $?"; grep -v "^| ---" $R/streams-table.txt | sed 's/ (TUTTI_[^)]*)//' | cut -d'|' -f1-9

#!/usr/bin/env bash
# Session 7, call 8: shared-memory FIFOs sized automatically (4 MiB here) against the 1 MiB of
# before; one host with 2 and 4 ranks, and 2 x 2 namespace hosts over sockets. Two passes.
set -uo pipefail
export PATH=$PWD/.gl/iproute/bin:$PATH
tar -xJf .gl/netbin.tar.xz
mkdir -p /work/main/build/src && cp -f build/src/libtutti.so.0 /work/main/build/src/ 2>/dev/null
echo "host $(hostname) cpus $(nproc) $(date -u '+%F %T') UTC; /dev/shm $(df -h /dev/shm | tail -1 | awk '{print $2, "free", $4}')"
R=$OUT
M=(mpirun --oversubscribe --allow-run-as-root --bind-to none --mca mpi_yield_when_idle 1)
S=(-b 1M -e 64M -f 4 -n 20 -w 5 -d float -o sum --mem host)
"${M[@]}" -np 2 -x TUTTI_DEBUG=INFO build/perf/all_reduce_perf -b 8 -e 8 -n 1 -w 0 --mem host 2>&1 | grep -m2 -E "FIFO|host reductions"
for pass in 1 2; do for np in 2 4; do
  for cfg in "auto|TUTTI_NONE=0" "fifo1M|TUTTI_SHM_FIFO_BYTES=1M" "auto-thr8|TUTTI_REDUCE_THREADS=8"; do
    IFS='|' read -r tag envs <<<"$cfg"
    [[ $np == 4 && $tag == auto-thr8 ]] && continue
    "${M[@]}" -np $np -x $envs build/perf/all_reduce_perf "${S[@]}" > $R/one-$np-$tag-p$pass.txt 2>&1
    echo "p$pass 1x$np $tag: $(awk '!/^#/ && NF>=13 && $1 ~ /^[0-9]+$/ {printf "%s %s  ", $1, $8}' $R/one-$np-$tag-p$pass.txt)"
  done
done; done
export BUILD_DIR=$PWD/build
OUT=$R/ns FLOOR_KIB=32768 STREAMS_CEILING="4" PASSES=2 LAYOUTS="2,2" MIN=1M MAX=64M \
  CONFIGS="sock:TUTTI_NET=socket sockfifo1:TUTTI_NET=socket,TUTTI_SHM_FIFO_BYTES=1M ucx:TUTTI_NET=ucx ucxfifo1:TUTTI_NET=ucx,TUTTI_SHM_FIFO_BYTES=1M" \
  timeout 300 perf/netns_streams.sh > $R/streams-table.txt 2>&1
echo "netns_streams rc $?"; grep -v "^| ---" $R/streams-table.txt | sed 's/ (TUTTI_[^)]*)//' | cut -d'|' -f1-10

#!/usr/bin/env bash
# Session 7, call 9: the FIFO rule (8 MiB per rank: 4 MiB for 2 local ranks, 2 MiB for 3,
# 1 MiB from 4) on one host with 2, 3, 4 ranks against 1 MiB FIFOs; and 8 reduce threads
# (auto caps at 4) on one host x 2 and on 2 x 1 namespace hosts. Two passes.
set -uo pipefail
export PATH=$PWD/.gl/iproute/bin:$PATH
tar -xJf .gl/netbin.tar.xz
mkdir -p /work/main/build/src && cp -f build/src/libtutti.so.0 /work/main/build/src/ 2>/dev/null
echo "host $(hostname) cpus $(nproc) $(date -u '+%F %T') UTC"
R=$OUT
M=(mpirun --oversubscribe --allow-run-as-root --bind-to none --mca mpi_yield_when_idle 1)
S=(-b 1M -e 64M -f 4 -n 20 -w 5 -d float -o sum --mem host)
for pass in 1 2; do for np in 2 3 4; do
  for cfg in "auto|TUTTI_NONE=0" "fifo1M|TUTTI_SHM_FIFO_BYTES=1M" "thr8|TUTTI_REDUCE_THREADS=8"; do
    IFS='|' read -r tag envs <<<"$cfg"
    [[ $np != 2 && $tag == thr8 ]] && continue
    [[ $np == 4 && $tag == fifo1M ]] && continue
    "${M[@]}" -np $np -x $envs build/perf/all_reduce_perf "${S[@]}" > $R/one-$np-$tag-p$pass.txt 2>&1
    echo "p$pass 1x$np $tag: $(awk '!/^#/ && NF>=13 && $1 ~ /^[0-9]+$/ {printf "%s %s  ", $1, $8}' $R/one-$np-$tag-p$pass.txt)"
  done
done; done
export BUILD_DIR=$PWD/build
OUT=$R/ns FLOOR_KIB=0 STREAMS_CEILING="4" PASSES=2 LAYOUTS="1,1" MIN=1M MAX=64M \
  CONFIGS="sock:TUTTI_NET=socket sockthr8:TUTTI_NET=socket,TUTTI_REDUCE_THREADS=8 ucx:TUTTI_NET=ucx ucxthr8:TUTTI_NET=ucx,TUTTI_REDUCE_THREADS=8" \
  timeout 300 perf/netns_streams.sh > $R/streams-table.txt 2>&1
echo "netns_streams rc $?"; grep -v "^| ---" $R/streams-table.txt | sed 's/ (TUTTI_[^)]*)//' | cut -d'|' -f1-9

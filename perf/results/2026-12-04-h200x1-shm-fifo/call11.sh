#!/usr/bin/env bash
# Session 7, call 11: call 10 ran on a slow box (TCP ceiling 6.5 against 8.2-9.3 before). The
# reduce-thread cap A/B in one call: auto (now up to 8) against TUTTI_REDUCE_THREADS=4 (the old
# cap), one host x 2 and x 4, and 2 x 1 namespace hosts over sockets. Two passes, interleaved.
set -uo pipefail
export PATH=$PWD/.gl/iproute/bin:$PATH
tar -xJf .gl/netbin.tar.xz
mkdir -p /work/main/build/src && cp -f build/src/libtutti.so.0 /work/main/build/src/ 2>/dev/null
echo "host $(hostname) cpus $(nproc) $(date -u '+%F %T') UTC; load $(cut -d' ' -f1-3 /proc/loadavg)"
R=$OUT
M=(mpirun --oversubscribe --allow-run-as-root --bind-to none --mca mpi_yield_when_idle 1)
S=(-b 1M -e 64M -f 4 -n 20 -w 5 -d float -o sum --mem host)
for pass in 1 2; do for np in 2 4; do for cfg in "auto|TUTTI_NONE=0" "thr4|TUTTI_REDUCE_THREADS=4"; do
  IFS='|' read -r tag envs <<<"$cfg"
  [[ $np == 4 && $tag == thr4 ]] && continue
  "${M[@]}" -np $np -x $envs build/perf/all_reduce_perf "${S[@]}" > $R/one-$np-$tag-p$pass.txt 2>&1
  echo "p$pass 1x$np $tag: $(awk '!/^#/ && NF>=13 && $1 ~ /^[0-9]+$/ {printf "%s %s  ", $1, $8}' $R/one-$np-$tag-p$pass.txt)"
done; done; done
export BUILD_DIR=$PWD/build
OUT=$R/ns FLOOR_KIB=32768 STREAMS_CEILING="4" PASSES=2 LAYOUTS="1,1 2,2" MIN=16M MAX=64M \
  CONFIGS="sock:TUTTI_NET=socket sockthr4:TUTTI_NET=socket,TUTTI_REDUCE_THREADS=4" \
  timeout 300 perf/netns_streams.sh > $R/streams-table.txt 2>&1
echo "netns_streams rc $?"; grep -v "^| ---" $R/streams-table.txt | sed 's/ (TUTTI_[^)]*)//' | cut -d'|' -f1-11

#!/usr/bin/env bash
# Session 7, call 12: the final defaults (b49e05c: FIFOs by local ranks, reduce threads up
# to 8 for ranks whose peers are all local) on one host x 2/3/4 with OpenMPI under the same mpirun, 2 x 1 and 2 x 2 namespace hosts
# (sockets, UCX), two passes.
set -uo pipefail
export PATH=$PWD/.gl/iproute/bin:$PATH
tar -xJf .gl/netbin.tar.xz
mkdir -p /work/main/build/src && cp -f build/src/libtutti.so.0 /work/main/build/src/ 2>/dev/null
echo "host $(hostname) cpus $(nproc) $(date -u "+%F %T") UTC; load $(cut -d" " -f1-3 /proc/loadavg)"
R=$OUT
M=(mpirun --oversubscribe --allow-run-as-root --bind-to none --mca mpi_yield_when_idle 1)
S=(-b 1M -e 64M -f 4 -n 20 -w 5)
for pass in 1 2; do for np in 2 3 4; do
  "${M[@]}" -np $np build/perf/mpi_allreduce_bench "${S[@]}" > $R/ompi-$np-p$pass.txt 2>&1
  "${M[@]}" -np $np build/perf/all_reduce_perf "${S[@]}" -d float -o sum --mem host > $R/tutti-$np-p$pass.txt 2>&1
  echo "p$pass 1x$np OpenMPI: $(awk '!/^#/ && NF>=9 {printf "%s %s  ", $1, $8}' $R/ompi-$np-p$pass.txt)"
  echo "p$pass 1x$np Tutti:   $(awk '!/^#/ && NF>=13 && $1 ~ /^[0-9]+$/ {printf "%s %s %s  ", $1, $8, $9}' $R/tutti-$np-p$pass.txt)"
done; done
export BUILD_DIR=$PWD/build
OUT=$R/ns FLOOR_KIB=32768 STREAMS_CEILING="4" PASSES=2 LAYOUTS="1,1 2,2" MIN=1M MAX=64M \
  CONFIGS="sock:TUTTI_NET=socket ucx:TUTTI_NET=ucx" \
  timeout 300 perf/netns_streams.sh > $R/streams-table.txt 2>&1
echo "netns_streams rc $?"; grep -v "^| ---" $R/streams-table.txt | sed 's/ (TUTTI_[^)]*)//' | cut -d'|' -f1-11

#!/usr/bin/env bash
# Session 7, call 5: the node-internal part alone. One host (shared memory only), 2 and 4
# ranks, AllReduce float32 sum 4-64 MiB on host buffers, Tutti and OpenMPI (vader, CMA) under
# the same mpirun, two passes.
set -uo pipefail
tar -xJf .gl/netbin.tar.xz
mkdir -p /work/main/build/src && cp -f build/src/libtutti.so.0 /work/main/build/src/ 2>/dev/null
echo "host $(hostname) cpus $(nproc) $(date -u '+%F %T') UTC"
R=$OUT
M=(mpirun --oversubscribe --allow-run-as-root --bind-to none --mca mpi_yield_when_idle 1)
S=(-b 4M -e 64M -f 4 -n 20 -w 5)
for pass in 1 2; do for np in 2 4; do
  "${M[@]}" -np $np build/perf/mpi_allreduce_bench "${S[@]}" > $R/ompi-$np-p$pass.txt 2>&1
  "${M[@]}" -np $np -x TUTTI_DEBUG=INFO build/perf/all_reduce_perf "${S[@]}" -d float -o sum --mem host > $R/tutti-$np-p$pass.txt 2>&1
  echo "p$pass np=$np OpenMPI: $(awk '!/^#/ && NF>=9 {printf "%s %s  ", $1, $8}' $R/ompi-$np-p$pass.txt)"
  echo "p$pass np=$np Tutti:   $(awk '!/^#/ && NF>=13 && $1 ~ /^[0-9]+$/ {printf "%s %s  ", $1, $8}' $R/tutti-$np-p$pass.txt)"
done; done
grep -m2 -i "tuner\|AllReduce:" $R/tutti-2-p1.txt

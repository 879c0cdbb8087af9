#!/usr/bin/env bash
# Session 7, call 1: is the cold-memory cost of TCP steps the memory (DRAM/LLC) or the
# mapping of it 4 KiB at a time? Cold steps with huge pages, with buffers of several sizes;
# Tutti 2 x 1 64 MiB with the harness's buffers on huge pages.
set -uo pipefail
export PATH=$PWD/.gl/iproute/bin:$PATH
tar -xJf .gl/netbin.tar.xz
mkdir -p /work/main/build/src && cp -f build/src/libtutti.so.0 /work/main/build/src/ 2>/dev/null
R=$OUT; export BUILD_DIR=$PWD/build
{
echo "host $(hostname) cpus $(nproc) $(date -u '+%F %T') UTC"; uname -a
cat /sys/kernel/mm/transparent_hugepage/enabled /sys/kernel/mm/transparent_hugepage/defrag 2>&1
grep -i -E "huge|MemTotal" /proc/meminfo
lscpu | grep -i -E "model name|cache|NUMA|socket"
dmesg 2>/dev/null | head -3
} > $R/sys.txt 2>&1
head -30 $R/sys.txt
export HOSTS=$PWD/scripts/netns-hosts.sh
source perf/netns_lib.sh
N=tcl$$; "$HOSTS" up $N 2 >/dev/null
port=5500
echo "== TCP per direction GB/s (both directions at once)"
for pass in 1 2; do
  for cfg in "hot4|4|" "cold32M-4|4|-m 32768" "huge32M-4|4|-m 32768 --huge" "cold4M-4|4|-m 4096" "cold1M-4|4|-m 1024" "hotsteps-4|4|-m 32768 --hot 256" "hot1|1|" "cold32M-1|1|-m 32768" "huge32M-1|1|-m 32768 --huge"; do
    IFS='|' read -r tag s args <<<"$cfg"
    tcp_ceiling $N $s 3 $R/tcp-$tag-p$pass.txt $((port++)) $args
    echo "p$pass $tag: $(grep -o 'per_direction_GBps [0-9.]*' $R/tcp-$tag-p$pass.txt | awk '{print $2}') $(grep -i madvise $R/tcp-$tag-p$pass.txt | head -1)"
  done
done
echo "== Tutti 2 x 1 AllReduce float sum host, busbw GB/s (oop), sockets default"
for pass in 1 2; do for hp in 0 1; do
  timeout 60 scripts/netns-mpirun.sh $N 1,1 -x TUTTI_NET=socket -x TUTTI_PERF_HUGEPAGES=$hp -- \
    build/perf/all_reduce_perf -b 16M -e 64M -f 4 -n 20 -w 5 -d float -o sum --mem host > $R/tutti-hp$hp-p$pass.txt 2>&1
  echo "p$pass hugepages=$hp: $(grep -E '^ +(16777216|67108864) ' $R/tutti-hp$hp-p$pass.txt | awk '{printf "%s %s  ", $1, $8}')"
done; done
"$HOSTS" down $N
echo "== membw (copy GB/s) threads 1 4 8"
for t in 1 4 8; do echo "t$t $(.gl/membw $t 2)"; done

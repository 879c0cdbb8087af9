#!/usr/bin/env bash
# Compressed vs uncompressed AllReduce on CPU ranks of this machine (shared memory between
# ranks: NOT network-bound), one table per codec, plus the host codec throughput.
# Usage, from the repository root: perf/compression/cpu_compare.sh [build dir] [ranks ...]
# Default build-cpu, ranks 2 4. Sizes 1M..64M (-f 4), 3 warmup and 10 timed iterations.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build-cpu}
shift || true
ranks=("$@")
[ ${#ranks[@]} -eq 0 ] && ranks=(2 4)
echo "## $(date -u +%Y-%m-%dT%H:%MZ) on $(hostname): $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo '```'
"$build/perf/codec_bench" 16777216 5
echo '```'
for n in "${ranks[@]}"; do
  for c in none bf16 fp8_e4m3:32 int8:32 sign1:32 topk:0.01; do
    echo
    echo "### AllReduce, $n CPU ranks, ${c}"
    echo '```'
    "$build/perf/all_reduce_perf" --np "$n" --mem host -b 1M -e 64M -f 4 -w 3 -n 10 \
      $([ "$c" = none ] || echo --compress "$c") | grep -v '^#  Rank\|^# Using\|^# nThread\|^# Collective'
    echo '```'
  done
done

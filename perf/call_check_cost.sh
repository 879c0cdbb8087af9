#!/usr/bin/env bash
# The GPU call check's cost (issue 13): 8-byte AllReduce on device buffers, two ranks of one
# process (-g 2, the ranks side by side on one GPU), TUTTI_CHECK_CALLS=0 and 1 alternating, with
# plain launches (host launch included) and CUDA graphs (-G: kernel time alone). Prints the time
# per call (us) of each run and the median difference (on - off) per mode.
# Usage: perf/call_check_cost.sh [path/to/all_reduce_perf] [reps, default 5]
set -uo pipefail
bin=${1:-build-gpu/perf/all_reduce_perf}
reps=${2:-5}
export TUTTI_ALLOW_SHARED_GPU=1
rows=()
for rep in $(seq "$reps"); do
  for mode in launch graph; do
    for v in 0 1; do
      args=(-n 5000)
      [ "$mode" = graph ] && args=(-n 200 -G 20)
      # The time column of the 8-byte row (out of place).
      out=$(TUTTI_CHECK_CALLS=$v "$bin" -g 2 --mem device -b 8 -e 8 -w 200 "${args[@]}" 2>&1)
      t=$(awk '$1 == 8 {print $6; exit}' <<< "$out")
      echo "rep $rep $mode check=$v: ${t:-?} us"
      [ -n "$t" ] || tail -5 <<< "$out"
      rows+=("$mode $v ${t:-nan}")
    done
  done
done
printf '%s\n' "${rows[@]}" | python3 -c '
import sys, statistics as st
d = {}
for line in sys.stdin:
    mode, v, t = line.split()
    d.setdefault((mode, v), []).append(float(t))
print("| mode | check off (us, median) | check on (us, median) | on - off (us) |")
print("| --- | --- | --- | --- |")
for mode in ("launch", "graph"):
    off, on = st.median(d[(mode, "0")]), st.median(d[(mode, "1")])
    print(f"| {mode} | {off:.2f} | {on:.2f} | {on - off:+.2f} |")
'

#!/usr/bin/env bash
# The GPU call check's cost (issue 13): 8-byte AllReduce on device buffers, two ranks of one
# process (-g 2, the ranks side by side on one GPU), TUTTI_CHECK_CALLS=0, 1 and 2 alternating (CHECK_MODES), with
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
    for v in ${CHECK_MODES:-0 1 2}; do
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
modes = sorted({v for (_, v) in d})
print("| launch mode | " + " | ".join(f"TUTTI_CHECK_CALLS={v} (us, median)" for v in modes) + " | " +
      " | ".join(f"{v} - 0 (us)" for v in modes if v != "0") + " |")
print("| --- |" + " --- |" * (2 * len(modes) - 1))
for mode in ("launch", "graph"):
    med = {v: st.median(d[(mode, v)]) for v in modes}
    base = med["0"]
    print(f"| {mode} | " + " | ".join(f"{med[v]:.2f}" for v in modes) + " | " +
          " | ".join(f"{med[v] - base:+.2f}" for v in modes if v != "0") + " |")
'

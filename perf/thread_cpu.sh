#!/usr/bin/env bash
# CPU time of every thread of the processes named PATTERN over a window: which thread is the
# bottleneck of a run (a thread near 100% is; the library names its own, see base/thread_name.h).
#
#   perf/thread_cpu.sh PATTERN [DELAY_S] [WINDOW_S]   e.g. perf/thread_cpu.sh all_reduce_perf 3 2
#
# Waits DELAY_S (default 3) for the run to warm up, then prints, per thread, the share of one
# CPU it used (user + system) during WINDOW_S (default 2), and the machine's busy CPUs.
set -euo pipefail
PATTERN=$1
DELAY=${2:-3}
WINDOW=${3:-2}
sleep "$DELAY"
snap() {  # pid tid comm utime+stime (clock ticks) for every thread; then the machine's busy ticks
  local pid t
  for pid in $(pgrep -f "$PATTERN" || true); do
    for t in /proc/"$pid"/task/*; do
      # comm may hold spaces: fields after the closing parenthesis are fixed
      awk -v pid="$pid" -v tid="${t##*/}" '{
        s = $0; sub(/^[^(]*\(/, "", s); comm = substr(s, 1, index(s, ")") - 1);
        sub(/^.*\) /, "", s); split(s, f, " "); print pid, tid, comm, f[12] + f[13] }' "$t/stat" \
        2>/dev/null || true
    done
  done
  awk '/^cpu / { print "machine", "-", "busy", $2 + $3 + $4 + $7 + $8, $2 + $3 + $4 + $5 + $6 + $7 + $8 }' /proc/stat
}
a=$(snap)
sleep "$WINDOW"
b=$(snap)
HZ=$(getconf CLK_TCK)
python3 - "$HZ" "$WINDOW" <<PY
import sys
hz, window = float(sys.argv[1]), float(sys.argv[2])
def parse(text):
    d = {}
    for line in text.strip().splitlines():
        p = line.split()
        if p[0] == "machine":
            d["machine"] = (float(p[3]), float(p[4]))
        else:
            d[(p[0], p[1])] = (p[2], float(p[3]))
    return d
a, b = parse("""$a"""), parse("""$b""")
rows = []
for k, (comm, t1) in b.items():
    if k == "machine" or k not in a: continue
    rows.append((k[0], k[1], comm, (t1 - a[k][1]) / hz / window * 100))
rows.sort(key=lambda r: (r[0], -r[3]))
print("| pid | tid | thread | CPU % |")
print("| ---: | ---: | --- | ---: |")
for pid, tid, comm, pct in rows:
    if pct >= 1: print(f"| {pid} | {tid} | {comm} | {pct:.0f} |")
busy = (b["machine"][0] - a["machine"][0]) / max(1.0, b["machine"][1] - a["machine"][1])
print(f"machine busy: {busy * 100:.0f}% of all CPUs")
PY

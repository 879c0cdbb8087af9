#!/usr/bin/env bash
# Compressed vs uncompressed AllReduce where the network is the bottleneck (issue 12): 2 namespace
# hosts x 1 CPU rank, every host's veth egress rate-limited by tc (tbf, RATE), float32 sum on
# host buffers, 16-64 MiB; prints effective algbw (uncompressed bytes / time) per codec and its
# ratio to the uncompressed run of the same size. Needs root. Results:
# perf/results/2026-12-02-compression-network.md.
#
# Environment: BUILD_DIR (default build-cpu), RATE (1gbit), LAYOUT (1,1), ITERS (5), WARMUP (2),
# CODECS ("bf16 fp8_e4m3:32 int8:32 sign1:32"), OUT (default $BUILD_DIR/netns-compression),
# TABLE_ONLY=1 (print the table from the raw outputs already in OUT).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$REPO/build-cpu}"
RATE="${RATE:-1gbit}"
LAYOUT="${LAYOUT:-1,1}"
ITERS="${ITERS:-5}"
WARMUP="${WARMUP:-2}"
CODECS="${CODECS:-bf16 fp8_e4m3:32 int8:32 sign1:32}"
OUT="${OUT:-$BUILD_DIR/netns-compression}"
HOSTS="$REPO/scripts/netns-hosts.sh"
MPIRUN="$REPO/scripts/netns-mpirun.sh"
# shellcheck source=perf/netns_lib.sh
source "$REPO/perf/netns_lib.sh"

measure() {
cmake --build "$BUILD_DIR" -j2 --target all_reduce_perf tcp_bidir_bench >/dev/null
NAME="tutti$$"
netns_run_begin "$NAME" 2
"$HOSTS" limit "$NAME" "$RATE"
# The limited link's own ceiling, both directions at once.
tcp_ceiling "$NAME" 1 3 "$OUT/tcp.txt" 5302

SWEEP=(-b 16M -e 64M -f 2 -n "$ITERS" -w "$WARMUP" -d float -o sum --mem host)
"$MPIRUN" "$NAME" "$LAYOUT" -x TUTTI_NET=socket -- "$BUILD_DIR/perf/all_reduce_perf" \
  "${SWEEP[@]}" >"$OUT/none.txt"
for c in $CODECS; do
  "$MPIRUN" "$NAME" "$LAYOUT" -x TUTTI_NET=socket -- "$BUILD_DIR/perf/all_reduce_perf" \
    "${SWEEP[@]}" --compress "$c" >"$OUT/${c//:/_}.txt"
done

netns_run_end "$NAME"
}
[[ "${TABLE_ONLY:-0}" == 1 ]] || measure

python3 - "$OUT" "$RATE" "$LAYOUT" "$CODECS" <<'PY'
import datetime, os, platform, re, sys

out, rate, layout, codecs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4].split()

def rows(path):
    r = {}
    for line in open(path):
        f = line.split()
        if not f or line.startswith("#") or len(f) < 9 or not f[0].isdigit():
            continue
        r[int(f[0])] = f  # size count type redop root, then time algbw busbw #wrong per placement
    return r

tcp = open(f"{out}/tcp.txt").read()
per_dir = re.search(r"per_direction_GBps ([0-9.]+)", tcp).group(1)
meta = open(f"{out}/meta.txt").read().split("\n")
when = meta[0].replace("start ", "") + "; at the end: " + meta[1].replace("end ", "")
nranks = sum(int(x) for x in layout.split(","))
print(f"Measured {when} on {platform.node()} ({os.cpu_count()} CPUs, shared with "
      f"other agents), {len(layout.split(','))} namespace hosts x ranks {layout} ({nranks} ranks), "
      f"each host's veth egress limited to {rate} (tc tbf), Tutti sockets, AllReduce float32 sum, "
      f"host memory, out of place. Plain TCP on the limited link, both directions at once: "
      f"{per_dir} GB/s per direction.")
print()
base = rows(f"{out}/none.txt")
print("| codec | size | time (us) | effective algbw (GB/s) | vs uncompressed | wirebw (GB/s) "
      "| rel. L2 error |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
def algbw(size, f):  # GB/s from the time column, finer than the table's two decimals
    return size / float(f[5]) / 1e3

for size, f in sorted(base.items()):
    print(f"| none | {size >> 20} MiB | {f[5]} | {algbw(size, f):.3f} | 1.00x | - | - |")
for c in codecs:
    r = rows(f"{out}/{c.replace(':', '_')}.txt")
    for size, f in sorted(r.items()):
        ratio = float(base[size][5]) / float(f[5]) if size in base else 0  # same bytes: time ratio
        # Columns after the two placements: wirebw and relerr, out of place first.
        wire = f[13] if len(f) > 14 else "-"
        err = f[14] if len(f) > 14 else "-"
        print(f"| {c} | {size >> 20} MiB | {f[5]} | {algbw(size, f):.3f} | {ratio:.2f}x | {wire} "
              f"| {err} |")
PY

#!/usr/bin/env bash
# Small AllReduce across namespace hosts, in one run: Tutti over sockets with the tuner's choice
# and with each small-message plan forced (direct, recursive doubling), and OpenMPI over TCP
# (btl self,tcp) and with vader, at 8 B-64 KiB, many iterations (the 20-iteration sweeps of
# netns_compare.sh are warm-up bound at these sizes). Prints a markdown table of the time per
# call (us, out of place, slowest rank). Needs root (namespaces).
#
# Environment: BUILD_DIR (default build-cpu), LAYOUTS (default "2,2 1,1,1,1 1,1,1"), ITERS
# (1000), OUT (raw outputs, default $BUILD_DIR/netns-small).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$REPO/build-cpu}"
LAYOUTS="${LAYOUTS:-2,2 1,1,1,1 1,1,1}"
ITERS="${ITERS:-1000}"
OUT="${OUT:-$BUILD_DIR/netns-small}"
HOSTS="$REPO/scripts/netns-hosts.sh"
MPIRUN="$REPO/scripts/netns-mpirun.sh"
SWEEP=(-b 8 -e 64K -f 8 -n "$ITERS" -w 100)

cmake --build "$BUILD_DIR" -j2 --target all_reduce_perf mpi_allreduce_bench >/dev/null
mkdir -p "$OUT"
rm -f "$OUT"/*.txt
echo "start $(date -u '+%Y-%m-%d %H:%M') UTC, load $(cut -d' ' -f1-3 /proc/loadavg)" >"$OUT/meta.txt"

NAME="tutti$$"
trap '"$HOSTS" down "$NAME"' EXIT
for layout in $LAYOUTS; do
  hosts=$(($(tr -cd ',' <<<"$layout" | wc -c) + 1))
  "$HOSTS" up "$NAME" "$hosts" >/dev/null
  tag=${layout//,/x}
  for algo in auto direct recursive_doubling; do
    "$MPIRUN" "$NAME" "$layout" -x TUTTI_NET=socket -x TUTTI_ALGO="allreduce:$algo" -- \
      "$BUILD_DIR/perf/all_reduce_perf" "${SWEEP[@]}" --mem host >"$OUT/tutti-$algo-$tag.txt"
  done
  "$MPIRUN" "$NAME" "$layout" --mca pml ob1 --mca btl self,tcp -- \
    "$BUILD_DIR/perf/mpi_allreduce_bench" "${SWEEP[@]}" >"$OUT/openmpi-tcp-$tag.txt"
  "$MPIRUN" "$NAME" "$layout" --mca pml ob1 --mca btl self,vader,tcp -- \
    "$BUILD_DIR/perf/mpi_allreduce_bench" "${SWEEP[@]}" >"$OUT/openmpi-vader-$tag.txt"
  "$HOSTS" down "$NAME"
done
trap - EXIT
echo "end $(date -u '+%Y-%m-%d %H:%M') UTC, load $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/meta.txt"

python3 - "$OUT" "$LAYOUTS" <<'EOF'
import glob, os, sys
out, layouts = sys.argv[1], sys.argv[2].split()
rows = [("Tutti, tuner", "tutti-auto"), ("Tutti, direct", "tutti-direct"),
        ("Tutti, recursive doubling", "tutti-recursive_doubling"),
        ("OpenMPI tcp", "openmpi-tcp"), ("OpenMPI vader+tcp", "openmpi-vader")]
def times(path):
    t = {}
    for line in open(path):
        f = line.split()
        if len(f) > 6 and f[0].isdigit():
            t[int(f[0])] = f[5]
    return t
print(open(os.path.join(out, "meta.txt")).read().strip().replace("\n", "; "))
for layout in layouts:
    tag = layout.replace(",", "x")
    data = {name: times(os.path.join(out, f"{stem}-{tag}.txt")) for name, stem in rows}
    sizes = sorted({s for t in data.values() for s in t})
    print(f"\n{layout} ranks per host, time per AllReduce (us):\n")
    print("| library | " + " | ".join(f"{s} B" for s in sizes) + " |")
    print("| --- |" + " ---: |" * len(sizes))
    for name, _ in rows:
        print(f"| {name} | " + " | ".join(data[name].get(s, "-") for s in sizes) + " |")
EOF

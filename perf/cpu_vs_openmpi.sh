#!/usr/bin/env bash
# CPU AllReduce, Tutti vs OpenMPI: builds all_reduce_perf and mpi_allreduce_bench, runs both
# under the same mpirun (float sum, host memory, NP processes, 8 B to 64 MiB, same iteration
# rules) and prints a markdown table of time and busbw with the Tutti/OpenMPI ratio.
#
# Environment: BUILD_DIR (default build-perf; configured with CMAKE_ARGS when it is new),
# NP (2), MIN (8), MAX (64M), FACTOR (2), ITERS (100), WARMUP (10), REPEATS (3), OUT
# (directory for the raw tables, default $BUILD_DIR/cpu-vs-openmpi). Each library's sweep runs
# REPEATS times, alternating, and the table shows each size's median run: a sub-microsecond
# row of one sweep moves by 10-30% with one scheduling hiccup. Runs as root too (--allow-run-as-root); each
# rank is bound to a core when the host has a core per rank, else nothing is bound.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$REPO/build-perf}"
NP="${NP:-2}"
MIN="${MIN:-8}"
MAX="${MAX:-64M}"
FACTOR="${FACTOR:-2}"
ITERS="${ITERS:-100}"
WARMUP="${WARMUP:-10}"
REPEATS="${REPEATS:-3}"
OUT="${OUT:-$BUILD_DIR/cpu-vs-openmpi}"

if [[ ! -f "$BUILD_DIR/build.ninja" && ! -f "$BUILD_DIR/Makefile" ]]; then
  # shellcheck disable=SC2086 # CMAKE_ARGS is a list of options
  cmake -S "$REPO" -B "$BUILD_DIR" -G Ninja ${CMAKE_ARGS:-} >/dev/null
fi
cmake --build "$BUILD_DIR" -j"$(nproc)" --target all_reduce_perf mpi_allreduce_bench >/dev/null

MPIRUN=(mpirun -np "$NP" --oversubscribe)
if [[ "$(id -u)" == 0 ]]; then MPIRUN+=(--allow-run-as-root); fi
# Pinned ranks give both libraries the same stable cache placement; with fewer cores than
# ranks (CI-class machines) binding would stack ranks on one core, so none is bound.
if ((NP <= $(nproc))); then MPIRUN+=(--bind-to core); else MPIRUN+=(--bind-to none); fi
SWEEP=(-b "$MIN" -e "$MAX" -f "$FACTOR" -n "$ITERS" -w "$WARMUP")
mkdir -p "$OUT"

for ((i = 1; i <= REPEATS; ++i)); do
  "${MPIRUN[@]}" "$BUILD_DIR/perf/mpi_allreduce_bench" "${SWEEP[@]}" >"$OUT/openmpi.$i.txt"
  "${MPIRUN[@]}" "$BUILD_DIR/perf/all_reduce_perf" "${SWEEP[@]}" -d float -o sum --mem host \
    >"$OUT/tutti.$i.txt"
done

python3 - "$OUT" "$REPEATS" "$NP" <<'PY'
import os, platform, sys, datetime

def rows(path):
    out = {}
    for line in open(path):
        f = line.split()
        if not f or line.startswith("#") or len(f) < 13:
            continue
        out[int(f[0])] = (f[5], f[7], f[8])  # out-of-place time (us), busbw, #wrong
    return out

def median_rows(name, n):
    runs = [rows(f"{sys.argv[1]}/{name}.{i}.txt") for i in range(1, n + 1)]
    out = {}
    for size in set().union(*runs):
        have = sorted((r[size] for r in runs if size in r), key=lambda t: float(t[0]))
        mid = have[(len(have) - 1) // 2]  # the median run's row (lower median when even)
        wrong = sum(int(t[2]) for t in have if t[2].lstrip("-").isdigit())
        out[size] = (mid[0], mid[1], str(wrong) if any(t[2] != "N/A" for t in have) else "N/A")
    return out

repeats = int(sys.argv[2])
ompi, tutti, np_ = median_rows("openmpi", repeats), median_rows("tutti", repeats), sys.argv[3]
lib = next((l.split(" ranks, ", 1)[-1].split(", package")[0].strip()
            for l in open(f"{sys.argv[1]}/openmpi.1.txt")
            if l.startswith("# mpi_allreduce_bench")), "OpenMPI")
now = datetime.datetime.now(datetime.timezone.utc)
print(f"Measured {now:%Y-%m-%d %H:%M} UTC on {platform.node()} "
      f"({os.cpu_count()} CPUs), {np_} processes under one mpirun, float32 sum, out of place, "
      f"host memory, median of {repeats} alternating sweeps per library (#wrong: all sweeps). "
      f"OpenMPI: {lib}.")
print()
print("| size (B) | OpenMPI time (us) | OpenMPI busbw (GB/s) | Tutti time (us) "
      "| Tutti busbw (GB/s) | time Tutti/OpenMPI | #wrong (Tutti) |")
print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
ratios = {}
for size in sorted(set(ompi) | set(tutti)):
    o, t = ompi.get(size), tutti.get(size)
    ratio = "-"
    if o and t and float(o[0]) > 0:
        ratios[size] = float(t[0]) / float(o[0])
        ratio = f"{ratios[size]:.2f}"
    print(f"| {size} | {o[0] if o else '-'} | {o[1] if o else '-'} | {t[0] if t else '-'} "
          f"| {t[1] if t else '-'} | {ratio} | {t[2] if t else '-'} |")
if ratios:
    slower = [s for s, r in sorted(ratios.items()) if r > 1]
    worst = max(ratios, key=ratios.get)
    print()
    print(f"Tutti time <= OpenMPI's at {len(ratios) - len(slower)} of {len(ratios)} sizes; "
          f"worst ratio {ratios[worst]:.2f} at {worst} B"
          + (f"; slower at {', '.join(str(s) for s in slower)} B." if slower else "."))
PY

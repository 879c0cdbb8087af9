#!/usr/bin/env bash
# Two namespace hosts on this machine, in one run: the TCP ceiling between them (plain TCP
# streams, both directions at once), Tutti AllReduce float32 sum on host buffers over sockets
# (and UCX when registered) for 2 hosts x 1 and 2 hosts x 2 ranks, and OpenMPI's MPI_Allreduce
# across the same namespaces; prints a markdown table (8 B latency, 1-64 MiB busbw, ratios).
# Needs root (namespaces). Results: perf/results/2026-12-02-namespaces.md.
#
# Environment: BUILD_DIR (default build-cpu), MAX (64M), ITERS (20), WARMUP (5), TCP_SECONDS (3),
# SOCKET_STREAMS (TUTTI_SOCKET_STREAMS values for the socket runs, default "auto", the
# library's default; e.g. "auto 1 4" adds runs over exactly 1 and 4 TCP streams per peer),
# OUT (raw outputs, default $BUILD_DIR/netns-compare), OMPI_MCA (extra mpirun options for the
# OpenMPI run, default "--mca mpi_yield_when_idle 1": its ranks otherwise busy-poll the few
# cores that every rank here shares; netns-mpirun.sh adds the same option to every run, Tutti's
# included (its harness barrier is MPI's), unless given "--mca mpi_yield_when_idle 0", which
# restores OpenMPI's busy polling), TABLE_ONLY=1 (print
# the table from the raw outputs already in OUT), SKIP_BUILD=1 (BUILD_DIR/perf holds prebuilt
# binaries: no cmake).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$REPO/build-cpu}"
MAX="${MAX:-64M}"
ITERS="${ITERS:-20}"
WARMUP="${WARMUP:-5}"
TCP_SECONDS="${TCP_SECONDS:-3}"
OMPI_MCA="${OMPI_MCA---mca mpi_yield_when_idle 1}"
OUT="${OUT:-$BUILD_DIR/netns-compare}"
HOSTS="$REPO/scripts/netns-hosts.sh"
MPIRUN="$REPO/scripts/netns-mpirun.sh"
# shellcheck source=perf/netns_lib.sh
source "$REPO/perf/netns_lib.sh"

measure() {
[[ "${SKIP_BUILD:-0}" == 1 ]] || cmake --build "$BUILD_DIR" -j2 --target all_reduce_perf mpi_allreduce_bench tcp_bidir_bench \
  >/dev/null
NAME="tutti$$"
netns_run_begin "$NAME" 2

# TCP ceiling: 1 and 4 streams, each sending and receiving at once.
for s in 1 4; do tcp_ceiling "$NAME" "$s" "$TCP_SECONDS" "$OUT/tcp-$s.txt"; done

SWEEP=(-b 8 -e "$MAX" -f 2 -n "$ITERS" -w "$WARMUP")
nets=()
for s in ${SOCKET_STREAMS:-auto}; do
  if [[ "$s" == auto ]]; then nets+=(socket); else nets+=("socket$s"); fi
done
# UCX only when the transport is registered: its INFO line names "ucx" for the remote peer.
# (The output is captured first: `grep -q` exiting early would fail the pipe under pipefail.)
probe=$("$MPIRUN" "$NAME" 1,1 -x TUTTI_NET=ucx -x UCX_TLS=tcp -x TUTTI_DEBUG=INFO -- \
  "$BUILD_DIR/perf/all_reduce_perf" -b 8 -e 8 -n 1 -w 0 --mem host 2>&1 || true)
if grep -qE "ucx( \([^)]*\))? to rank" <<<"$probe"; then
  nets+=(ucx)
fi
for layout in 1,1 2,2; do
  tag=${layout//,/x}
  for net in "${nets[@]}"; do
    streams=${net#socket}
    [[ "$net" == socket* && -n "$streams" ]] || streams=auto
    TUTTI_SOCKET_STREAMS=$streams \
    "$MPIRUN" "$NAME" "$layout" -x TUTTI_NET="${net%%[0-9]*}" -x TUTTI_SOCKET_STREAMS \
      -x UCX_TLS=tcp -x UCX_NET_DEVICES=tnet0 -- \
      "$BUILD_DIR/perf/all_reduce_perf" "${SWEEP[@]}" -d float -o sum --mem host \
      >"$OUT/tutti-$net-$tag.txt"
  done
  # OpenMPI twice: TCP only (the network path, the reference for the ratios) and with vader,
  # which it may also use BETWEEN the namespace hosts: they share the hostname and /dev/shm, so
  # OpenMPI takes them for one node (8 B in ~10 us, below the veth's ~70 us one-way floor).
  # shellcheck disable=SC2086
  "$MPIRUN" "$NAME" "$layout" --mca pml ob1 --mca btl self,tcp $OMPI_MCA -- \
    "$BUILD_DIR/perf/mpi_allreduce_bench" "${SWEEP[@]}" >"$OUT/openmpi-$tag.txt"
  # shellcheck disable=SC2086
  "$MPIRUN" "$NAME" "$layout" --mca pml ob1 --mca btl self,vader,tcp $OMPI_MCA -- \
    "$BUILD_DIR/perf/mpi_allreduce_bench" "${SWEEP[@]}" >"$OUT/openmpi-shm-$tag.txt"
done
netns_run_end "$NAME"
}
[[ "${TABLE_ONLY:-0}" == 1 ]] || measure

OMPI_MCA="$OMPI_MCA" python3 - "$OUT" <<'PY'
import datetime, glob, os, platform, re, sys

out = sys.argv[1]

def rows(path):
    r = {}
    for line in open(path):
        f = line.split()
        if not f or line.startswith("#") or len(f) < 9 or not f[0].isdigit():
            continue
        r[int(f[0])] = (float(f[5]), float(f[7]), f[8])  # out-of-place time (us), busbw, #wrong
    return r

def tcp(s):
    m = re.search(r"per_direction_GBps ([0-9.]+)", open(f"{out}/tcp-{s}.txt").read())
    t = re.search(r"total_GBps ([0-9.]+)", open(f"{out}/tcp-{s}.txt").read())
    return float(m.group(1)), float(t.group(1))

ceil = {s: tcp(s) for s in (1, 4)}
best = max(v[0] for v in ceil.values())
ompi_lib = "OpenMPI"
for p in glob.glob(f"{out}/openmpi-*.txt"):
    for l in open(p):
        if l.startswith("# mpi_allreduce_bench"):
            ompi_lib = l.split(" ranks, ", 1)[-1].split(", package")[0].strip()
meta = open(f"{out}/meta.txt").read().split("\n")
when = meta[0].replace("start ", "") + "; at the end: " + meta[1].replace("end ", "")
print(f"Measured {when} on {platform.node()} ({os.cpu_count()} CPUs, shared "
      f"with other agents' builds and tests), 2 network-namespace hosts joined by veth pairs and a "
      f"bridge, AllReduce float32 sum, host memory, out of place, time of the slowest rank. "
      f"OpenMPI: {ompi_lib} (pml ob1; 'tcp': btl self,tcp, every byte over the veth, the "
      f"reference for the ratios; 'vader+tcp': btl self,vader,tcp, where OpenMPI may use shared "
      f"memory between the namespace hosts, which share a hostname and /dev/shm; "
      f"options: {os.environ.get('OMPI_MCA') or 'defaults'}).")
print()
print("TCP ceiling (tcp_bidir_bench, both directions at once): " +
      ", ".join(f"{s} stream(s): {ceil[s][0]:.3f} GB/s per direction ({ceil[s][1]:.3f} total)"
                for s in (1, 4)) + f". Ratios below use the best, {best:.3f} GB/s.")
print()
sizes = [1 << 20, 4 << 20, 16 << 20, 64 << 20]
print("| layout | library | 8 B (us) | " + " | ".join(f"busbw {s >> 20} MiB (GB/s)" for s in sizes)
      + " | 64 MiB vs OpenMPI | 64 MiB vs TCP ceiling | #wrong |")
print("| --- | --- | ---: | " + " | ".join("---:" for _ in sizes) + " | ---: | ---: | ---: |")
for tag in ("1x1", "2x2"):
    ompi = rows(f"{out}/openmpi-{tag}.txt")
    libs = [("OpenMPI tcp", ompi)]
    if os.path.exists(f"{out}/openmpi-shm-{tag}.txt"):
        libs.append(("OpenMPI vader+tcp", rows(f"{out}/openmpi-shm-{tag}.txt")))
    def streams(p):  # tutti-socket4-1x1.txt: 4 streams per peer; tutti-socket-1x1.txt: auto
        m = re.search(r"tutti-socket(\d*)-", p)
        return (0, int(m.group(1) or 0)) if m else (1, 0)
    for p in sorted(glob.glob(f"{out}/tutti-*-{tag}.txt"), key=streams):
        net = os.path.basename(p)[len("tutti-"):-len(f"-{tag}.txt")]
        m = re.fullmatch(r"socket(\d+)", net)
        libs.append((f"Tutti socket x{m.group(1)} streams" if m else
                     "Tutti socket (auto streams)" if net == "socket" else f"Tutti {net}", rows(p)))
    layout = {"1x1": "2 hosts x 1", "2x2": "2 hosts x 2"}[tag]
    for name, r in libs:
        big = max(r) if r else None
        lat = f"{r[8][0]:.1f}" if 8 in r else "-"
        bws = " | ".join(f"{r[s][1]:.3f}" if s in r else "-" for s in sizes)
        vs_ompi = (f"{r[big][1] / ompi[big][1]:.2f}x" if big in ompi and ompi[big][1] > 0
                   and not name.startswith("OpenMPI") else "-")
        vs_tcp = f"{r[big][1] / best:.2f}x" if big else "-"
        wrong = (sum(int(v[2]) for v in r.values() if v[2].isdigit())
                 if not name.startswith("OpenMPI") else "-")
        print(f"| {layout} | {name} | {lat} | {bws} | {vs_ompi} | {vs_tcp} | {wrong} |")
PY

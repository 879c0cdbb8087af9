#!/usr/bin/env bash
# The 8 B latency between two namespace hosts against each path's own floor, in one run: the
# mean round of an 8-byte exchange (both sides send 8 bytes and poll for the other's) over
# plain TCP (tcp_bidir_bench --exchange) and over UCX's tagged messages on one worker
# (ucx_bidir_bench --exchange, UCX_TLS=tcp), then Tutti's 8 B AllReduce (float32 sum, host
# buffers, 2 hosts x 1) over sockets and over UCX. A 2-rank 8 B AllReduce is one such exchange
# plus the library's own work, so the difference is what Tutti adds. Needs root (namespaces).
#
# Environment: BUILD_DIR (default build-cpu), PASSES (3: interleaved), ROUNDS (5000 exchanges),
# ITERS (2000 AllReduce iterations), OUT (raw outputs, default $BUILD_DIR/netns-latency).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$REPO/build-cpu}"
PASSES="${PASSES:-3}"
ROUNDS="${ROUNDS:-5000}"
ITERS="${ITERS:-2000}"
OUT="${OUT:-$BUILD_DIR/netns-latency}"
HOSTS="$REPO/scripts/netns-hosts.sh"
MPIRUN="$REPO/scripts/netns-mpirun.sh"
# shellcheck source=perf/netns_lib.sh
source "$REPO/perf/netns_lib.sh"

NAME="tlat$$"
netns_run_begin "$NAME" 2

port=5501
for pass in $(seq "$PASSES"); do
  tcp_ceiling "$NAME" 1 1 "$OUT/tcp-p$pass.txt" $((port++)) --exchange "$ROUNDS"
  ucx_ceiling "$NAME" 1 "$OUT/ucx-p$pass.txt" $((port++)) --exchange "$ROUNDS"
  for net in socket ucx; do
    env=(-x "TUTTI_NET=$net")
    [ $net = ucx ] && env+=(-x UCX_TLS=tcp -x UCX_NET_DEVICES=tnet0)
    "$MPIRUN" "$NAME" 1,1 "${env[@]}" -- "$BUILD_DIR/perf/all_reduce_perf" -b 8 -e 8 \
      -n "$ITERS" -w 200 -d float -o sum --mem host >"$OUT/tutti-$net-p$pass.txt" 2>&1 || true
  done
done
netns_run_end "$NAME"

PASSES="$PASSES" python3 - "$OUT" <<'PY'
import os, re, sys
out = sys.argv[1]
def exchange(f):
    m = re.search(r"exchange_us ([0-9.]+)", open(f).read()) if os.path.exists(f) else None
    return float(m.group(1)) if m else None
def tutti(f):
    if not os.path.exists(f): return None
    for line in open(f):
        c = line.split()
        if len(c) >= 13 and c[0] == "8": return float(c[5])
    return None
print(open(f"{out}/meta.txt").read().strip().replace("\n", "; "))
print()
print("| pass | TCP exchange (us) | Tutti sockets 8 B (us) | sockets / TCP | UCX exchange (us) | Tutti UCX 8 B (us) | UCX / UCX exchange |")
print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
fmt = lambda v: "-" if v is None else f"{v:.1f}"
ratio = lambda a, b: "-" if a is None or b is None else f"{a / b:.2f}x"
for p in range(1, int(os.environ["PASSES"]) + 1):
    t, u = exchange(f"{out}/tcp-p{p}.txt"), exchange(f"{out}/ucx-p{p}.txt")
    ts, tu = tutti(f"{out}/tutti-socket-p{p}.txt"), tutti(f"{out}/tutti-ucx-p{p}.txt")
    print(f"| {p} | {fmt(t)} | {fmt(ts)} | {ratio(ts, t)} | {fmt(u)} | {fmt(tu)} | {ratio(tu, u)} |")
PY

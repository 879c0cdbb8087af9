#!/usr/bin/env bash
# Sockets striped over several TCP streams between two namespace hosts, side by side with the
# TCP ceiling of as many plain streams, in one run: AllReduce float32 sum on host buffers,
# 2 hosts x 1 and 2 hosts x 2 ranks, one line per configuration of Tutti's socket transport.
# Needs root (namespaces). Results: perf/results/2026-12-03-h200x1-streams-direct.md.
#
# Environment: BUILD_DIR (default build-cpu), LAYOUTS ("1,1 2,2"), STREAMS_CEILING ("1 4 8":
# the plain-TCP stream counts measured), FLOOR_KIB (32768: the message floor of those counts,
# tcp_bidir_bench -m, 2 x 1 64 MiB AllReduce traffic; 0 skips it), TCP_SECONDS (3), ITERS (20),
# WARMUP (5), AUTO_WORKERS (4: the stripe workers TUTTI_UCX_WORKERS=auto gives UCX here, and
# the streams TUTTI_SOCKET_STREAMS=auto gives sockets: the TCP connections a configuration that
# does not set the count uses), CEILING_UCX_KIB ("": the UCX ceiling, ucx_bidir_bench, with these message sizes in
# KiB, e.g. "32 256"; with FLOOR_KIB also UCX's message floor in 32 KiB pieces, which the
# "vs message floor" column of UCX configurations uses), CEILING_UCX_LANES ("": UCX's ceiling
# over these numbers of lanes, each a worker on a thread of its own, e.g. "4"; with FLOOR_KIB
# also their message floor; with COLD_MIB, 64 by default and 0 to skip, also their rate
# streaming from and into cold buffers of that size, as a collective's are), MIN (1M), MAX (64M), OUT (raw outputs,
# default $BUILD_DIR/netns-streams), PASSES (1: each pass runs every configuration once, so
# passes interleave A/B), CEILING_EACH_PASS (0; 1: the TCP ceiling and message floor are measured
# again at the start of every pass, and each pass's ratios use its own, for machines whose speed
# drifts between passes, as a shared VM's does), and CONFIGS: one word
# per run, NAME:VAR=VALUE,VAR=VALUE (default below; TUTTI_NET=socket unless the word sets
# TUTTI_NET, and TUTTI_NET=ucx adds UCX_TLS=tcp and UCX_NET_DEVICES=tnet0).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$REPO/build-cpu}"
LAYOUTS="${LAYOUTS:-1,1 2,2}"
STREAMS_CEILING="${STREAMS_CEILING:-1 4 8}"
TCP_SECONDS="${TCP_SECONDS:-3}"
FLOOR_KIB="${FLOOR_KIB:-32768}"
CEILING_UCX_KIB="${CEILING_UCX_KIB:-}"
CEILING_UCX_LANES="${CEILING_UCX_LANES:-}"
COLD_MIB="${COLD_MIB:-64}"
ITERS="${ITERS:-20}"
WARMUP="${WARMUP:-5}"
PASSES="${PASSES:-1}"
OUT="${OUT:-$BUILD_DIR/netns-streams}"
CONFIGS="${CONFIGS:-s1:TUTTI_SOCKET_STREAMS=1 s4-ring:TUTTI_SOCKET_STREAMS=4,TUTTI_SOCKET_DIRECT_BYTES=0 s4:TUTTI_SOCKET_STREAMS=4 s8:TUTTI_SOCKET_STREAMS=8}"
HOSTS="$REPO/scripts/netns-hosts.sh"
MPIRUN="$REPO/scripts/netns-mpirun.sh"
# shellcheck source=perf/netns_lib.sh
source "$REPO/perf/netns_lib.sh"

NAME="tstr$$"
netns_run_begin "$NAME" 2

# tcp_ceilings SUFFIX: the TCP ceiling (and message floor) of each STREAMS_CEILING count, into
# tcp-S$SUFFIX.txt (floor-S$SUFFIX.txt).
tcp_ceilings() {
  for s in $STREAMS_CEILING; do
    tcp_ceiling "$NAME" "$s" "$TCP_SECONDS" "$OUT/tcp-$s$1.txt"
    if [ "$FLOOR_KIB" != 0 ]; then
      tcp_ceiling "$NAME" "$s" "$TCP_SECONDS" "$OUT/floor-$s$1.txt" 5302 -m "$FLOOR_KIB"
    fi
  done
}
[ "${CEILING_EACH_PASS:-0}" = 1 ] || tcp_ceilings ""
for c in $CEILING_UCX_KIB; do
  ucx_ceiling "$NAME" "$TCP_SECONDS" "$OUT/ucx-$c.txt" 5401 -c "$c"
done
if [ -n "$CEILING_UCX_KIB" ] && [ "$FLOOR_KIB" != 0 ]; then
  ucx_ceiling "$NAME" "$TCP_SECONDS" "$OUT/ucxfloor.txt" 5402 -c 32 -m "$FLOOR_KIB"
fi
port=5410
for l in $CEILING_UCX_LANES; do
  ucx_ceiling "$NAME" "$TCP_SECONDS" "$OUT/ucxlanes-$l.txt" $((port++)) -l "$l"
  if [ "$FLOOR_KIB" != 0 ]; then
    ucx_ceiling "$NAME" "$TCP_SECONDS" "$OUT/ucxlanesfloor-$l.txt" $((port++)) -l "$l" -m "$FLOOR_KIB"
  fi
  if [ "$COLD_MIB" != 0 ]; then
    ucx_ceiling "$NAME" "$TCP_SECONDS" "$OUT/ucxlanescold-$l.txt" $((port++)) -l "$l" --cold "$COLD_MIB"
  fi
done

for pass in $(seq "$PASSES"); do
  [ "${CEILING_EACH_PASS:-0}" != 1 ] || tcp_ceilings "-p$pass"
  for layout in $LAYOUTS; do
    for cfg in $CONFIGS; do
      name=${cfg%%:*}
      env=()
      IFS=, read -r -a vars <<<"${cfg#*:}"
      for v in "${vars[@]}"; do env+=(-x "$v"); done
      case ",${cfg#*:}," in
        *,TUTTI_NET=ucx,*) env+=(-x UCX_TLS=tcp -x UCX_NET_DEVICES=tnet0) ;;
        *,TUTTI_NET=*) ;;
        *) env+=(-x TUTTI_NET=socket) ;;
      esac
      "$MPIRUN" "$NAME" "$layout" "${env[@]}" -- \
        "$BUILD_DIR/perf/all_reduce_perf" -b "${MIN:-1M}" -e "${MAX:-64M}" -f 4 -n "$ITERS" \
        -w "$WARMUP" -d float -o sum --mem host \
        >"$OUT/tutti-$name-${layout//,/x}-p$pass.txt" 2>&1 || true
    done
  done
done
netns_run_end "$NAME"

AUTO_WORKERS="${AUTO_WORKERS:-4}" PASSES="$PASSES" CONFIGS="$CONFIGS" LAYOUTS="$LAYOUTS" python3 - "$OUT" <<'PY'
import os, re, sys
out = sys.argv[1]
# ceils/floors: pass (None: measured once for every pass) -> streams -> GB/s
ceils, floors, uceil, ufloor, lanes, lanesfloor, lanescold = {}, {}, {}, None, {}, {}, {}
for f in os.listdir(out):
    m = re.fullmatch(r"ucx-(\d+)\.txt", f)
    if m:
        g = re.search(r"per_direction_GBps ([0-9.]+)", open(f"{out}/{f}").read())
        if g: uceil[int(m.group(1))] = float(g.group(1))
    if f == "ucxfloor.txt":
        g = re.search(r"per_direction_GBps ([0-9.]+)", open(f"{out}/{f}").read())
        if g: ufloor = float(g.group(1))
    m = re.fullmatch(r"ucxlanes(floor|cold)?-(\d+)\.txt", f)
    if m:
        g = re.search(r"per_direction_GBps ([0-9.]+)", open(f"{out}/{f}").read())
        kind = {"floor": lanesfloor, "cold": lanescold}.get(m.group(1), lanes)
        if g: kind[int(m.group(2))] = float(g.group(1))
    m = re.fullmatch(r"(tcp|floor)-(\d+)(?:-p(\d+))?\.txt", f)
    if m:
        g = re.search(r"per_direction_GBps ([0-9.]+)", open(f"{out}/{f}").read())
        p = int(m.group(3)) if m.group(3) else None
        if g: (ceils if m.group(1) == "tcp" else floors).setdefault(p, {})[int(m.group(2))] = float(g.group(1))
print(open(f"{out}/meta.txt").read().strip().replace("\n", "; "))
for p in sorted(ceils, key=lambda k: k or 0):
    when = f" (pass {p})" if p else ""
    print(f"TCP ceiling per direction, both directions at once{when}: " +
          ", ".join(f"{s} stream(s) {v:.2f} GB/s" for s, v in sorted(ceils[p].items())))
    if p in floors:
        print(f"Message floor (the same streams moving 2 x 1 AllReduce steps, no arithmetic){when}: " +
              ", ".join(f"{s} stream(s) {v:.2f} GB/s" for s, v in sorted(floors[p].items())))
if uceil:
    print("UCX ceiling (tagged messages from a hot buffer, both directions, one thread): " +
          ", ".join(f"{c} KiB messages {v:.2f} GB/s" for c, v in sorted(uceil.items())))
if ufloor:
    print(f"UCX message floor (2 x 1 AllReduce steps in 32 KiB pieces, no staging): {ufloor:.2f} GB/s")
if lanes:
    print("UCX ceiling over lanes (a worker on a thread of its own each, 32 KiB messages): " +
          ", ".join(f"{l} lane(s) {v:.2f} GB/s" for l, v in sorted(lanes.items())) +
          ("; message floor " + ", ".join(f"{l} lane(s) {v:.2f} GB/s"
                                          for l, v in sorted(lanesfloor.items()))
           if lanesfloor else "") +
          ("; from cold buffers " + ", ".join(f"{l} lane(s) {v:.2f} GB/s"
                                              for l, v in sorted(lanescold.items()))
           if lanescold else ""))
print()
print("| hosts x ranks | config | pass | 1 MiB | 4 MiB | 16 MiB | 64 MiB | 64 MiB vs ceiling of its streams | vs 1 stream | vs message floor | vs UCX over as many lanes | vs UCX lanes, cold | #wrong |")
print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for layout in os.environ["LAYOUTS"].split():
    tag = layout.replace(",", "x")
    counts = layout.split(",")
    # "2 x 1" for two hosts of one rank; "3 x (1, 2, 1)" where the hosts differ.
    shape = f"{len(counts)} x {counts[0]}" if len(set(counts)) == 1 else f"{len(counts)} x ({', '.join(counts)})"
    for p, cfg in ((p, c) for p in range(1, int(os.environ["PASSES"]) + 1)
                   for c in os.environ["CONFIGS"].split()):
        name, env = cfg.split(":", 1)
        ceil, floor = ceils.get(p, ceils.get(None, {})), floors.get(p, floors.get(None, {}))
        # Sockets without a count run TUTTI_SOCKET_STREAMS=auto: as many as UCX's auto workers.
        streams = int((re.search(r"TUTTI_SOCKET_STREAMS=(\d+)", env) or
                       [0, os.environ.get("AUTO_WORKERS", "4")])[1])
        if "TUTTI_NET=ucx" in env:  # TCP connections: its stripe workers (auto: AUTO_WORKERS)
            streams = int((re.search(r"TUTTI_UCX_WORKERS=(\d+)", env) or
                           [0, os.environ.get("AUTO_WORKERS", "4")])[1])
        r, wrong = {}, 0
        try:
            for line in open(f"{out}/tutti-{name}-{tag}-p{p}.txt"):
                f = line.split()
                if len(f) >= 9 and f[0].isdigit():
                    r[int(f[0])] = float(f[7])
                    wrong += int(f[8]) if f[8].isdigit() else 0
        except FileNotFoundError:
            pass
        cells = " | ".join(f"{r[s << 20]:.2f}" if (s << 20) in r else "-" for s in (1, 4, 16, 64))
        big = r.get(64 << 20)
        c = ceil.get(streams) or ceil.get(max([k for k in ceil if k <= streams] or [1]))
        vs = f"{big / c:.2f}x" if big and c else "-"
        vs1 = f"{big / ceil[1]:.2f}x" if big and 1 in ceil else "-"
        fl = floor.get(streams)
        if "TUTTI_NET=ucx" in env:
            fl = lanesfloor.get(streams) or (ufloor if streams == 1 else None)
        vsf = f"{big / fl:.2f}x" if big and fl else "-"
        ul = lanes.get(streams) if "TUTTI_NET=ucx" in env else None
        vsl = f"{big / ul:.2f}x" if big and ul else "-"
        uc = lanescold.get(streams) if "TUTTI_NET=ucx" in env else None
        vsc = f"{big / uc:.2f}x" if big and uc else "-"
        print(f"| {shape} | {name} ({env}) | {p} | {cells} | {vs} | {vs1} | {vsf} | {vsl} | {vsc} | {wrong} |")
PY

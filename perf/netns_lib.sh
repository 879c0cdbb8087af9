# shellcheck shell=bash
# Shared by the perf/netns_*.sh scripts (sourced, not run): they set HOSTS (scripts/netns-hosts.sh)
# and BUILD_DIR first.

# tcp_ceiling NAME STREAMS SECONDS OUT [PORT [ARGS...]]: the throughput of STREAMS plain TCP
# streams from host 0 to host 1 of the namespace set NAME and back, both directions at once
# (tcp_bidir_bench), the ceiling a collective over that path is compared with; ARGS go to both
# sides (-m KIB: the message floor instead, see tcp_bidir_bench.cc). The connecting side's
# report goes to OUT, the listening side's next to it (OUT with -listen before .txt).
tcp_ceiling() {
  local name=$1 streams=$2 secs=$3 out=$4 port=${5:-5301} peer listener
  shift $(($# < 5 ? $# : 5))
  peer="$("$HOSTS" addr "$name" 1)"
  "$HOSTS" exec "$name" 1 "$BUILD_DIR/perf/tcp_bidir_bench" --listen "$peer:$port" \
    -s "$streams" -t "$secs" "$@" >"${out%.txt}-listen.txt" &
  listener=$!
  "$HOSTS" exec "$name" 0 "$BUILD_DIR/perf/tcp_bidir_bench" --connect "$peer:$port" \
    -s "$streams" -t "$secs" "$@" >"$out"
  wait "$listener"
}

# ucx_ceiling NAME SECONDS OUT [PORT [ARGS...]]: what UCX's tagged messages carry over the same
# path, both directions at once (ucx_bidir_bench over UCX_TLS=tcp on the hosts' veth, tnet0);
# ARGS go to both sides (-c CHUNK_KIB, -w WINDOW, -l LANES: workers on threads of their own, as
# Tutti's stripe workers). Reports as tcp_ceiling does.
ucx_ceiling() {
  local name=$1 secs=$2 out=$3 port=${4:-5401} peer listener
  shift $(($# < 4 ? $# : 4))
  peer="$("$HOSTS" addr "$name" 1)"
  UCX_TLS=tcp UCX_NET_DEVICES=tnet0 "$HOSTS" exec "$name" 1 "$BUILD_DIR/perf/ucx_bidir_bench" \
    --listen "$peer:$port" -t "$secs" "$@" >"${out%.txt}-listen.txt" 2>&1 &
  listener=$!
  UCX_TLS=tcp UCX_NET_DEVICES=tnet0 "$HOSTS" exec "$name" 0 "$BUILD_DIR/perf/ucx_bidir_bench" \
    --connect "$peer:$port" -t "$secs" "$@" >"$out" 2>&1
  wait "$listener"
}

# netns_run_begin NAME HOSTS: empties $OUT, notes when and under what load the run starts
# ($OUT/meta.txt, which the scripts' tables print), and brings up HOSTS namespace hosts as NAME,
# taken down again when the script exits, whatever happens.
netns_run_begin() {
  mkdir -p "$OUT"
  rm -f "$OUT"/*.txt
  echo "start $(date -u '+%Y-%m-%d %H:%M') UTC, load $(cut -d' ' -f1-3 /proc/loadavg)" >"$OUT/meta.txt"
  # shellcheck disable=SC2064  # NAME is fixed now, on purpose
  trap "\"$HOSTS\" down \"$1\"" EXIT
  "$HOSTS" up "$1" "$2" >/dev/null
}

# netns_run_end NAME: takes the hosts down and notes when the run ended and the load then.
netns_run_end() {
  "$HOSTS" down "$1"
  trap - EXIT
  echo "end $(date -u '+%Y-%m-%d %H:%M') UTC, load $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/meta.txt"
}

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

#!/usr/bin/env bash
# Session 9, call 6: the socket step cost of the cost model (40 us) against this box. Host
# buffers across namespace hosts over sockets, 2 x 2 and 4 x 1: the tuner with the default and
# with socket.alpha=12, and each plan forced, 8 B-256 KiB, two interleaved rounds.
set -uo pipefail
export PATH=$PWD/.gl/iproute/bin:$PATH OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
echo "host $(hostname) cpus $(nproc) $(date -u '+%F %T') UTC; load $(cut -d' ' -f1-3 /proc/loadavg)"
NAME=tcal$$
trap 'scripts/netns-hosts.sh down $NAME >/dev/null 2>&1' EXIT
scripts/netns-hosts.sh up $NAME 4 > /dev/null || { echo "namespaces failed"; exit 1; }
B=$PWD/build/perf/all_reduce_perf
for round in 1 2; do for layout in 2,2 1,1,1,1; do
  for cfg in auto auto40 ring two_shot direct recursive_doubling hierarchical; do
    [ "$layout" = 1,1,1,1 ] && [ "$cfg" = hierarchical ] && continue
    env=(-x TUTTI_NET=socket)
    case $cfg in
      auto) ;;
      auto40) env+=(-x TUTTI_TUNER_PARAMS=socket.alpha=40,socket.ll_alpha=40) ;;
      *) env+=(-x TUTTI_ALGO=allreduce:$cfg) ;;
    esac
    f=$OUT/r$round-${layout//,/x}-$cfg.txt
    timeout 40 scripts/netns-mpirun.sh $NAME $layout "${env[@]}" -- $B -b 8 -e 256K -f 8 -n 100 -w 20 --mem host -c 1 > $f 2>&1
    echo "r$round ${layout//,/x} $cfg: $(awk '$1 ~ /^[0-9]+$/ && NF >= 12 {printf "%s:%s/%s ", $1, $6, $10}' $f)"
  done
done; done
echo "end $(date -u '+%F %T') load $(cut -d' ' -f1-3 /proc/loadavg)"

#!/usr/bin/env bash
# mpirun across namespace hosts made by netns-hosts.sh: a hostfile of the host names (added to
# /etc/hosts), netns-rsh-agent.sh as OpenMPI's rsh agent (it sets TUTTI_HOSTID per host), and
# OpenMPI's and Tutti's TCP confined to the veth. mpirun itself runs inside host 0.
#
#   netns-mpirun.sh NAME RANKS_PER_HOST [mpirun options] -- PROGRAM ARGS...
#   e.g. netns-mpirun.sh tutti123 2,2 -x TUTTI_DEBUG -- build-cpu/perf/all_reduce_perf -b 8 -e 1M
#
# RANKS_PER_HOST is a comma list, one count per host (1,2,1 puts 4 ranks on 3 hosts).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
[[ $# -ge 4 ]] || { sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
name=$1 layout=$2
shift 2
extra=()
while [[ $# -gt 0 && "$1" != "--" ]]; do extra+=("$1"); shift; done
[[ "${1:-}" == "--" ]] || { echo "netns-mpirun: missing -- before the program" >&2; exit 2; }
shift

IFS=, read -r -a counts <<<"$layout"
mapfile -t hosts < <("$HERE/netns-hosts.sh" names "$name")
[[ ${#counts[@]} -le ${#hosts[@]} ]] || { echo "netns-mpirun: $layout needs ${#counts[@]} hosts, $name has ${#hosts[@]}" >&2; exit 2; }
"$HERE/netns-hosts.sh" etc-hosts "$name"
hostfile=$(mktemp /tmp/netns-hostfile.XXXXXX)
trap 'rm -f "$hostfile"' EXIT
np=0
for i in "${!counts[@]}"; do
  echo "${hosts[$i]} slots=${counts[$i]} max_slots=${counts[$i]}" >>"$hostfile"
  np=$((np + counts[i]))
done

# No CPU binding unless the caller asks for one: every namespace host is the same machine, and
# OpenMPI binds each host's ranks as if it owned every core (np <= 2: to a core), so with one
# rank per host all of them landed on CPU 0 and ran at a third of the TCP ceiling on 2 CPUs.
bind=(--bind-to none)
for a in "${extra[@]}"; do [[ "$a" == --bind-to || "$a" == *hwloc_base_binding_policy* ]] && bind=(); done

# OpenMPI idles by yielding unless the caller says otherwise: each namespace host looks like
# a machine of its own with a core per rank, so OpenMPI busy-polls (without sched_yield) in
# every blocking call, and its ranks' MPI_Barrier, the harness's timing barrier, kept the cores
# from the ranks that had already left it: ~3 ms a timed loop, ~150 us on each of 20
# iterations of an 8 B AllReduce over 2 hosts x 2 ranks (perf/NOTES.md, issue 11).
idle=(--mca mpi_yield_when_idle 1)
for a in "${extra[@]}"; do [[ "$a" == *yield_when_idle* ]] && idle=(); done

# The launcher is named, not left to the environment: containers often set OMPI_MCA_plm=isolated
# (the GPU box does), which starts nothing on other hosts and reports "not enough slots".
ifname=tnet0
args=(mpirun --allow-run-as-root -np "$np" --hostfile "$hostfile" --map-by slot "${bind[@]}"
      "${idle[@]}"
      --mca plm rsh --mca plm_rsh_agent "$HERE/netns-rsh-agent.sh"
      --mca oob_tcp_if_include "$ifname" --mca btl_tcp_if_include "$ifname"
      -x TUTTI_SOCKET_IFNAME="=$ifname" "${extra[@]}" "$@")
# Host 0 runs mpirun (and its own ranks); the other hosts' orteds start through the agent.
# Every host has its own hostname and TUTTI_HOSTID (netns-hosts.sh exec).
"$HERE/netns-hosts.sh" exec "$name" 0 "${args[@]}"

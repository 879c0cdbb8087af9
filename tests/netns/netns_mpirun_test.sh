#!/usr/bin/env bash
# mpirun across namespace hosts (OpenMPI's rsh agent = ip netns exec, TUTTI_HOSTID per host):
# all_reduce_perf checks every type on 2 hosts x 2 ranks and 3 hosts x (1, 2, 1) ranks,
# and the INFO lines show shared memory inside a host and sockets between hosts; then the same
# over UCX where the build has it.
# Usage: netns_mpirun_test.sh ALL_REDUCE_PERF. Exit 77 (ctest: skipped) without root/ip/mpirun.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SCRIPTS="$HERE/../../scripts"
perf=${1:?usage: netns_mpirun_test.sh ALL_REDUCE_PERF}
skip() {
  echo "skipped: $*"
  exit 77
}
[[ "$(id -u)" == 0 ]] || skip "network-namespace hosts need root (CI runs this as root)"
command -v ip >/dev/null || skip "no 'ip' (iproute2: scripts/install-deps.sh)"
command -v mpirun >/dev/null || skip "no mpirun (openmpi-bin)"

name="tutti$$"
trap '"$SCRIPTS/netns-hosts.sh" down "$name"' EXIT
"$SCRIPTS/netns-hosts.sh" up "$name" 3 >/dev/null || skip "cannot create network namespaces here"

failed=0
for layout in 2,2 1,2,1; do
  log=$(mktemp)
  # Every type (sum) checked at two sizes: the point is the launch and placement; the C++
  # tests (netns_collectives_test) sweep every collective, type and op.
  timeout 120 "$SCRIPTS/netns-mpirun.sh" "$name" "$layout" -x TUTTI_DEBUG=INFO -x TUTTI_NET=socket \
    -x TUTTI_TIMEOUT_MS=30000 -- "$perf" -b 8 -e 64K -f 8192 -d all -o sum -n 2 -w 1 -c 1 \
    --mem host >"$log" 2>&1
  rc=$?
  nranks=$(( $(tr , + <<<"$layout") ))
  # Ranks on one host see each other over shm and the other hosts over sockets.
  # (INFO: "rank 1: shm to rank 0; socket (tnet0) to ranks 2-3"; the part in brackets optional.)
  peers_socket=$(grep -cE "rank [0-9]+: .*socket( \([^)]*\))? to rank" "$log")
  if [[ $rc -ne 0 ]]; then
    echo "FAIL layout $layout: all_reduce_perf exited $rc"
    failed=1
  elif [[ "$peers_socket" -ne "$nranks" ]]; then
    echo "FAIL layout $layout: $peers_socket of $nranks ranks report socket peers"
    failed=1
  elif [[ "$layout" == 2,2 ]] && [[ $(grep -cE "rank [0-9]+: shm( \([^)]*\))? to rank" "$log") -ne 4 ]]; then
    echo "FAIL layout $layout: ranks sharing a host should use shm"
    failed=1
  else
    echo "ok layout $layout: $(grep -c '^ *[0-9]' "$log") rows checked"
  fi
  [[ $failed -eq 0 ]] || { grep -v "^#" "$log" | tail -40; }
  rm -f "$log"
  [[ $failed -eq 0 ]] || break
done
[[ $failed -eq 0 ]] || exit 1

# Over UCX (UCX_TLS=tcp) when this build has it: every rank's peers on the other host use ucx.
log=$(mktemp)
timeout 120 "$SCRIPTS/netns-mpirun.sh" "$name" 2,2 -x TUTTI_DEBUG=INFO -x TUTTI_NET=ucx \
  -x UCX_TLS=tcp -x UCX_NET_DEVICES=tnet0 -x TUTTI_TIMEOUT_MS=30000 -- \
  "$perf" -b 8 -e 64K -f 8192 -d float -o all -n 2 -w 1 -c 1 --mem host >"$log" 2>&1
rc=$?
peers_ucx=$(grep -cE "rank [0-9]+: .*ucx( \([^)]*\))? to rank" "$log")
if [[ $rc -eq 0 && $peers_ucx -eq 4 ]]; then
  echo "ok ucx layout 2,2: $(grep -c '^ *[0-9]' "$log") rows checked"
elif [[ $rc -eq 0 && $peers_ucx -eq 0 ]]; then
  echo "ucx: not in this build (TUTTI_NET=ucx left every pair on sockets): skipped"
elif [[ $rc -ne 0 ]] && grep -qiE "libucp|cannot load|dlopen" "$log"; then
  echo "ucx: cannot load here: skipped"
else
  echo "FAIL ucx layout 2,2: exit $rc, $peers_ucx of 4 ranks report ucx peers"
  grep -v "^#" "$log" | tail -40
  failed=1
fi
rm -f "$log"
exit $failed

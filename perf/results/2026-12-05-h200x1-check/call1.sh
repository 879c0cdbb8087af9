#!/usr/bin/env bash
# Session 9, call 1: the GPU paths after the bootstrap changes of 572eccd..1be2e3d (withdrawal,
# ring reports, AuthListener): build, executor, GPU nodes (sockets and proxy), faults.
set -uo pipefail
echo "host $(hostname) cpus $(nproc) $(date -u '+%F %T') UTC; load $(cut -d' ' -f1-3 /proc/loadavg)"
STAGES="build executor nodes tests" \
  BUILD_TARGETS="tutti all_reduce_perf gpu_executor_test gpu_single_process_test gpu_compression_test gpu_compression_single_process_test gpu_collectives_test gpu_faults_test gpu_call_check_test gpu_graph_test" \
  timeout 585 scripts/gpu-check.sh
echo "== summary"; cat "$OUT/summary.txt"

#!/usr/bin/env bash
# One call on the GPU machine: build, then the stages in $STAGES, each with its own time limit,
# logs collected under $OUT after every stage (so a call cut short still returns what ran),
# and a short summary last.
#   STAGES      default "build bench tests shim symm collectives sanitizer"; also "executor"
#               (executor choice, proxy, single process, compression tests), "gperf" (-g 2 and
#               -g 4 of this build against the one in .baseline/, see BASE below) and "proxyperf"
#               (-g 2 / -g 4 through the proxy, TUTTI_P2P_DISABLE=1), "nodes" (GPU "nodes" on
#               one GPU: TUTTI_RANKS_PER_NODE tests, the inter-node-only compressed ones
#               included) and "nodesperf" (device buffers across GPU nodes, hierarchical and
#               flat, against host buffers over the same transport),
#               "soak" (the GPU soak, TUTTI_SOAK_CALLS collectives, default 2000), "ddp" (PyTorch
#               DDP through the shim with each TUTTI_SHIM_COMPRESS codec, DDP_STEPS steps),
#               "callcost" (the GPU call check's cost at 8 B, perf/call_check_cost.sh),
#               "hierperf" (AllGather/ReduceScatter/Broadcast/Reduce across GPU nodes:
#               hierarchical, flat, tuner, host buffers), "codecperf" (codec kernels against a
#               device copy, compressed AllReduce across GPU nodes), "netnsperf" (host buffers
#               across two network-namespace hosts against the TCP ceiling and OpenMPI; root),
#               "compdiag" (compressed AllReduce of one process on one node and across GPU
#               nodes, short timeouts, debug logs), "nodescomp" (the compression tests of
#               "nodes" alone)
#   BUILD_TARGETS  ninja targets to build (default: everything)
#   BENCH_ARGS  perf sweep (default: -b 8 -e 1G -f 8)
#   BASE        a source tree to compare with (default .baseline, made by `git archive REV`); the
#               build stage builds its perf binaries into build-base beside this tree's build
# On a machine with fewer GPUs than a test's ranks, ranks share GPUs (TUTTI_ALLOW_SHARED_GPU):
# the tests still check 1 to 4 ranks; the NCCL comparison then runs one rank per GPU only,
# since NCCL refuses two ranks on one GPU.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-$PWD/gpu-out}
LOG=$(mktemp -d)
mkdir -p "$OUT"
STAGES=${STAGES:-"build bench tests shim symm collectives sanitizer"}
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export TUTTI_TIMEOUT_MS=${TUTTI_TIMEOUT_MS:-60000}
NGPU=$(nvidia-smi -L | grep -c '^GPU')
NCCL_LIB=${NCCL_LIB:-$(python3 -c "import nvidia.nccl,os;print(list(nvidia.nccl.__path__)[0])" 2>/dev/null)/lib/libnccl.so.2}
export NCCL_LIB
BENCH_ARGS=${BENCH_ARGS:-"-b 8 -e 1G -f 8"}

{
  date -u +"date: %Y-%m-%dT%H:%M:%SZ"
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  nvcc --version | tail -2
  echo "NCCL_LIB=$NCCL_LIB"
  python3 -c "import torch;print('torch', torch.__version__, 'nccl', torch.cuda.nccl.version())" 2>/dev/null
  nvidia-smi topo -m
} > "$LOG/machine.txt" 2>&1
head -3 "$LOG/machine.txt"
echo "summary ($NGPU GPUs)" > "$LOG/summary.txt"

save() { cp "$LOG/summary.txt" "$OUT/"; tar czf "$OUT/logs.tgz" -C "$LOG" . 2>/dev/null; }
# stage NAME SECONDS COMMAND...: runs with a time limit, records rc and duration.
stage() {
  local name=$1 limit=$2; shift 2
  local t0=$SECONDS
  timeout "$limit" "$@" > "$LOG/$name.log" 2>&1
  local rc=$?
  echo "$name: rc=$rc ($((SECONDS - t0)) s) $(grep -hE '^\[  PASSED|^\[  FAILED  \] [0-9]+ test' "$LOG/$name.log" | tr '\n' ' ')" >> "$LOG/summary.txt"
  tail -1 "$LOG/summary.txt"
  save
  return $rc
}
want() { [[ " $STAGES " == *" $1 "* ]]; }

if want build; then
  cmake -S . -B build-gpu -G Ninja -DCMAKE_CUDA_ARCHITECTURES=90 -DCMAKE_BUILD_TYPE=Release \
    -DNCCL_INCLUDE_DIR="$(dirname "$NCCL_LIB")/../include" > "$LOG/configure.log" 2>&1
  BASE=${BASE:-.baseline}
  if [ -f "$BASE/CMakeLists.txt" ]; then
    ( cmake -S "$BASE" -B build-base -G Ninja -DCMAKE_CUDA_ARCHITECTURES=90 \
        -DCMAKE_BUILD_TYPE=Release -DTUTTI_BUILD_TESTS=OFF -DTUTTI_BUILD_SHIM=OFF &&
      ninja -C build-base -j6 all_reduce_perf all_gather_perf reduce_scatter_perf alltoall_perf \
        broadcast_perf reduce_perf sendrecv_perf ) > "$LOG/build-base.log" 2>&1 &
  fi
  # Keep going past a broken optional target so one failure does not waste the machine.
  stage build 400 ninja -C build-gpu -k 0 ${BUILD_TARGETS:-}
  wait
  tail -2 "$LOG/build-base.log" 2>/dev/null
  grep -A3 "^FAILED" "$LOG/build.log" | grep -E "error|FAILED" | head -6
  [ -x build-gpu/perf/all_reduce_perf ] || { echo "BUILD FAILED"; grep -B2 -A6 error "$LOG/build.log" | head -40; exit 1; }
fi
if want bench; then
  colls=(--coll all_reduce --coll all_gather --coll reduce_scatter --coll alltoall)
  stage bench 150 python3 perf/compare "${colls[@]}" --np "$NGPU" --mem device --nccl "$NCCL_LIB" \
    --bin-dir build-gpu/perf --out "$LOG/compare" $BENCH_ARGS
  cp "$LOG"/compare/compare.json "$LOG"/compare/*.png "$OUT/" 2>/dev/null
fi
if want executor; then
  stage gpu_executor 240 build-gpu/tests/gpu/gpu_executor_test
  stage gpu_single_process 150 build-gpu/tests/gpu/gpu_single_process_test
  [ -x build-gpu/tests/gpu/gpu_compression_test ] &&
    stage gpu_compression 150 build-gpu/tests/gpu/gpu_compression_test \
      --gtest_filter='-GpuCompressionNodes*'
fi
if want gperf; then
  # Same kernels, ranks of one process on the one GPU: the restructured build against the base.
  export TUTTI_ALLOW_SHARED_GPU=1
  for g in 2 4; do
    stage "gperf_g$g" 240 python3 perf/compare_builds.py --base-dir build-base/perf \
      --new-dir build-gpu/perf --rounds ${GPERF_ROUNDS:-1} --out "$LOG/gperf$g" \
      --coll all_reduce --coll all_gather --coll reduce_scatter --coll alltoall \
      --coll broadcast --coll reduce --coll sendrecv \
      -g $g --mem device ${GPERF_ARGS:--b 8 -e 256M -f 4 -n 20 -w 3}
  done
fi
if want proxyperf; then
  export TUTTI_ALLOW_SHARED_GPU=1
  for g in 2 4; do
    stage "proxyperf_g$g" 120 env TUTTI_P2P_DISABLE=1 build-gpu/perf/all_reduce_perf -g $g \
      --mem device -b 8 -e 256M -f 8 -n 10 -w 2
  done
fi
if want nodes; then
  export TUTTI_ALLOW_SHARED_GPU=1
  stage nodes_collectives 500 build-gpu/tests/gpu/gpu_collectives_test --gtest_filter='GpuNodes*'
  stage nodes_executor 150 build-gpu/tests/gpu/gpu_executor_test --gtest_filter='*AcrossGpuNodes*'
  stage nodes_single_process 150 build-gpu/tests/gpu/gpu_single_process_test \
    --gtest_filter='*Nodes*'
fi
if want nodes || want nodescomp; then
  # Compressed collectives across GPU nodes (inter-node-only mode), one process per rank and
  # one thread driving four ranks.
  export TUTTI_ALLOW_SHARED_GPU=1
  [ -x build-gpu/tests/gpu/gpu_compression_test ] &&
    stage nodes_compression 240 build-gpu/tests/gpu/gpu_compression_test \
      --gtest_filter='GpuCompressionNodes*'
  [ -x build-gpu/tests/gpu/gpu_compression_single_process_test ] &&
    stage nodes_compression_single_process 150 \
      build-gpu/tests/gpu/gpu_compression_single_process_test
fi
if want nodesperf; then
  # One process, ranks side by side on the one GPU, nodes emulated: inter-node bytes go through
  # the proxy (device buffers) or the CPU executor (host buffers) over the socket transport.
  export TUTTI_ALLOW_SHARED_GPU=1
  P="-b 8 -e 64M -f 8 -n ${NODES_ITERS:-10} -w 2"
  stage nodesperf_g2_host 120 env TUTTI_RANKS_PER_NODE=1 build-gpu/perf/all_reduce_perf -g 2 --mem host $P
  stage nodesperf_g2_device 120 env TUTTI_RANKS_PER_NODE=1 build-gpu/perf/all_reduce_perf -g 2 --mem device $P
  stage nodesperf_g4_host 120 env TUTTI_RANKS_PER_NODE=2 build-gpu/perf/all_reduce_perf -g 4 --mem host $P
  stage nodesperf_g4_hier 120 env TUTTI_RANKS_PER_NODE=2 TUTTI_ALGO=allreduce:hierarchical \
    build-gpu/perf/all_reduce_perf -g 4 --mem device $P
  stage nodesperf_g4_flat 120 env TUTTI_RANKS_PER_NODE=2 TUTTI_ALGO=allreduce:ring \
    build-gpu/perf/all_reduce_perf -g 4 --mem device $P
  stage nodesperf_g4_tuner 120 env TUTTI_RANKS_PER_NODE=2 build-gpu/perf/all_reduce_perf -g 4 \
    --mem device $P
fi
if want tests; then
  stage gpu_faults 150 build-gpu/tests/gpu/gpu_faults_test
  stage gpu_call_check 150 build-gpu/tests/gpu/gpu_call_check_test
  stage gpu_graph 40 build-gpu/tests/gpu/gpu_graph_test
  stage gpu_single_process 150 build-gpu/tests/gpu/gpu_single_process_test
fi
if want callcost; then
  stage callcost 300 env TUTTI_ALLOW_SHARED_GPU=1 perf/call_check_cost.sh build-gpu/perf/all_reduce_perf
fi
if want netnsperf; then
  # Host buffers across two network-namespace hosts on this (quieter, 16-core) machine: the TCP
  # ceiling, Tutti over sockets and UCX, OpenMPI (perf/netns_compare.sh; needs root).
  stage netnsperf 240 env BUILD_DIR="$PWD/build-gpu" OUT="$LOG/netns" perf/netns_compare.sh
fi
if want soak; then
  stage gpu_soak 300 env TUTTI_SOAK_CALLS=${TUTTI_SOAK_CALLS:-2000} build-gpu/tests/gpu/gpu_soak_test
fi
if want ddp; then
  stage ddp 400 env OUT="$LOG/ddp.jsonl" perf/compression/ddp_compare.sh \
    build-gpu/src/shim/libnccl.so.2 4 ${DDP_STEPS:-400}
fi
if want shim; then
  # 2 and 4 ranks; where GPUs are fewer, ranks share them (the script says so).
  stage torch_shim 200 tests/frameworks/run_torch_shim.sh build-gpu/src/shim/libnccl.so.2 2 4
fi
if want symm && [ "$NGPU" -ge 2 ]; then
  stage symm_mem 60 torchrun --nproc-per-node "$NGPU" perf/symm_mem_bench.py --sizes 8,1M,4M,16M
  stage graph_perf 60 python3 perf/compare --coll all_reduce --np "$NGPU" --mem device --nccl "$NCCL_LIB" \
    --bin-dir build-gpu/perf --out "$LOG/graph" -b 8 -e 16M -f 8 -G 10 -n 20
fi
if want collectives; then
  # 1 to 4 ranks (sharing GPUs where there are fewer), and the staged-path sweeps.
  stage gpu_collectives ${COLL_LIMIT:-300} build-gpu/tests/gpu/gpu_collectives_test ${COLL_FILTER:+--gtest_filter=$COLL_FILTER}
fi
if want sanitizer; then
  # Two ranks under mpirun, each process under the sanitizer (one GPU each where there are
  # two), every kernel family, checked results (-c 1).
  export TUTTI_ALLOW_SHARED_GPU=1
  SAN_RUNS=${SAN_RUNS:-"memcheck:all_reduce memcheck:reduce_scatter memcheck:all_gather memcheck:alltoall memcheck:sendrecv racecheck:all_reduce racecheck:alltoall"}
  for run in $SAN_RUNS; do
    tool=${run%%:*} coll=${run#*:}
    stage "san_${tool}_$coll" 90 mpirun -np 2 --oversubscribe compute-sanitizer --tool "$tool" \
      --error-exitcode 9 build-gpu/perf/${coll}_perf --mem device -b 8 -e 4M -f 64 -n 2 -w 1 -c 1
  done
  unset TUTTI_ALLOW_SHARED_GPU
fi
if want hierperf; then
  # "hierperf": AllGather, ReduceScatter, Broadcast, Reduce on device buffers across 2 GPU
  # nodes of 2 (one GPU): the tuner's choice, forced hierarchical, forced flat; host buffers
  # over the same transport for comparison.
  export TUTTI_ALLOW_SHARED_GPU=1
  P="-b 8 -e 64M -f 8 -n ${NODES_ITERS:-10} -w 2"
  for coll in all_gather reduce_scatter broadcast reduce; do
    name=$(echo "$coll" | tr -d _)
    flat=ring
    case $coll in broadcast|reduce) flat=tree ;; esac
    stage hierperf_${coll}_host 90 env TUTTI_RANKS_PER_NODE=2 build-gpu/perf/${coll}_perf -g 4 --mem host $P
    stage hierperf_${coll}_tuner 90 env TUTTI_RANKS_PER_NODE=2 build-gpu/perf/${coll}_perf -g 4 --mem device $P
    stage hierperf_${coll}_hier 90 env TUTTI_RANKS_PER_NODE=2 TUTTI_ALGO=$name:hierarchical \
      build-gpu/perf/${coll}_perf -g 4 --mem device $P
    stage hierperf_${coll}_flat 90 env TUTTI_RANKS_PER_NODE=2 TUTTI_ALGO=$name:$flat \
      build-gpu/perf/${coll}_perf -g 4 --mem device $P
  done
  unset TUTTI_ALLOW_SHARED_GPU
fi
if want compdiag; then
  # Compressed AllReduce on device buffers of one process (-g 2): on one node (direct kernels),
  # through the proxy on one node, and across two GPU "nodes" (proxy + network transport), with
  # a short timeout so a stuck call becomes an error naming where it stopped.
  export TUTTI_ALLOW_SHARED_GPU=1
  D="-b 1M -e 4M -f 4 -n 3 -w 1 -c 1 --compress int8:32"
  stage compdiag_direct 40 build-gpu/perf/all_reduce_perf -g 2 --mem device $D
  stage compdiag_proxy 40 env TUTTI_P2P_DISABLE=1 TUTTI_TIMEOUT_MS=15000 TUTTI_DEBUG=INFO \
    build-gpu/perf/all_reduce_perf -g 2 --mem device $D
  stage compdiag_nodes 40 env TUTTI_RANKS_PER_NODE=1 TUTTI_TIMEOUT_MS=15000 TUTTI_DEBUG=INFO \
    TUTTI_FLIGHT_DIR="$LOG" build-gpu/perf/all_reduce_perf -g 2 --mem device $D
  stage compdiag_nodes_sock 40 env TUTTI_RANKS_PER_NODE=1 TUTTI_NET=socket TUTTI_TIMEOUT_MS=15000 \
    TUTTI_DEBUG=INFO build-gpu/perf/all_reduce_perf -g 2 --mem device $D
  unset TUTTI_ALLOW_SHARED_GPU
fi
if want codecperf; then
  # Codec kernels against a D2D copy in the same run (issue 12: >= 70% of it), then compressed
  # against exact AllReduce between GPU "nodes" on the one GPU (2 x 1 and 2 x 2 ranks, one
  # process). Inter-node bytes go through the proxy and the socket transport over loopback:
  # no rate limit can sit between emulated nodes of one host, so the algbw ratio is what
  # proxy + transport + codecs give, not the network-bound ratio of the issue. On 2 x 2 the
  # codecs run with ",internode" (exact exchanges inside a node, encoded ones between nodes).
  export TUTTI_ALLOW_SHARED_GPU=1
  stage codec_kernels 300 build-gpu/perf/gpu_codec_bench ${CODEC_BENCH_ARGS:-67108864 20}
  for g in 2 4; do
    for c in none bf16 fp8_e4m3:32 int8:32 sign1:32; do
      stage "codecperf_g${g}_${c%%:*}" ${CODECPERF_LIMIT:-60} env TUTTI_RANKS_PER_NODE=$((g / 2)) \
        build-gpu/perf/all_reduce_perf -g $g --mem device -b 1M -e 64M -f 4 -n 10 -w 2 \
        $([ $c = none ] || echo --compress $c$([ $g = 4 ] && echo ,internode))
    done
  done
  unset TUTTI_ALLOW_SHARED_GPU
fi
echo
cat "$LOG/summary.txt"
grep -h "ERROR SUMMARY\|RACECHECK SUMMARY" "$LOG"/san_*.log 2>/dev/null | sort | uniq -c
for f in netnsperf callcost ddp bench graph_perf symm_mem torch_shim gperf_g2 gperf_g4 proxyperf_g2 proxyperf_g4 \
  nodesperf_g2_host nodesperf_g2_device nodesperf_g4_host nodesperf_g4_hier nodesperf_g4_flat \
  nodesperf_g4_tuner; do
  [ -f "$LOG/$f.log" ] && { echo "--- $f"; grep -E '^\||^ +[0-9]|worst' "$LOG/$f.log" | head -120; }
done
for coll in all_gather reduce_scatter broadcast reduce; do
  for v in host tuner hier flat; do
    f=hierperf_${coll}_$v
    [ -f "$LOG/$f.log" ] && { echo "--- $f"; grep -E '^\||^ +[0-9]|worst' "$LOG/$f.log" | head -120; }
  done
done
# codecperf: the kernel table, then out-of-place algbw per size, compressed over exact.
if [ -f "$LOG/codec_kernels.log" ]; then
  echo "--- codec_kernels"
  grep -E '^\||^D2D|^FAIL|checks? failed|bit for bit' "$LOG/codec_kernels.log"
fi
for g in 2 4; do
  [ -f "$LOG/codecperf_g${g}_none.log" ] || continue
  echo "--- codecperf -g $g (TUTTI_RANKS_PER_NODE=$((g / 2))): algbw GB/s, ratio to exact"
  for c in none bf16 fp8_e4m3 int8 sign1; do
    awk -v c=$c '/^ +[0-9]/ { printf "%s %s %s\n", c, $1, $7 }' "$LOG/codecperf_g${g}_$c.log"
  done | awk '$1 == "none" { base[$2] = $3 } { bw[$1, $2] = $3; if (!($2 in seen)) { seen[$2] = 1; sizes[n++] = $2 } }
    END { printf "| bytes | exact | bf16 | fp8_e4m3:32 | int8:32 | sign1:32 |\n| ---: | ---: | ---: | ---: | ---: | ---: |\n"
          for (i = 0; i < n; i++) { s = sizes[i]; printf "| %s | %s", s, base[s]
            split("bf16 fp8_e4m3 int8 sign1", cs, " ")
            for (k = 1; k <= 4; k++) printf " | %s (%.2fx)", bw[cs[k], s], (base[s] > 0 ? bw[cs[k], s] / base[s] : 0)
            printf " |\n" } }'
done

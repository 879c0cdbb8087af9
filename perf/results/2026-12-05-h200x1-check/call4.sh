#!/usr/bin/env bash
# Session 9, call 4 (on call 1's build-gpu): AllReduce float sum on device buffers, 4 ranks of one
# process on the one H200, GPU nodes of 2 and of 1 (inter-node bytes through the proxy over UCX),
# each plan forced and the tuner's own, 3 interleaved rounds; -c 1 checks every result.
export TUTTI_ALLOW_SHARED_GPU=1 NCCL_NVLS_ENABLE=0; B=build-gpu/perf/all_reduce_perf
TUTTI_RANKS_PER_NODE=2 TUTTI_DEBUG=INFO timeout 60 $B -g 4 --mem device -b 8 -e 8 -n 2 -w 1 > $OUT/info.txt 2>&1
for round in 1 2 3; do for rpn in 2 1; do for a in auto rd hierarchical ring direct; do
  TUTTI_RANKS_PER_NODE=$rpn TUTTI_ALGO=allreduce:$a timeout 60 $B -g 4 --mem device -b 8 -e 256K -f 8 -n 100 -w 10 -c 1 > $OUT/r$round-$rpn-$a.txt 2>&1
  echo "r$round rpn=$rpn $a: $(awk '$1 ~ /^[0-9]+$/ {printf "%s:%s/%s ", $1, $6, $10}' $OUT/r$round-$rpn-$a.txt)"
done; done; done

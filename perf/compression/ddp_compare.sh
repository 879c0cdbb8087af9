#!/usr/bin/env bash
# PyTorch DDP through Tutti's libnccl.so.2, uncompressed and with each codec of
# TUTTI_SHIM_COMPRESS, on the GPUs of this machine (ranks share GPUs when there are fewer):
# prints the final training losses relative to the uncompressed run, and the goals of issue 12
# (fp8 and int8 within 1%, top-k 1% and 1-bit within 3%). For the lead's GPU session; needs
# torch. Usage, from the repository root:
#   perf/compression/ddp_compare.sh [path/to/libnccl.so.2] [nproc] [steps]
# Default shim build-gpu/src/shim/libnccl.so.2, 4 ranks, 400 steps. Results: one JSON line per
# codec in $OUT (default /tmp/ddp-compression.jsonl), a table on stdout.
set -euo pipefail
cd "$(dirname "$0")/../.."
shim=$(realpath "${1:-build-gpu/src/shim/libnccl.so.2}")
n=${2:-4}
steps=${3:-400}
out=${OUT:-/tmp/ddp-compression.jsonl}
[ -f "$shim" ] || { echo "no shim at $shim (build with cmake first)"; exit 2; }
gpus=$(nvidia-smi -L 2>/dev/null | wc -l)
[ "$gpus" -gt 0 ] || { echo "no GPU here"; exit 2; }
share=()
[ "$n" -gt "$gpus" ] && share=(TUTTI_ALLOW_SHARED_GPU=1)
: > "$out"
for codec in none fp8_e4m3:32 int8:32 topk:0.01 sign1:32; do
  compress=()
  [ "$codec" != none ] && compress=(TUTTI_SHIM_COMPRESS="$codec" TUTTI_SHIM_COMPRESS_MIN_BYTES=65536)
  echo "== $codec: torchrun --nproc-per-node=$n ($steps steps)" >&2
  env LD_PRELOAD="$shim${LD_PRELOAD:+:$LD_PRELOAD}" \
      LD_LIBRARY_PATH="$(dirname "$shim")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
      NCCL_NVLS_ENABLE=0 OMP_NUM_THREADS=1 TUTTI_DEBUG=WARN ${share[@]+"${share[@]}"} \
      ${compress[@]+"${compress[@]}"} \
      torchrun --standalone --nproc-per-node="$n" perf/compression/ddp_convergence.py \
      --steps "$steps" --label "$codec" | grep '^{' >> "$out"
done
python3 - "$out" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
base = next(r for r in rows if r["codec"] == "none")["final_loss"]
goal = {"fp8_e4m3:32": 1.0, "int8:32": 1.0, "topk:0.01": 3.0, "sign1:32": 3.0}
print(f"| codec | final loss | vs uncompressed | goal | time (s) | identical on every rank |")
print(f"| --- | --- | --- | --- | --- | --- |")
for r in rows:
    rel = 100.0 * (r["final_loss"] - base) / base
    g = goal.get(r["codec"])
    verdict = "" if g is None else ("ok" if abs(rel) <= g else "MISSED") + f" (<= {g:g}%)"
    print(f"| {r['codec']} | {r['final_loss']:.5f} | {rel:+.2f}% | {verdict} | "
          f"{r['seconds']:.1f} | {r['identical_on_every_rank']} |")
PY

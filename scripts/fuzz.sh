#!/usr/bin/env bash
# Builds the libFuzzer harnesses (tests/fuzz, clang, ASan+UBSan, CPU-only) and runs each for
# FUZZ_SECONDS (default 30) seconds, starting from its committed corpus. New inputs go to the
# build directory, never into the tree; a crash leaves its input in <build>/artifacts/ and
# fails the run (then: fix, and commit the input under tests/fuzz/corpus/<harness>/ as
# regress-<what> so that fuzz_corpus_test replays it in every build).
# Usage: scripts/fuzz.sh [build-dir] [seconds] [harness...]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-fuzz}
seconds=${2:-${FUZZ_SECONDS:-30}}
shift $(( $# > 2 ? 2 : $# ))
harnesses=("$@")

if ! command -v clang++ >/dev/null 2>&1 || \
   ! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "fuzz: needs clang and libFuzzer: apt-get install -y clang libclang-rt-dev" >&2
    exit 1
  fi
  echo "fuzz: installing clang and its libFuzzer runtime"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y --no-install-recommends clang libclang-rt-dev >/dev/null
fi

if [ ! -f "$build/build.ninja" ]; then
  CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DTUTTI_FUZZ=ON \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
if [ ${#harnesses[@]} -eq 0 ]; then
  for f in tests/fuzz/*_fuzz.cc; do harnesses+=("$(basename "$f" _fuzz.cc)"); done
fi
# Only the harnesses: the shared library does not link against a sanitizer runtime.
cmake --build "$build" -j "${JOBS:-$(nproc)}" --target "${harnesses[@]/%/_fuzz}"
mkdir -p "$build/artifacts"
status=0
for h in "${harnesses[@]}"; do
  mkdir -p "$build/corpus/$h"
  log="$build/fuzz-$h.log"
  echo "fuzz: $h for ${seconds}s"
  if "$build/tests/fuzz/${h}_fuzz" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -max_len=4096 -print_final_stats=1 -artifact_prefix="$build/artifacts/$h-" \
      "$build/corpus/$h" "tests/fuzz/corpus/$h" >"$log" 2>&1; then
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    echo "fuzz: $h: ${execs:-?} executions, no finding"
  else
    echo "fuzz: $h FAILED; last lines of $log:" >&2
    tail -40 "$log" >&2
    status=1
  fi
done
exit $status

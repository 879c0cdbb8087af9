#!/usr/bin/env bash
# CI's reliability steps after `make test` (issue 13, docs/reliability.md): each libFuzzer
# harness for 30 s, the ASan+UBSan and TSan builds of the representative test subset, and the
# CPU soak (10^4 random collectives on 4 ranks). Prints each step's wall time. Budget: the
# whole of .ci/run under 45 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
times=()
step() {
  local name=$1
  shift
  local start
  start=$(date +%s)
  echo "=== reliability: $name"
  "$@"
  times+=("$name: $(( $(date +%s) - start )) s")
}
step "fuzz (30 s per harness)" ./scripts/fuzz.sh build-fuzz "${FUZZ_SECONDS:-30}"
step "sanitizers (asan+ubsan, tsan)" ./scripts/sanitizers.sh
step "soak (10^4 collectives, 4 CPU ranks)" env TUTTI_SOAK_CALLS="${TUTTI_SOAK_CALLS:-10000}" \
  "$BUILD/tests/soak/soak_test"
echo "=== reliability step times"
printf '  %s\n' "${times[@]}"

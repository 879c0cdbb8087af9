#!/usr/bin/env bash
# The style gate CI runs: clang-format on every C, C++ and CUDA file of the tree (it is
# formatted, so any diff is a change that skipped the formatter), and clang-tidy's bug-finding
# checks (.clang-tidy) on the .cc files changed since BASE.
#   scripts/check-style.sh [BASE]   BASE: a git revision (default HEAD~1; all files without one)
#   BUILD_DIR   build tree with compile_commands.json for clang-tidy (default build)
#   FIX=1       rewrite files with clang-format instead of failing
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
BASE=${1:-HEAD~1}
status=0

mapfile -t sources < <(git ls-files '*.cc' '*.h' '*.cu' '*.cuh' '*.c')
if ! command -v clang-format >/dev/null; then
  echo "check-style: clang-format not installed (apt-get install clang-format)" >&2
  exit 1
fi
if [[ "${FIX:-0}" == 1 ]]; then
  clang-format -i "${sources[@]}"
else
  bad=()
  for f in "${sources[@]}"; do
    clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || bad+=("$f")
  done
  if ((${#bad[@]})); then
    echo "check-style: not clang-formatted (run FIX=1 scripts/check-style.sh):" >&2
    printf '  %s\n' "${bad[@]}" >&2
    status=1
  else
    echo "check-style: clang-format clean (${#sources[@]} files)"
  fi
fi

if git rev-parse -q --verify "$BASE^{commit}" >/dev/null; then
  mapfile -t changed < <(git diff --name-only --diff-filter=AM "$BASE" -- '*.cc' | sort -u)
else
  changed=("${sources[@]}")
  mapfile -t changed < <(printf '%s\n' "${changed[@]}" | grep '\.cc$')
fi
if ! command -v clang-tidy >/dev/null; then
  echo "check-style: clang-tidy not installed (apt-get install clang-tidy)" >&2
  exit 1
fi
if [[ ! -f "$BUILD_DIR/compile_commands.json" ]]; then
  echo "check-style: $BUILD_DIR/compile_commands.json missing: build first (make build)" >&2
  exit 1
fi
# Only files the build compiles (the shim's need NVIDIA's nccl.h, which the build has found).
tidy=()
for f in "${changed[@]}"; do
  [[ -f "$f" ]] && grep -q "\"file\": \".*/$f\"" "$BUILD_DIR/compile_commands.json" && tidy+=("$f")
done
if ((${#tidy[@]})); then
  # The database is GCC's: drop the GCC-only flags clang rejects (host_reduce.cc's vectoriser
  # options) in a copy clang-tidy reads.
  tidydb=$(mktemp -d)
  trap 'rm -rf "$tidydb"' EXIT
  sed -E 's/ -fvect-cost-model=[a-z]+//g' "$BUILD_DIR/compile_commands.json" > "$tidydb/compile_commands.json"
  if ! printf '%s\n' "${tidy[@]}" |
      xargs -P "$(nproc)" -n 4 clang-tidy -p "$tidydb" --quiet 2>/dev/null >"$BUILD_DIR/clang-tidy.log"; then
    echo "check-style: clang-tidy findings:" >&2
    grep -E "(warning|error):" "$BUILD_DIR/clang-tidy.log" >&2
    status=1
  else
    echo "check-style: clang-tidy clean (${#tidy[@]} files changed since $BASE)"
  fi
else
  echo "check-style: no compiled .cc file changed since $BASE"
fi
exit $status

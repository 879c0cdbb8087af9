#!/usr/bin/env bash
# Checks libnccl.so.2 against the NCCL headers it was built with: every function nccl.h declares
# (and its pnccl twin) is exported, so are the host functions of nccl_device/*.h, the SONAME is
# libnccl.so.2, and nothing but nccl*/pnccl* is exported.
# Usage: check_exports.sh <dir holding nccl.h> <path to libnccl.so.2>
set -euo pipefail
inc=$1
lib=$2
fail=0

defined=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TtWw]$/ {print $3}' | sed 's/@.*//' | sort -u)
all=$(nm -D --defined-only "$lib" | awk '{print $3}' | sed 's/@.*//' | sort -u)

# Declarations in nccl.h: "<return type> [p]nccl<Name>(" at the start of a line.
expected=$(grep -hoE '^[[:space:]]*(ncclResult_t|const char[[:space:]]*\*|void)[[:space:]]+\*?[[:space:]]*p?nccl[A-Za-z0-9_]+[[:space:]]*\(' \
             "$inc/nccl.h" | sed -E 's/.*[^A-Za-z0-9_](p?nccl[A-Za-z0-9_]+)[[:space:]]*\($/\1/' | sort -u)
n_nccl=$(grep -c '^nccl' <<<"$expected" || true)
n_pnccl=$(grep -c '^pnccl' <<<"$expected" || true)
echo "nccl.h declares $n_nccl nccl* and $n_pnccl pnccl* functions"
if [ "$n_nccl" -lt 41 ] || [ "$n_nccl" -ne "$n_pnccl" ]; then
  echo "FAIL: unexpected declaration count (parser out of date with nccl.h?)"
  fail=1
fi
for f in $expected; do
  if ! grep -qx "$f" <<<"$defined"; then
    echo "FAIL: $f is declared in nccl.h but not exported"
    fail=1
  fi
done

# Host functions of the device API: "NCCL_EXTERN_C __host__ <type> nccl<Name>(".
if [ -d "$inc/nccl_device" ]; then
  device=$(grep -rhoE 'NCCL_EXTERN_C[[:space:]]+__host__[[:space:]]+[A-Za-z_][A-Za-z0-9_]*[[:space:]]+nccl[A-Za-z0-9_]+\(' \
             "$inc/nccl_device" | grep -oE 'nccl[A-Za-z0-9_]+\($' | tr -d '(' | sort -u)
  echo "nccl_device/*.h declares $(wc -w <<<"$device") host functions"
  for f in $device; do
    for g in "$f" "p$f"; do
      if ! grep -qx "$g" <<<"$defined"; then
        echo "FAIL: $g (nccl_device host API) is not exported"
        fail=1
      fi
    done
  done
fi

extra=$(grep -vE '^p?nccl' <<<"$all" || true)
if [ -n "$extra" ]; then
  echo "FAIL: symbols other than nccl*/pnccl* are exported:"
  head -20 <<<"$extra"
  fail=1
fi

soname=$(objdump -p "$lib" | awk '$1 == "SONAME" {print $2}')
if [ "$soname" != "libnccl.so.2" ]; then
  echo "FAIL: SONAME is '$soname', not libnccl.so.2"
  fail=1
fi

[ $fail -eq 0 ] && echo "OK: $(wc -l <<<"$defined") functions exported, SONAME $soname"
exit $fail

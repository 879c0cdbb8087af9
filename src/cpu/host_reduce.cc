// CPU instantiations of the shared reduction functors. Loops are written so the compiler can
// vectorize the common float/int cases.
#include "cpu/host_reduce.h"

#include <cstring>

namespace tutti {
namespace {

template <typename T, typename Func>
void combineLoop(T* dst, const T* a, const T* b, size_t n, Func f) {
  using Acc = AccumOf<T>;
  // dst is either a, b or disjoint from both (never a shifted overlap): element i reads only
  // index i, so the vectoriser needs no run-time overlap check and no scalar fallback.
#pragma GCC ivdep
  for (size_t i = 0; i < n; ++i) dst[i] = Acc::store(f(Acc::load(a[i]), Acc::load(b[i])));
}

template <typename T, typename Func>
void combineManyLoop(T* dst, const void* const* srcs, int n, size_t count, Func f) {
  if (n == 2) {  // the common case (two ranks, direct): one pass, no tile round trip
    combineLoop(dst, static_cast<const T*>(srcs[0]), static_cast<const T*>(srcs[1]), count, f);
    return;
  }
  using Acc = AccumOf<T>;
  using A = typename Acc::Type;
  constexpr size_t kTile = 256;  // accumulate a tile in registers/L1, then store once
  A acc[kTile];
  for (size_t base = 0; base < count; base += kTile) {
    size_t m = count - base < kTile ? count - base : kTile;
    const T* s0 = static_cast<const T*>(srcs[0]) + base;
    for (size_t i = 0; i < m; ++i) acc[i] = Acc::load(s0[i]);
    for (int k = 1; k < n; ++k) {
      const T* s = static_cast<const T*>(srcs[k]) + base;
      for (size_t i = 0; i < m; ++i) acc[i] = f(acc[i], Acc::load(s[i]));
    }
    for (size_t i = 0; i < m; ++i) dst[base + i] = Acc::store(acc[i]);
  }
}

}  // namespace

void hostCombine(const ReduceSpec& spec, void* dst, const void* a, const void* b, size_t count) {
  dispatchType(spec.dtype, [&](auto tag) {
    using T = typename decltype(tag)::Type;
    dispatchCombine(spec.combine, [&](auto f) {
      combineLoop(static_cast<T*>(dst), static_cast<const T*>(a), static_cast<const T*>(b), count,
                  f);
    });
  });
}

void hostCombineMany(const ReduceSpec& spec, void* dst, const void* const* srcs, int n,
                     size_t count) {
  dispatchType(spec.dtype, [&](auto tag) {
    using T = typename decltype(tag)::Type;
    dispatchCombine(spec.combine,
                    [&](auto f) { combineManyLoop(static_cast<T*>(dst), srcs, n, count, f); });
  });
}

void hostDivide(tuttiDataType_t dtype, void* dst, const void* src, size_t count, int divisor) {
  dispatchType(dtype, [&](auto tag) {
    using T = typename decltype(tag)::Type;
    using Acc = AccumOf<T>;
    const T* s = static_cast<const T*>(src);
    T* d = static_cast<T*>(dst);
    for (size_t i = 0; i < count; ++i) d[i] = Acc::store(divideBy(Acc::load(s[i]), divisor));
  });
}

void hostScale(tuttiDataType_t dtype, void* dst, const void* src, size_t count,
               const void* scalar) {
  dispatchType(dtype, [&](auto tag) {
    using T = typename decltype(tag)::Type;
    using Acc = AccumOf<T>;
    T sv;
    memcpy(&sv, scalar, sizeof(T));
    auto k = Acc::load(sv);
    const T* s = static_cast<const T*>(src);
    T* d = static_cast<T*>(dst);
    for (size_t i = 0; i < count; ++i) d[i] = Acc::store(scaleBy(Acc::load(s[i]), k));
  });
}

}  // namespace tutti

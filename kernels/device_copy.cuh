// Block-wide copy and reduce primitives. 16-byte vector accesses when every pointer shares one
// misalignment (scalar head and tail around the aligned body), narrower words otherwise;
// several independent loads per thread are in flight before the first store.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "device_comm.h"
#include "reduce_ops.h"

namespace tutti {

constexpr int kUnroll = 4;

// Largest word size (16, 8, 4, 2, 1) that aligns all pointers at the same time.
__device__ __forceinline__ int commonWordSize(uintptr_t orBits, uintptr_t misalign, bool same) {
  if (same) return 16;
  (void)misalign;
  return (orBits & 7) == 0 ? 8 : (orBits & 3) == 0 ? 4 : (orBits & 1) == 0 ? 2 : 1;
}

template <typename W>
__device__ __forceinline__ void copyWords(char* const* dsts, int ndst, const char* src,
                                          size_t words) {
  const W* s = reinterpret_cast<const W*>(src);
  const size_t stride = blockDim.x;
  size_t i = threadIdx.x;
  for (; i + (kUnroll - 1) * stride < words; i += kUnroll * stride) {
    W v[kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) v[u] = s[i + u * stride];
    for (int d = 0; d < ndst; ++d) {
      W* o = reinterpret_cast<W*>(dsts[d]);
#pragma unroll
      for (int u = 0; u < kUnroll; ++u) o[i + u * stride] = v[u];
    }
  }
  for (; i < words; i += stride) {
    W v = s[i];
    for (int d = 0; d < ndst; ++d) reinterpret_cast<W*>(dsts[d])[i] = v;
  }
}

// Copies `bytes` from src to each of dsts[0..ndst) (dsts lives in shared memory).
__device__ __forceinline__ void blockCopyMulti(char* const* dsts, int ndst, const char* src,
                                               size_t bytes) {
  if (bytes == 0 || ndst == 0) return;
  const uintptr_t mis = reinterpret_cast<uintptr_t>(src) & 15;
  bool same = true;
  uintptr_t orBits = reinterpret_cast<uintptr_t>(src);
  for (int d = 0; d < ndst; ++d) {
    same &= (reinterpret_cast<uintptr_t>(dsts[d]) & 15) == mis;
    orBits |= reinterpret_cast<uintptr_t>(dsts[d]);
  }
  const int w = commonWordSize(orBits, mis, same);
  size_t head = w == 16 ? ((16 - mis) & 15) : 0;
  if (head > bytes) head = bytes;
  for (size_t i = threadIdx.x; i < head; i += blockDim.x)
    for (int d = 0; d < ndst; ++d) dsts[d][i] = src[i];
  const size_t words = (bytes - head) / w;
  __shared__ char* shifted[kMaxGpuRanks + 1];
  if (threadIdx.x == 0)
    for (int d = 0; d < ndst; ++d) shifted[d] = dsts[d] + head;
  __syncthreads();
  switch (w) {
    case 16: copyWords<uint4>(shifted, ndst, src + head, words); break;
    case 8: copyWords<uint64_t>(shifted, ndst, src + head, words); break;
    case 4: copyWords<uint32_t>(shifted, ndst, src + head, words); break;
    case 2: copyWords<uint16_t>(shifted, ndst, src + head, words); break;
    default: copyWords<uint8_t>(shifted, ndst, src + head, words); break;
  }
  for (size_t i = head + words * w + threadIdx.x; i < bytes; i += blockDim.x)
    for (int d = 0; d < ndst; ++d) dsts[d][i] = src[i];
  __syncthreads();  // `shifted` is reused by the next call
}

__device__ __forceinline__ void blockCopy(char* dst, const char* src, size_t bytes) {
  __shared__ char* one[1];
  if (threadIdx.x == 0) one[0] = dst;
  __syncthreads();
  blockCopyMulti(one, 1, src, bytes);
}

// PreMulSum's scaled copy: every dsts[d][i] = src[i] * scalar, rounded to T as the CPU
// executor's staged copy is (`scalarBits` holds one T in its low bytes). dsts in shared memory.
template <typename T>
__device__ __forceinline__ void blockScaleCopyMulti(char* const* dsts, int ndst, const char* src,
                                                    size_t count, uint64_t scalarBits) {
  using Acc = AccumOf<T>;
  T sv;
  memcpy(&sv, &scalarBits, sizeof(T));
  const auto k = Acc::load(sv);
  const T* s = reinterpret_cast<const T*>(src);
  for (size_t i = threadIdx.x; i < count; i += blockDim.x) {
    const T v = Acc::store(scaleBy(Acc::load(s[i]), k));
    for (int d = 0; d < ndst; ++d) reinterpret_cast<T*>(dsts[d])[i] = v;
  }
  __syncthreads();
}

// Element-wise reduction of nsrc sources (in order) into every destination, with an optional
// final division (tuttiAvg). srcs and dsts live in shared memory.
template <typename T, typename F>
__device__ __forceinline__ void reduceElems(char* const* dsts, int ndst, const char* const* srcs,
                                            int nsrc, size_t first, size_t count, F f,
                                            int divisor) {
  using Acc = AccumOf<T>;
  for (size_t i = first + threadIdx.x; i < first + count; i += blockDim.x) {
    auto acc = Acc::load(reinterpret_cast<const T*>(srcs[0])[i]);
    for (int k = 1; k < nsrc; ++k) acc = f(acc, Acc::load(reinterpret_cast<const T*>(srcs[k])[i]));
    if (divisor > 1) acc = divideBy(acc, divisor);
    T v = Acc::store(acc);
    for (int d = 0; d < ndst; ++d) reinterpret_cast<T*>(dsts[d])[i] = v;
  }
}

template <typename T, typename F>
__device__ __forceinline__ void reducePacks(char* const* dsts, int ndst, const char* const* srcs,
                                            int nsrc, size_t firstElem, size_t packs, F f,
                                            int divisor) {
  using Acc = AccumOf<T>;
  using A = typename Acc::Type;
  constexpr int kN = 16 / sizeof(T);
  union PackU {
    uint4 v;
    T e[kN];
  };
  for (size_t p = threadIdx.x; p < packs; p += blockDim.x) {
    const size_t off = firstElem * sizeof(T) + p * 16;
    PackU in;
    in.v = *reinterpret_cast<const uint4*>(srcs[0] + off);
    A acc[kN];
#pragma unroll
    for (int j = 0; j < kN; ++j) acc[j] = Acc::load(in.e[j]);
    for (int k = 1; k < nsrc; ++k) {
      in.v = *reinterpret_cast<const uint4*>(srcs[k] + off);
#pragma unroll
      for (int j = 0; j < kN; ++j) acc[j] = f(acc[j], Acc::load(in.e[j]));
    }
    PackU out;
#pragma unroll
    for (int j = 0; j < kN; ++j)
      out.e[j] = Acc::store(divisor > 1 ? divideBy(acc[j], divisor) : acc[j]);
    for (int d = 0; d < ndst; ++d) *reinterpret_cast<uint4*>(dsts[d] + off) = out.v;
  }
}

template <typename T, typename F>
__device__ __forceinline__ void blockReduce(char* const* dsts, int ndst, const char* const* srcs,
                                            int nsrc, size_t count, F f, int divisor) {
  if (count == 0) return;
  const uintptr_t mis = reinterpret_cast<uintptr_t>(srcs[0]) & 15;
  bool same = true;
  for (int k = 0; k < nsrc; ++k) same &= (reinterpret_cast<uintptr_t>(srcs[k]) & 15) == mis;
  for (int d = 0; d < ndst; ++d) same &= (reinterpret_cast<uintptr_t>(dsts[d]) & 15) == mis;
  if (!same || mis % sizeof(T) != 0) {
    reduceElems<T>(dsts, ndst, srcs, nsrc, 0, count, f, divisor);
    __syncthreads();
    return;
  }
  size_t head = ((16 - mis) & 15) / sizeof(T);
  if (head > count) head = count;
  reduceElems<T>(dsts, ndst, srcs, nsrc, 0, head, f, divisor);
  constexpr int kN = 16 / sizeof(T);
  const size_t packs = (count - head) / kN;
  reducePacks<T>(dsts, ndst, srcs, nsrc, head, packs, f, divisor);
  reduceElems<T>(dsts, ndst, srcs, nsrc, head + packs * kN, count - head - packs * kN, f, divisor);
  __syncthreads();
}

}  // namespace tutti

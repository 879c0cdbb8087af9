// Device helpers shared by the codec kernels (codec_encode.cu, codec_decode.cu, codec_topk.cu).
#pragma once

#include <cuda_runtime.h>

#include "codec_launch.h"
#include "codecs/bf16_codec.h"
#include "codecs/fp8_codec.h"
#include "codecs/int8_codec.h"
#include "codecs/sign1_codec.h"
#include "codecs/topk_codec.h"
#include "float_types.h"

namespace tutti {
namespace codec_detail {

constexpr int kCodecThreads = 256;

inline unsigned gridFor(size_t threads) {
  size_t blocks = (threads + kCodecThreads - 1) / kCodecThreads;
  if (blocks > 8192) blocks = 8192;  // kernels stride over the rest
  return static_cast<unsigned>(blocks < 1 ? 1 : blocks);
}

// Grid of a kernel that gives segment j the blocks with blockIdx.y = j (mod gridDim.y), each
// segment `threads` threads at most; as many blocks in all as gridFor allows one segment.
inline dim3 segmentGrid(size_t threads, int nseg) {
  const unsigned y = nseg < 1 ? 1u : nseg > 65535 ? 65535u : static_cast<unsigned>(nseg);
  unsigned x = gridFor(threads);
  const unsigned cap = 16384 / y;
  if (x > cap) x = cap < 1 ? 1 : cap;
  return dim3(x, y);
}

// The longest of segments first .. first + n - 1.
inline size_t maxSpan(const codec::SegmentRule& rule, int first, int n) {
  size_t m = 0;
  for (int j = 0; j < n; ++j) {
    const size_t len = rule.span(first + j).len;
    m = len > m ? len : m;
  }
  return m;
}

template <typename T>
__device__ __forceinline__ float loadAsFloat(const void* p, size_t i);
template <>
__device__ __forceinline__ float loadAsFloat<float>(const void* p, size_t i) {
  return static_cast<const float*>(p)[i];
}
template <>
__device__ __forceinline__ float loadAsFloat<Half>(const void* p, size_t i) {
  return toFloat(static_cast<const Half*>(p)[i]);
}
template <>
__device__ __forceinline__ float loadAsFloat<BFloat16>(const void* p, size_t i) {
  return toFloat(static_cast<const BFloat16*>(p)[i]);
}

template <typename T>
__device__ __forceinline__ void storeFromFloat(void* p, size_t i, float v);
template <>
__device__ __forceinline__ void storeFromFloat<float>(void* p, size_t i, float v) {
  static_cast<float*>(p)[i] = v;
}
template <>
__device__ __forceinline__ void storeFromFloat<Half>(void* p, size_t i, float v) {
  static_cast<Half*>(p)[i] = toHalf(v);
}
template <>
__device__ __forceinline__ void storeFromFloat<BFloat16>(void* p, size_t i, float v) {
  static_cast<BFloat16*>(p)[i] = toBFloat16(v);
}

__device__ __forceinline__ bool alignedTo(const void* p, size_t a) {
  return (reinterpret_cast<uintptr_t>(p) & (a - 1)) == 0;
}

// Elements i .. i + 3 of an output of T (aligned to 4 * sizeof(T)) in one store.
template <typename T>
__device__ __forceinline__ void store4(void* p, size_t i, const float (&v)[4]);
template <>
__device__ __forceinline__ void store4<float>(void* p, size_t i, const float (&v)[4]) {
  *reinterpret_cast<float4*>(static_cast<float*>(p) + i) = make_float4(v[0], v[1], v[2], v[3]);
}
template <>
__device__ __forceinline__ void store4<Half>(void* p, size_t i, const float (&v)[4]) {
  const Half h[4] = {toHalf(v[0]), toHalf(v[1]), toHalf(v[2]), toHalf(v[3])};
  uint2 w;
  memcpy(&w, h, sizeof(w));
  *reinterpret_cast<uint2*>(static_cast<Half*>(p) + i) = w;
}
template <>
__device__ __forceinline__ void store4<BFloat16>(void* p, size_t i, const float (&v)[4]) {
  const BFloat16 h[4] = {toBFloat16(v[0]), toBFloat16(v[1]), toBFloat16(v[2]), toBFloat16(v[3])};
  uint2 w;
  memcpy(&w, h, sizeof(w));
  *reinterpret_cast<uint2*>(static_cast<BFloat16*>(p) + i) = w;
}

__device__ __forceinline__ int32_t warpMax(int32_t m) {
#pragma unroll
  for (int off = 16; off >= 1; off >>= 1) {
    const int32_t o = __shfl_xor_sync(0xffffffffu, m, off);
    m = o > m ? o : m;
  }
  return m;
}

// What an encoding lost, as the CPU path keeps it: 0 where either side is not finite.
__device__ __forceinline__ float residualOf(float v, float decoded) {
  return codec::isFiniteBits(v) && codec::isFiniteBits(decoded) ? codec::subRn(v, decoded) : 0.0f;
}

struct Fp8E4M3Dev {
  using Code = uint8_t;
  static constexpr float kMax = codec::Fp8E4M3Format::kMaxValue;
  static __device__ __forceinline__ Code encode(float x, float inv) {
    return codec::Fp8E4M3Format::encode(x, inv);
  }
  static __device__ __forceinline__ float decode(Code c, float s) {
    return codec::Fp8E4M3Format::decode(c, s);
  }
};
struct Fp8E5M2Dev {
  using Code = uint8_t;
  static constexpr float kMax = codec::Fp8E5M2Format::kMaxValue;
  static __device__ __forceinline__ Code encode(float x, float inv) {
    return codec::Fp8E5M2Format::encode(x, inv);
  }
  static __device__ __forceinline__ float decode(Code c, float s) {
    return codec::Fp8E5M2Format::decode(c, s);
  }
};
struct Int8Dev {
  using Code = int8_t;
  static constexpr float kMax = codec::Int8Format::kMaxValue;
  static __device__ __forceinline__ Code encode(float x, float inv) {
    return codec::Int8Format::encode(x, inv);
  }
  static __device__ __forceinline__ float decode(Code c, float s) {
    return codec::Int8Format::decode(c, s);
  }
};

// Readers of element i of one encoded segment of n elements of a non-sparse codec (layouts:
// codecs/codec_layout.h). The block size is a template argument so that i / B is a shift:
// a 64-bit division by a run-time B per element made the decoders compute-bound. decode4
// reads elements i .. i + 3 (i a multiple of 4, the segment 8-byte aligned) with one load of
// their codes: one byte per thread kept too few bytes in flight to reach the copy bandwidth.
struct Bf16Reader {
  const uint16_t* codes;
  __device__ Bf16Reader(const uint8_t* seg, size_t)
      : codes(reinterpret_cast<const uint16_t*>(seg)) {}
  __device__ __forceinline__ float operator()(size_t i) const {
    return codec::Bf16Format::decode(codes[i]);
  }
  __device__ __forceinline__ void decode4(size_t i, float (&v)[4]) const {
    const uint2 w = *reinterpret_cast<const uint2*>(codes + i);
    v[0] = codec::Bf16Format::decode(static_cast<uint16_t>(w.x & 0xffffu));
    v[1] = codec::Bf16Format::decode(static_cast<uint16_t>(w.x >> 16));
    v[2] = codec::Bf16Format::decode(static_cast<uint16_t>(w.y & 0xffffu));
    v[3] = codec::Bf16Format::decode(static_cast<uint16_t>(w.y >> 16));
  }
};

template <typename Elem, int B>
struct ScaledReader {
  const typename Elem::Code* codes;
  const float* scales;
  __device__ ScaledReader(const uint8_t* seg, size_t n)
      : codes(reinterpret_cast<const typename Elem::Code*>(seg)),
        scales(reinterpret_cast<const float*>(seg + (n + B - 1) / B * B)) {}
  __device__ __forceinline__ float operator()(size_t i) const {
    return Elem::decode(codes[i], scales[i / B]);
  }
  __device__ __forceinline__ void decode4(size_t i, float (&v)[4]) const {
    using Code = typename Elem::Code;
    const uint32_t w = *reinterpret_cast<const uint32_t*>(codes + i);
    const float s = scales[i / B];  // B is a multiple of 4: one block
#pragma unroll
    for (int e = 0; e < 4; ++e)
      v[e] = Elem::decode(static_cast<Code>(static_cast<uint8_t>(w >> (8 * e))), s);
  }
};
template <typename Elem>
struct ScaledReaderOf {
  template <int B>
  using Reader = ScaledReader<Elem, B>;
};

template <int B>
struct Sign1Reader {
  const uint8_t* bits;
  const float* scales;
  __device__ Sign1Reader(const uint8_t* seg, size_t n)
      : bits(seg), scales(reinterpret_cast<const float*>(seg + (n + B - 1) / B * B / 8)) {}
  __device__ __forceinline__ float operator()(size_t i) const {
    return codec::Sign1Format::decode((bits[i / 8] >> (i % 8)) & 1u, scales[i / B]);
  }
  __device__ __forceinline__ void decode4(size_t i, float (&v)[4]) const {
    const uint32_t w = bits[i / 8] >> (i % 8);
    const float s = scales[i / B];
#pragma unroll
    for (int e = 0; e < 4; ++e) v[e] = codec::Sign1Format::decode((w >> e) & 1u, s);
  }
};

// Run::go<Reader>(a, s) with the reader of a.spec (block sizes 32, 64, else 128, as encoding).
template <typename Run, template <int> class R, typename Args>
cudaError_t withBlockReader(const Args& a, cudaStream_t s) {
  switch (a.spec.block) {
    case 32: return Run::template go<R<32>>(a, s);
    case 64: return Run::template go<R<64>>(a, s);
    default: return Run::template go<R<128>>(a, s);
  }
}
template <typename Run, typename Args>
cudaError_t withReader(const Args& a, cudaStream_t s) {
  switch (a.spec.codec) {
    case tuttiCodecBf16: return Run::template go<Bf16Reader>(a, s);
    case tuttiCodecFp8E4M3:
      return withBlockReader<Run, ScaledReaderOf<Fp8E4M3Dev>::template Reader>(a, s);
    case tuttiCodecFp8E5M2:
      return withBlockReader<Run, ScaledReaderOf<Fp8E5M2Dev>::template Reader>(a, s);
    case tuttiCodecInt8:
      return withBlockReader<Run, ScaledReaderOf<Int8Dev>::template Reader>(a, s);
    case tuttiCodecSign1: return withBlockReader<Run, Sign1Reader>(a, s);
    default: return cudaErrorInvalidValue;
  }
}

}  // namespace codec_detail
}  // namespace tutti

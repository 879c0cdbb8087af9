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

// Element i (< len) of one encoded segment of a non-sparse codec.
__device__ __forceinline__ float decodeElement(const codec::CodecSpec& spec, const uint8_t* seg,
                                               size_t len, size_t i) {
  const size_t B = static_cast<size_t>(spec.block);
  const size_t nb = (len + B - 1) / B;
  switch (spec.codec) {
    case tuttiCodecBf16:
      return codec::Bf16Format::decode(reinterpret_cast<const uint16_t*>(seg)[i]);
    case tuttiCodecFp8E4M3:
      return codec::Fp8E4M3Format::decode(seg[i],
                                          reinterpret_cast<const float*>(seg + nb * B)[i / B]);
    case tuttiCodecFp8E5M2:
      return codec::Fp8E5M2Format::decode(seg[i],
                                          reinterpret_cast<const float*>(seg + nb * B)[i / B]);
    case tuttiCodecInt8:
      return codec::Int8Format::decode(static_cast<int8_t>(seg[i]),
                                       reinterpret_cast<const float*>(seg + nb * B)[i / B]);
    case tuttiCodecSign1:
      return codec::Sign1Format::decode((seg[i / 8] >> (i % 8)) & 1u,
                                        reinterpret_cast<const float*>(seg + nb * B / 8)[i / B]);
    default: return 0.0f;
  }
}

}  // namespace codec_detail
}  // namespace tutti

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

// The block encoders' grid: each warp takes its share of a segment's blocks in turn (warp,
// nwarps over the whole grid), and blockIdx.y strides over the segments.
struct WarpGrid {
  int lane;
  size_t warp, nwarps;
};
__device__ __forceinline__ WarpGrid warpGrid() {
  return {static_cast<int>(threadIdx.x & 31),
          (static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x) >> 5,
          (static_cast<size_t>(gridDim.x) * blockDim.x) >> 5};
}

// Segment j of an encode: its span of the input, its number of blocks of B, its wire bytes, its
// input and its residual (null without error feedback).
template <typename T>
struct EncodeSegment {
  codec::SegmentSpan sp;
  size_t nb;
  uint8_t* seg;
  const T* in;
  float* res;
};
template <typename T, int B>
__device__ __forceinline__ EncodeSegment<T> encodeSegment(const EncodeArgs& a, int j) {
  const codec::SegmentSpan sp = a.rule.span(a.firstSeg + j);
  return {sp, (sp.len + B - 1) / B, a.out + j * a.segBytes,
          static_cast<const T*>(a.input) + sp.offset,
          a.residual ? a.residual + sp.offset : nullptr};
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

// Input as 4 elements at once (16 bytes of fp32), where it is aligned for that.
template <typename T>
struct Load4;
template <>
struct Load4<float> {
  static constexpr size_t kAlign = 16;
  static __device__ __forceinline__ float4 at(const void* p, size_t i) {
    return *reinterpret_cast<const float4*>(static_cast<const float*>(p) + i);
  }
};
template <typename H>
struct Load4Half {
  static constexpr size_t kAlign = 8;
  static __device__ __forceinline__ float4 at(const void* p, size_t i) {
    const uint2 w = *reinterpret_cast<const uint2*>(static_cast<const H*>(p) + i);
    H h[4];
    memcpy(h, &w, sizeof(w));
    return make_float4(toFloat(h[0]), toFloat(h[1]), toFloat(h[2]), toFloat(h[3]));
  }
};
template <>
struct Load4<Half> : Load4Half<Half> {};
template <>
struct Load4<BFloat16> : Load4Half<BFloat16> {};

// Elements i .. i + 3 of a segment (input + residual, zeros at and past len), i % 4 == 0.
template <typename T>
__device__ __forceinline__ void loadGroup(const T* in, const float* res, size_t i, size_t len,
                                          float (&v)[4]) {
  if (i + 4 <= len) {
    const float4 x = Load4<T>::at(in, i);
    v[0] = x.x, v[1] = x.y, v[2] = x.z, v[3] = x.w;
    if (res) {
      const float4 r = *reinterpret_cast<const float4*>(res + i);
      v[0] = codec::addRn(v[0], r.x);
      v[1] = codec::addRn(v[1], r.y);
      v[2] = codec::addRn(v[2], r.z);
      v[3] = codec::addRn(v[3], r.w);
    }
    return;
  }
#pragma unroll
  for (int e = 0; e < 4; ++e) {
    v[e] = 0.0f;
    if (i + e < len) {
      v[e] = loadAsFloat<T>(in, i + e);
      if (res) v[e] = codec::addRn(v[e], res[i + e]);
    }
  }
}

// res[i + e] = what encoding v[e] as d[e] lost, for the elements of the group before len.
__device__ __forceinline__ void storeResidual4(float* res, size_t i, size_t len,
                                               const float (&v)[4], const float (&d)[4]) {
  if (i + 4 <= len) {
    *reinterpret_cast<float4*>(res + i) =
        make_float4(residualOf(v[0], d[0]), residualOf(v[1], d[1]), residualOf(v[2], d[2]),
                    residualOf(v[3], d[3]));
    return;
  }
#pragma unroll
  for (int e = 0; e < 4; ++e)
    if (i + e < len) res[i + e] = residualOf(v[e], d[e]);
}

// Element math of the block codecs on the device. encode and decode are the shared functions
// of codecs/*.h; encode4 and decode4 are the same functions on 4 elements whose codes are one
// little-endian word, written for the GPU's instruction set (perf/gpu_codec_bench checks them
// against the CPU codecs bit for bit). Why they give the same bits is said at each; they exist
// because at ~25 instructions per element the generic forms made the kernels compute-bound.

// Non-finite elements of a group of 4, as a bit mask (rare: callers branch on it).
__device__ __forceinline__ uint32_t nonFinite4(const float (&v)[4]) {
  uint32_t m = 0;
#pragma unroll
  for (int e = 0; e < 4; ++e) m |= static_cast<uint32_t>(!codec::isFiniteBits(v[e])) << e;
  return m;
}

// Byte e of w replaced by c.
__device__ __forceinline__ uint32_t withByte(uint32_t w, int e, uint32_t c) {
  return (w & ~(0xffu << (8 * e))) | ((c & 0xffu) << (8 * e));
}

// Fp8 e4m3 (E4 = true) or e5m2. encode4: the hardware's fp8 conversion (cvt.rn.satfinite, sm_89
// and later; older targets take Fp8Format::encodeScaled) rounds to nearest even, keeps subnormals
// and saturates finite values to the largest finite code, which is what Fp8Format::encodeScaled
// computes for every finite y (fp32 denormal y round to +-0 either way: the smallest fp8 subnormal
// is far above them). Non-finite inputs take the special codes of Fp8Format::encode. decode4: the
// code's magnitude bits placed in an fp32 (exponent field of the fp8 width) times 2^(127 - bias) is
// the fp8 value exactly, fp8 subnormals included (fp32 denormals, not flushed: no -ftz), then times
// the scale as decode.
template <typename Format, bool E4>
struct Fp8Dev {
  using Code = uint8_t;
  static constexpr float kMax = Format::kMaxValue;
  static __device__ __forceinline__ Code encode(float x, float inv) {
    return Format::encode(x, inv);
  }
  static __device__ __forceinline__ float decode(Code c, float s) { return Format::decode(c, s); }

  static __device__ __forceinline__ uint32_t pair(float lo, float hi) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 890
    unsigned short d;
    if (E4)
      asm("cvt.rn.satfinite.e4m3x2.f32 %0, %1, %2;" : "=h"(d) : "f"(hi), "f"(lo));
    else
      asm("cvt.rn.satfinite.e5m2x2.f32 %0, %1, %2;" : "=h"(d) : "f"(hi), "f"(lo));
    return d;
#else
    // Before sm_89 there is no fp8 conversion: the CPU codec's rounding, same bits.
    return static_cast<uint32_t>(Format::encodeScaled(lo)) |
           static_cast<uint32_t>(Format::encodeScaled(hi)) << 8;
#endif
  }
  static __device__ __forceinline__ uint32_t encode4(const float (&v)[4], float inv) {
    float y[4];
#pragma unroll
    for (int e = 0; e < 4; ++e) y[e] = codec::mulRn(v[e], inv);
    uint32_t w = pair(y[0], y[1]) | pair(y[2], y[3]) << 16;
    const uint32_t bad = nonFinite4(v);
    if (bad)
#pragma unroll
      for (int e = 0; e < 4; ++e)
        if (bad >> e & 1u) w = withByte(w, e, Format::encode(v[e], inv));
    return w;
  }
  static __device__ __forceinline__ void decode4(uint32_t w, float s, float (&v)[4]) {
    constexpr int kShift = 23 - Format::kMantBits;  // the fp8 exponent field at fp32's
    const float rebias = E4 ? 0x1p120f : 0x1p112f;  // 2^(127 - bias)
#pragma unroll
    for (int e = 0; e < 4; ++e) {
      const uint32_t c = (w >> (8 * e)) & 0xffu;
      const uint32_t sign = (c & 0x80u) << 24;
      const float x = codec::mulRn(bitsFloat(sign | (c & 0x7fu) << kShift), rebias);
      const bool special = E4 ? (c & 0x7fu) == 0x7fu : (c & 0x7cu) == 0x7cu;
      v[e] = special ? Format::decodeRaw(static_cast<uint8_t>(c)) : codec::mulRn(x, s);
    }
  }

  // decode4 of v4 (CodecKernels::kV4). decode4 wrote each element's special case as a select,
  // so the generic decodeRaw ran for every element (e5m2's, with its infinities, is the longer:
  // e5m2 decode-sum 61% of a copy, e4m3 70%). Here codes go to fp16 (e5m2 is fp16's top byte;
  // e4m3 by the sm_89 conversion, exact: every e4m3 value is an fp16), then to fp32 (exact) and
  // times the scale; NaN and infinity codes (rare) take decodeRaw on a branch.
  static __device__ __forceinline__ float2 halves(uint32_t h2) {
    float lo, hi;
    asm("{.reg .f16 l, h;\n\tmov.b32 {l, h}, %2;\n\tcvt.f32.f16 %0, l;\n\tcvt.f32.f16 %1, h;}"
        : "=f"(lo), "=f"(hi)
        : "r"(h2));
    return make_float2(lo, hi);
  }
  // Codes of bytes 0, 1 (hi = false) or 2, 3 of w as an fp16 pair.
  static __device__ __forceinline__ uint32_t halfPair(uint32_t w, bool hi) {
    if (!E4) return __byte_perm(w, 0, hi ? 0x3424 : 0x1404);
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 890
    uint32_t d;
    const unsigned short c = static_cast<unsigned short>(hi ? w >> 16 : w & 0xffffu);
    asm("cvt.rn.f16x2.e4m3x2 %0, %1;" : "=r"(d) : "h"(c));
    return d;
#else
    return 0;  // not used: decode4Half takes decode4 before sm_89
#endif
  }
  static __device__ __forceinline__ void decode4Half(uint32_t w, float s, float (&v)[4]) {
#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ < 890
    if (E4) return decode4(w, s, v);
#endif
    const float2 a = halves(halfPair(w, false)), b = halves(halfPair(w, true));
    v[0] = codec::mulRn(a.x, s);
    v[1] = codec::mulRn(a.y, s);
    v[2] = codec::mulRn(b.x, s);
    v[3] = codec::mulRn(b.y, s);
    const uint32_t special =
        E4 ? __vcmpeq4(w & 0x7f7f7f7fu, 0x7f7f7f7fu) : __vcmpeq4(w & 0x7c7c7c7cu, 0x7c7c7c7cu);
    if (special)
#pragma unroll
      for (int e = 0; e < 4; ++e)
        if (special >> (8 * e) & 1u) v[e] = Format::decodeRaw(static_cast<uint8_t>(w >> (8 * e)));
  }
};
using Fp8E4M3Dev = Fp8Dev<codec::Fp8E4M3Format, true>;
using Fp8E5M2Dev = Fp8Dev<codec::Fp8E5M2Format, false>;

// int8. encode4: y + 1.5 * 2^23 has round(y) (ties to even) in its low mantissa bits for
// |y| < 2^22 (roundNearestEven's first step), so clamping those bits to 0x4b400000 +- 127 and
// keeping the low byte is the code of Int8Format::encode; -128 for non-finite as it.
// decode4: 2^23 + (code + 128) built by byte permutation, minus 2^23 + 128, is float(code)
// exactly (no int-to-float conversion, which runs at a quarter of the rate), times the scale.
struct Int8Dev {
  using Code = int8_t;
  static constexpr float kMax = codec::Int8Format::kMaxValue;
  static __device__ __forceinline__ Code encode(float x, float inv) {
    return codec::Int8Format::encode(x, inv);
  }
  static __device__ __forceinline__ float decode(Code c, float s) {
    return codec::Int8Format::decode(c, s);
  }
  static __device__ __forceinline__ uint32_t encode4(const float (&v)[4], float inv) {
    int32_t q[4];
#pragma unroll
    for (int e = 0; e < 4; ++e) {
      const int32_t b =
          static_cast<int32_t>(floatBits(codec::addRn(codec::mulRn(v[e], inv), 12582912.0f)));
      q[e] = min(max(b, 0x4b400000 - 127), 0x4b400000 + 127);
    }
    uint32_t w =
        __byte_perm(__byte_perm(q[0], q[1], 0x0040), __byte_perm(q[2], q[3], 0x0040), 0x5410);
    const uint32_t bad = nonFinite4(v);
    if (bad)
#pragma unroll
      for (int e = 0; e < 4; ++e)
        if (bad >> e & 1u) w = withByte(w, e, 0x80u);
    return w;
  }
  static __device__ __forceinline__ void decode4(uint32_t w, float s, float (&v)[4]) {
    const uint32_t u = w ^ 0x80808080u;
#pragma unroll
    for (int e = 0; e < 4; ++e) {
      const float c = codec::subRn(bitsFloat(__byte_perm(u, 0x4b000000u, 0x7440 | e)), 8388736.0f);
      v[e] = c == -128.0f ? bitsFloat(0x7fc00000u) : codec::mulRn(c, s);
    }
  }
};

// Readers of element i of one encoded segment of n elements of a non-sparse codec (layouts:
// codecs/codec_layout.h). The block size is a template argument so that i / B is a shift:
// a 64-bit division by a run-time B per element made the decoders compute-bound. decode4
// reads elements i .. i + 3 (i a multiple of 4, the segment 8-byte aligned) with one load of
// their codes: one byte per thread kept too few bytes in flight to reach the copy bandwidth.
// decode4 is fetch4 (the loads) then unpack4 (the math), apart so that a kernel can issue the
// loads of several segments before it waits for the first.
struct Bf16Reader {
  const uint16_t* codes;
  using Raw = uint2;
  __device__ Bf16Reader(const uint8_t* seg, size_t)
      : codes(reinterpret_cast<const uint16_t*>(seg)) {}
  __device__ __forceinline__ float operator()(size_t i) const {
    return codec::Bf16Format::decode(codes[i]);
  }
  __device__ __forceinline__ Raw fetch4(size_t i) const {
    return *reinterpret_cast<const uint2*>(codes + i);
  }
  static __device__ __forceinline__ void unpack4(const Raw& w, float (&v)[4]) {
    v[0] = codec::Bf16Format::decode(static_cast<uint16_t>(w.x & 0xffffu));
    v[1] = codec::Bf16Format::decode(static_cast<uint16_t>(w.x >> 16));
    v[2] = codec::Bf16Format::decode(static_cast<uint16_t>(w.y & 0xffffu));
    v[3] = codec::Bf16Format::decode(static_cast<uint16_t>(w.y >> 16));
  }
  __device__ __forceinline__ void decode4(size_t i, float (&v)[4]) const { unpack4(fetch4(i), v); }
};

// Codes of 4 elements and their block's scale (B is a multiple of 4: one block).
struct CodeWord {
  uint32_t w;
  float s;
};

template <typename Elem, int B>
struct ScaledReader {
  const typename Elem::Code* codes;
  const float* scales;
  using Raw = CodeWord;
  __device__ ScaledReader(const uint8_t* seg, size_t n)
      : codes(reinterpret_cast<const typename Elem::Code*>(seg)),
        scales(reinterpret_cast<const float*>(seg + (n + B - 1) / B * B)) {}
  __device__ __forceinline__ float operator()(size_t i) const {
    return Elem::decode(codes[i], scales[i / B]);
  }
  __device__ __forceinline__ Raw fetch4(size_t i) const {
    return CodeWord{*reinterpret_cast<const uint32_t*>(codes + i), scales[i / B]};
  }
  static __device__ __forceinline__ void unpack4(const Raw& r, float (&v)[4]) {
    Elem::decode4(r.w, r.s, v);
  }
  // With the generic element math: the v2 decode-sum (CodecKernels::kV2) as it was measured.
  __device__ __forceinline__ void decode4(size_t i, float (&v)[4]) const {
    const Raw r = fetch4(i);
#pragma unroll
    for (int e = 0; e < 4; ++e)
      v[e] =
          Elem::decode(static_cast<typename Elem::Code>(static_cast<uint8_t>(r.w >> (8 * e))), r.s);
  }
};
template <typename Elem>
struct ScaledReaderOf {
  template <int B>
  using Reader = ScaledReader<Elem, B>;
};
// The fp8 reader of v4 (decode4Half).
template <typename Elem, int B>
struct Fp8ReaderV4 : ScaledReader<Elem, B> {
  using ScaledReader<Elem, B>::ScaledReader;
  static __device__ __forceinline__ void unpack4(const CodeWord& r, float (&v)[4]) {
    Elem::decode4Half(r.w, r.s, v);
  }
};
template <typename Elem>
struct Fp8ReaderV4Of {
  template <int B>
  using Reader = Fp8ReaderV4<Elem, B>;
};

template <int B>
struct Sign1Reader {
  const uint8_t* bits;
  const float* scales;
  using Raw = CodeWord;  // the 4 bits in the low ones of w
  __device__ Sign1Reader(const uint8_t* seg, size_t n)
      : bits(seg), scales(reinterpret_cast<const float*>(seg + (n + B - 1) / B * B / 8)) {}
  __device__ __forceinline__ float operator()(size_t i) const {
    return codec::Sign1Format::decode((bits[i / 8] >> (i % 8)) & 1u, scales[i / B]);
  }
  __device__ __forceinline__ Raw fetch4(size_t i) const {
    return CodeWord{static_cast<uint32_t>(bits[i / 8] >> (i % 8)), scales[i / B]};
  }
  static __device__ __forceinline__ void unpack4(const Raw& r, float (&v)[4]) {
#pragma unroll
    for (int e = 0; e < 4; ++e) v[e] = codec::Sign1Format::decode((r.w >> e) & 1u, r.s);
  }
  __device__ __forceinline__ void decode4(size_t i, float (&v)[4]) const { unpack4(fetch4(i), v); }
};

// The 1-bit decode-sums' tail: outputs from `first` on, one element per thread, the segments
// summed in order as the CPU does.
template <typename T, int B>
__device__ __forceinline__ void sign1DecodeSumFrom(const DecodeSumArgs& a, size_t first) {
  const size_t stride = static_cast<size_t>(gridDim.x) * blockDim.x;
  for (size_t i = first + static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < a.len;
       i += stride) {
    float x = Sign1Reader<B>(a.in, a.len)(i);
    for (int q = 1; q < a.nseg; ++q)
      x = codec::addRn(x, Sign1Reader<B>(a.in + q * a.segBytes, a.len)(i));
    if (a.divisor) x = codec::divRn(x, static_cast<float>(a.divisor));
    storeFromFloat<T>(a.out, i, x);
  }
}

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

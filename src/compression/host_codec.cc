// CPU encode and decode of one segment per codec (layouts in kernels/codecs/codec_layout.h).
#include "compression/host_codec.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/codecs/bf16_codec.h"
#include "kernels/codecs/fp8_codec.h"
#include "kernels/codecs/int8_codec.h"
#include "kernels/codecs/sign1_codec.h"
#include "kernels/codecs/topk_codec.h"

namespace tutti {
namespace {

using codec::CodecSpec;
using codec::SegmentLayout;

// Copies a partial last block into a zero-padded one, so every block loop has B iterations.
template <int B>
const float* fullBlock(const float* x, size_t len, float* pad) {
  if (len == B) return x;
  for (int i = 0; i < B; ++i) pad[i] = static_cast<size_t>(i) < len ? x[i] : 0.0f;
  return pad;
}

// ---- Max-scaled block codecs (fp8 e4m3/e5m2, int8) ---------------------------------------

struct Fp8E4M3Elem {
  using Code = uint8_t;
  static constexpr float kMax = codec::Fp8E4M3Format::kMaxValue;
  static Code encode(float x, float inv) { return codec::Fp8E4M3Format::encode(x, inv); }
  static float decode(Code c, float s) { return codec::Fp8E4M3Format::decode(c, s); }
};
struct Fp8E5M2Elem {
  using Code = uint8_t;
  static constexpr float kMax = codec::Fp8E5M2Format::kMaxValue;
  static Code encode(float x, float inv) { return codec::Fp8E5M2Format::encode(x, inv); }
  static float decode(Code c, float s) { return codec::Fp8E5M2Format::decode(c, s); }
};
struct Int8Elem {
  using Code = int8_t;
  static constexpr float kMax = codec::Int8Format::kMaxValue;
  static Code encode(float x, float inv) { return codec::Int8Format::encode(x, inv); }
  static float decode(Code c, float s) { return codec::Int8Format::decode(c, s); }
};

template <typename Elem, int B>
void encodeScaled(const float* x, size_t n, uint8_t* out, float* decoded) {
  using Code = typename Elem::Code;
  const size_t nb = (n + B - 1) / B;
  Code* codes = reinterpret_cast<Code*>(out);
  float* scales = reinterpret_cast<float*>(out + nb * B);  // 4-byte aligned: nb * B % 32 == 0
  float pad[B];
  for (size_t b = 0; b < nb; ++b) {
    const size_t len = std::min<size_t>(B, n - b * B);
    const float* v = fullBlock<B>(x + b * B, len, pad);
    int32_t m = 0;
    for (int i = 0; i < B; ++i) {
      int32_t a = codec::finiteMagnitudeBits(v[i]);
      m = a > m ? a : m;
    }
    const codec::BlockScale s =
        codec::scaleFromAmax(bitsFloat(static_cast<uint32_t>(m)), Elem::kMax);
    Code* c = codes + b * B;
    for (int i = 0; i < B; ++i) c[i] = Elem::encode(v[i], s.inverse);
    scales[b] = s.scale;
    if (decoded)
      for (size_t i = 0; i < len; ++i) decoded[b * B + i] = Elem::decode(c[i], s.scale);
  }
}

template <typename Elem, int B>
void decodeScaled(const uint8_t* in, size_t n, float* out, bool accumulate) {
  using Code = typename Elem::Code;
  const size_t nb = (n + B - 1) / B;
  const Code* codes = reinterpret_cast<const Code*>(in);
  const float* scales = reinterpret_cast<const float*>(in + nb * B);
  for (size_t b = 0; b < nb; ++b) {
    const size_t len = std::min<size_t>(B, n - b * B);
    const float s = scales[b];
    const Code* c = codes + b * B;
    float* o = out + b * B;
    if (len == B) {
      if (accumulate)
        for (int i = 0; i < B; ++i) o[i] = codec::addRn(o[i], Elem::decode(c[i], s));
      else
        for (int i = 0; i < B; ++i) o[i] = Elem::decode(c[i], s);
    } else {
      for (size_t i = 0; i < len; ++i)
        o[i] = accumulate ? codec::addRn(o[i], Elem::decode(c[i], s)) : Elem::decode(c[i], s);
    }
  }
}

// ---- 1-bit sign ------------------------------------------------------------------------

template <int B>
void encodeSign1(const float* x, size_t n, uint8_t* out, float* decoded) {
  const size_t nb = (n + B - 1) / B;
  uint8_t* bits = out;
  float* scales = reinterpret_cast<float*>(out + nb * B / 8);
  float pad[B];
  for (size_t b = 0; b < nb; ++b) {
    const size_t len = std::min<size_t>(B, n - b * B);
    const float* v = fullBlock<B>(x + b * B, len, pad);
    // Lane l sums elements l, l + 32, ... as warp lane l does on the GPU.
    float lanes[32];
    int nonFinite = 0;
    for (int l = 0; l < 32; ++l) lanes[l] = 0.0f;
    for (int j = 0; j < B / 32; ++j)
      for (int l = 0; l < 32; ++l) {
        const float e = v[j * 32 + l];
        const bool fin = codec::isFiniteBits(e);
        nonFinite |= !fin;
        lanes[l] = codec::addRn(lanes[l], fin ? bitsFloat(floatBits(e) & 0x7fffffffu) : 0.0f);
      }
    const float scale =
        codec::sign1Scale(codec::sign1ButterflySum(lanes), static_cast<int>(len), nonFinite != 0);
    uint8_t* by = bits + b * B / 8;
    for (int g = 0; g < B / 8; ++g) {
      uint32_t byte = 0;
      for (int k = 0; k < 8; ++k) byte |= codec::Sign1Format::bit(v[g * 8 + k]) << k;
      by[g] = static_cast<uint8_t>(byte);
    }
    scales[b] = scale;
    if (decoded)
      for (size_t i = 0; i < len; ++i)
        decoded[b * B + i] = codec::Sign1Format::decode((by[i / 8] >> (i % 8)) & 1u, scale);
  }
}

template <int B>
void decodeSign1(const uint8_t* in, size_t n, float* out, bool accumulate) {
  const size_t nb = (n + B - 1) / B;
  const float* scales = reinterpret_cast<const float*>(in + nb * B / 8);
  for (size_t b = 0; b < nb; ++b) {
    const size_t len = std::min<size_t>(B, n - b * B);
    const uint8_t* by = in + b * B / 8;
    const float s = scales[b];
    float* o = out + b * B;
    for (size_t i = 0; i < len; ++i) {
      const float v = codec::Sign1Format::decode((by[i / 8] >> (i % 8)) & 1u, s);
      o[i] = accumulate ? codec::addRn(o[i], v) : v;
    }
  }
}

// ---- bf16 ------------------------------------------------------------------------------

void encodeBf16(const float* x, size_t n, uint8_t* out, float* decoded) {
  uint16_t* codes = reinterpret_cast<uint16_t*>(out);
  for (size_t i = 0; i < n; ++i) codes[i] = codec::Bf16Format::encode(x[i]);
  if (decoded)
    for (size_t i = 0; i < n; ++i) decoded[i] = codec::Bf16Format::decode(codes[i]);
}

void decodeBf16(const uint8_t* in, size_t n, float* out, bool accumulate) {
  const uint16_t* codes = reinterpret_cast<const uint16_t*>(in);
  if (accumulate)
    for (size_t i = 0; i < n; ++i)
      out[i] = codec::addRn(out[i], codec::Bf16Format::decode(codes[i]));
  else
    for (size_t i = 0; i < n; ++i) out[i] = codec::Bf16Format::decode(codes[i]);
}

// ---- top-k -----------------------------------------------------------------------------

void encodeTopK(const CodecSpec& spec, const float* x, size_t n, uint8_t* out, float* decoded) {
  const SegmentLayout l = codec::segmentLayout(spec, n);
  float* values = reinterpret_cast<float*>(out);
  uint32_t* index = reinterpret_cast<uint32_t*>(out + l.scaleOffset);
  // Key: magnitude bits high, inverted index low, so that larger keys win and ties go to
  // the lower index; the kept ones are then written in index order.
  std::vector<uint64_t> keys(n);
  for (size_t i = 0; i < n; ++i)
    keys[i] = (static_cast<uint64_t>(codec::topkKey(x[i])) << 32) |
              (0xffffffffu - static_cast<uint32_t>(i));
  if (l.kept < n)
    std::nth_element(keys.begin(), keys.begin() + l.kept, keys.end(), std::greater<uint64_t>());
  std::vector<uint32_t> kept(l.kept);
  for (size_t j = 0; j < l.kept; ++j) kept[j] = 0xffffffffu - static_cast<uint32_t>(keys[j]);
  std::sort(kept.begin(), kept.end());
  for (size_t j = 0; j < l.kept; ++j) {
    values[j] = x[kept[j]];
    index[j] = kept[j];
  }
  if (decoded) {
    std::fill(decoded, decoded + n, 0.0f);
    for (size_t j = 0; j < l.kept; ++j) decoded[kept[j]] = values[j];
  }
}

Result decodeTopK(const CodecSpec& spec, const uint8_t* in, size_t n, float* out, bool accumulate,
                  int peer) {
  const SegmentLayout l = codec::segmentLayout(spec, n);
  const float* values = reinterpret_cast<const float*>(in);
  const uint32_t* index = reinterpret_cast<const uint32_t*>(in + l.scaleOffset);
  for (size_t j = 0; j < l.kept; ++j)
    if (index[j] >= n || (j > 0 && index[j] <= index[j - 1]))
      return setError(tuttiRemoteError,
                      "rank %d sent a top-k segment with index %u at position %zu (segment of "
                      "%zu elements, indices must increase)",
                      peer, index[j], j, n);
  if (!accumulate) std::fill(out, out + n, 0.0f);
  for (size_t j = 0; j < l.kept; ++j) out[index[j]] = codec::addRn(out[index[j]], values[j]);
  return tuttiSuccess;
}

template <template <int> class Fn, typename... Args>
void byBlock(int block, Args... args) {
  switch (block) {
    case 32: Fn<32>::run(args...); break;
    case 64: Fn<64>::run(args...); break;
    default: Fn<128>::run(args...); break;
  }
}

template <typename Elem>
struct EncodeScaledFn {
  template <int B>
  struct At {
    static void run(const float* x, size_t n, uint8_t* out, float* d) {
      encodeScaled<Elem, B>(x, n, out, d);
    }
  };
};
template <typename Elem>
struct DecodeScaledFn {
  template <int B>
  struct At {
    static void run(const uint8_t* in, size_t n, float* out, bool acc) {
      decodeScaled<Elem, B>(in, n, out, acc);
    }
  };
};
template <int B>
struct EncodeSign1Fn {
  static void run(const float* x, size_t n, uint8_t* out, float* d) {
    encodeSign1<B>(x, n, out, d);
  }
};
template <int B>
struct DecodeSign1Fn {
  static void run(const uint8_t* in, size_t n, float* out, bool acc) {
    decodeSign1<B>(in, n, out, acc);
  }
};

}  // namespace

void hostEncodeSegment(const CodecSpec& spec, const float* x, size_t n, uint8_t* out,
                       float* decoded) {
  const SegmentLayout l = codec::segmentLayout(spec, n);
  if (n == 0) return;
  memset(out, 0, l.bytes);  // padding, and codes of a partial last block's missing elements
  switch (spec.codec) {
    case tuttiCodecBf16: encodeBf16(x, n, out, decoded); break;
    case tuttiCodecFp8E4M3:
      byBlock<EncodeScaledFn<Fp8E4M3Elem>::At>(spec.block, x, n, out, decoded);
      break;
    case tuttiCodecFp8E5M2:
      byBlock<EncodeScaledFn<Fp8E5M2Elem>::At>(spec.block, x, n, out, decoded);
      break;
    case tuttiCodecInt8:
      byBlock<EncodeScaledFn<Int8Elem>::At>(spec.block, x, n, out, decoded);
      break;
    case tuttiCodecSign1: byBlock<EncodeSign1Fn>(spec.block, x, n, out, decoded); break;
    case tuttiCodecTopK: encodeTopK(spec, x, n, out, decoded); break;
    default: break;
  }
}

Result hostDecodeSegment(const CodecSpec& spec, const uint8_t* in, size_t n, float* out,
                         bool accumulate, int peer) {
  if (n == 0) return tuttiSuccess;
  switch (spec.codec) {
    case tuttiCodecBf16: decodeBf16(in, n, out, accumulate); break;
    case tuttiCodecFp8E4M3:
      byBlock<DecodeScaledFn<Fp8E4M3Elem>::At>(spec.block, in, n, out, accumulate);
      break;
    case tuttiCodecFp8E5M2:
      byBlock<DecodeScaledFn<Fp8E5M2Elem>::At>(spec.block, in, n, out, accumulate);
      break;
    case tuttiCodecInt8:
      byBlock<DecodeScaledFn<Int8Elem>::At>(spec.block, in, n, out, accumulate);
      break;
    case tuttiCodecSign1: byBlock<DecodeSign1Fn>(spec.block, in, n, out, accumulate); break;
    case tuttiCodecTopK: return decodeTopK(spec, in, n, out, accumulate, peer);
    default: return setError(tuttiInternalError, "unknown codec %d", spec.codec);
  }
  return tuttiSuccess;
}

}  // namespace tutti

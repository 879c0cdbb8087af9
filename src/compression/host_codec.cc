// CPU encode and decode of one segment per codec (layouts in kernels/codecs/codec_layout.h).
#include "compression/host_codec.h"

#include <algorithm>
#include <cstring>
#include <vector>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "kernels/codecs/bf16_codec.h"
#include "kernels/codecs/fp8_codec.h"
#include "kernels/codecs/int8_codec.h"
#include "kernels/codecs/sign1_codec.h"
#include "kernels/codecs/topk_codec.h"

// Hot loops are also compiled for AVX2 and picked at load time where the CPU has it (the
// same IEEE operations, so the same bits; no FMA: -ffp-contract=off).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define TUTTI_HOST_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define TUTTI_HOST_CLONES
#endif

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
TUTTI_HOST_CLONES void encodeScaled(const float* x, size_t n, uint8_t* out, float* decoded) {
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
TUTTI_HOST_CLONES void decodeScaled(const uint8_t* in, size_t n, float* out, bool accumulate) {
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

// Sign bits of 32 floats as a word, bit l for v[l] (stored little-endian: byte g holds
// elements 8g..8g+7, as codec_layout.h says and the GPU's ballot produces).
inline uint32_t signWord(const float* v) {
  uint32_t w = 0;
#if defined(__SSE2__)
  for (int k = 0; k < 8; ++k)
    w |= static_cast<uint32_t>(_mm_movemask_ps(_mm_loadu_ps(v + 4 * k))) << (4 * k);
#else
  for (int l = 0; l < 32; ++l) w |= codec::Sign1Format::bit(v[l]) << l;
#endif
  return w;
}

// o[l] = decode(bit l of w, scale) for 32 elements.
inline void expandSigns(uint32_t w, float scale, float* o) {
#if defined(__SSE2__)
  alignas(16) static const uint32_t kMasks[16][4] = {
      {0, 0, 0, 0},
      {0x80000000u, 0, 0, 0},
      {0, 0x80000000u, 0, 0},
      {0x80000000u, 0x80000000u, 0, 0},
      {0, 0, 0x80000000u, 0},
      {0x80000000u, 0, 0x80000000u, 0},
      {0, 0x80000000u, 0x80000000u, 0},
      {0x80000000u, 0x80000000u, 0x80000000u, 0},
      {0, 0, 0, 0x80000000u},
      {0x80000000u, 0, 0, 0x80000000u},
      {0, 0x80000000u, 0, 0x80000000u},
      {0x80000000u, 0x80000000u, 0, 0x80000000u},
      {0, 0, 0x80000000u, 0x80000000u},
      {0x80000000u, 0, 0x80000000u, 0x80000000u},
      {0, 0x80000000u, 0x80000000u, 0x80000000u},
      {0x80000000u, 0x80000000u, 0x80000000u, 0x80000000u}};
  const __m128 s = _mm_set1_ps(scale);
  for (int k = 0; k < 8; ++k) {
    const __m128 m = _mm_load_ps(reinterpret_cast<const float*>(kMasks[(w >> (4 * k)) & 15u]));
    _mm_storeu_ps(o + 4 * k, _mm_xor_ps(s, m));
  }
#else
  for (int l = 0; l < 32; ++l) o[l] = codec::Sign1Format::decode((w >> l) & 1u, scale);
#endif
}

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
    float lanes[32] = {};
    int32_t nonFinite = 0;
    for (int j = 0; j < B / 32; ++j)
      for (int l = 0; l < 32; ++l) {
        const float e = v[j * 32 + l];
        const int32_t fin = codec::isFiniteBits(e);
        nonFinite |= 1 - fin;
        lanes[l] = codec::addRn(lanes[l], fin ? bitsFloat(floatBits(e) & 0x7fffffffu) : 0.0f);
      }
    const float scale =
        codec::sign1Scale(codec::sign1ButterflySum(lanes), static_cast<int>(len), nonFinite != 0);
    scales[b] = scale;
    for (int j = 0; j < B / 32; ++j) {
      const uint32_t w = signWord(v + 32 * j);
      memcpy(bits + b * B / 8 + 4 * j, &w, 4);
      if (decoded) {
        float d[32];
        expandSigns(w, scale, d);
        const size_t first = static_cast<size_t>(32 * j);
        for (size_t i = first; i < len && i < first + 32; ++i) decoded[b * B + i] = d[i - first];
      }
    }
  }
}

template <int B>
void decodeSign1(const uint8_t* in, size_t n, float* out, bool accumulate) {
  const size_t nb = (n + B - 1) / B;
  const float* scales = reinterpret_cast<const float*>(in + nb * B / 8);
  for (size_t b = 0; b < nb; ++b) {
    const size_t len = std::min<size_t>(B, n - b * B);
    for (int j = 0; j < B / 32 && static_cast<size_t>(32 * j) < len; ++j) {
      uint32_t w;
      memcpy(&w, in + b * B / 8 + 4 * j, 4);
      float d[32];
      expandSigns(w, scales[b], d);
      float* o = out + b * B + 32 * j;
      const size_t m = std::min<size_t>(32, len - 32 * j);
      if (m == 32) {
        if (accumulate)
          for (int l = 0; l < 32; ++l) o[l] = codec::addRn(o[l], d[l]);
        else
          memcpy(o, d, sizeof(d));
      } else {
        for (size_t l = 0; l < m; ++l) o[l] = accumulate ? codec::addRn(o[l], d[l]) : d[l];
      }
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

// The kept-th largest key and how many elements equal to it are kept (lowest indices
// first): a radix select over the 32-bit keys, 16 bits per pass, as the GPU does it in 8.
void topkThreshold(const float* x, size_t n, size_t kept, uint32_t* threshold, size_t* ties) {
  std::vector<uint32_t> hist(65536);
  uint32_t prefix = 0, mask = 0;
  size_t remaining = kept;
  for (int pass = 0; pass < 2; ++pass) {
    const int shift = 16 - 16 * pass;
    std::fill(hist.begin(), hist.end(), 0u);
    for (size_t i = 0; i < n; ++i) {
      const uint32_t key = codec::topkKey(x[i]);
      if ((key & mask) == prefix) ++hist[(key >> shift) & 0xffffu];
    }
    size_t above = 0;
    for (int d = 65535; d >= 0; --d) {
      if (above + hist[d] >= remaining) {
        remaining -= above;
        prefix |= static_cast<uint32_t>(d) << shift;
        mask |= 0xffffu << shift;
        break;
      }
      above += hist[d];
    }
  }
  *threshold = prefix;
  *ties = remaining;
}

void encodeTopK(const CodecSpec& spec, const float* x, size_t n, uint8_t* out, float* decoded) {
  const SegmentLayout l = codec::segmentLayout(spec, n);
  float* values = reinterpret_cast<float*>(out);
  uint32_t* index = reinterpret_cast<uint32_t*>(out + l.scaleOffset);
  uint32_t threshold = 0;
  size_t ties = 0;
  topkThreshold(x, n, l.kept, &threshold, &ties);
  // Every key above the threshold, and the first `ties` equal to it, in index order.
  size_t w = 0;
  for (size_t i = 0; i < n; ++i) {
    const uint32_t key = codec::topkKey(x[i]);
    const bool take = key > threshold || (key == threshold && ties > 0);
    if (key == threshold && ties > 0) --ties;
    if (take) {
      values[w] = x[i];
      index[w] = static_cast<uint32_t>(i);
      ++w;
    }
  }
  if (decoded) {
    std::fill(decoded, decoded + n, 0.0f);
    for (size_t j = 0; j < w; ++j) decoded[index[j]] = values[j];
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

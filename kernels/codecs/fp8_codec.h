// Block-scaled fp8 (e4m3 and e5m2): element functions shared by the CPU and the GPU.
// A block of B elements has one fp32 scale = amax / maxFinite, amax being the block's largest
// finite magnitude; each element is stored as the fp8 code of x / scale, rounded to nearest
// (ties to even) and saturated to +-maxFinite. Decoding is code * scale.
// Non-finite inputs never touch the scale: NaN encodes as NaN; +-inf as +-inf in e5m2 and as
// NaN in e4m3 (which has no infinity); every other element of the block is encoded as usual.
// fp32 denormals (and whole blocks below 2^-100, see codec_math.h) round to zero.
#pragma once

#include <cstdint>

#include "codec_math.h"

namespace tutti {
namespace codec {

// E exponent bits, M mantissa bits, exponent bias Bias; IEEE-style infinities or not.
template <int E, int M, int Bias, bool HasInf>
struct Fp8Format {
  static constexpr int kMantBits = M;
  static constexpr int kMinExp = 1 - Bias;  // exponent of the smallest normal
  // Largest finite code and value: e4m3 0x7e = 448 (0x7f is NaN), e5m2 0x7b = 57344.
  static constexpr uint32_t kMaxCode = HasInf ? 0x7bu : 0x7eu;
  static constexpr float kMaxValue = HasInf ? 57344.0f : 448.0f;
  static constexpr uint32_t kNanCode = 0x7fu;
  static constexpr uint32_t kInfCode = HasInf ? 0x7cu : 0x7fu;

  // Code of a finite y (already divided by the block scale), round to nearest even,
  // saturating. Written without branches on data so that host loops vectorise.
  static TUTTI_HD uint8_t encodeScaled(float y) {
    const uint32_t yb = floatBits(y);
    const uint32_t sign = (yb >> 24) & 0x80u;
    const float a = bitsFloat(yb & 0x7fffffffu);
    int32_t e = static_cast<int32_t>((yb & 0x7fffffffu) >> 23);
    e = e < 127 + kMinExp ? 127 + kMinExp : e;
    e = e > 127 + 16 ? 127 + 16 : e;  // beyond every fp8 range: saturated below
    // Adding 1.5 * 2^(e + 23 - M) rounds a to a multiple of 2^(e - M), ties to even.
    const float c = bitsFloat(static_cast<uint32_t>(e + 23 - M) << 23);
    const float r = subRn(addRn(a, c), c);
    const uint32_t rb = floatBits(r);
    const uint32_t normal = (rb >> (23 - M)) - (static_cast<uint32_t>(127 - Bias) << M);
    const float subScale = bitsFloat(static_cast<uint32_t>(127 + M - kMinExp) << 23);
    const uint32_t sub = static_cast<uint32_t>(static_cast<int32_t>(mulRn(r, subScale)));
    const float minNormal = bitsFloat(static_cast<uint32_t>(127 + kMinExp) << 23);
    uint32_t code = r < minNormal ? sub : normal;
    code = (a >= kMaxValue || code > kMaxCode) ? kMaxCode : code;
    return static_cast<uint8_t>(sign | code);
  }

  static TUTTI_HD uint8_t encode(float x, float inverse) {
    const uint32_t xb = floatBits(x);
    const uint32_t sign = (xb >> 24) & 0x80u;
    const uint32_t mag = xb & 0x7fffffffu;
    const uint8_t finite = encodeScaled(mulRn(isFiniteBits(x) ? x : 0.0f, inverse));
    const uint8_t special = static_cast<uint8_t>(sign | (mag == 0x7f800000u ? kInfCode : kNanCode));
    return mag < 0x7f800000u ? finite : special;
  }

  // The fp8 value of `code` (no scale), NaN and infinities included.
  static TUTTI_HD float decodeRaw(uint8_t code) {
    const uint32_t mag = code & 0x7fu;
    const uint32_t exp = mag >> M;
    const uint32_t mant = mag & ((1u << M) - 1u);
    const float normal = bitsFloat(((exp + 127u - Bias) << 23) | (mant << (23 - M)));
    const float sub =
        mulRn(static_cast<float>(mant), bitsFloat(static_cast<uint32_t>(127 + kMinExp - M) << 23));
    float v = exp == 0 ? sub : normal;
    if (HasInf) {
      const float inf = bitsFloat(mant ? 0x7fc00000u : 0x7f800000u);
      v = exp == (1u << E) - 1u ? inf : v;
    } else {
      v = mag == 0x7fu ? bitsFloat(0x7fc00000u) : v;
    }
    return bitsFloat(floatBits(v) | (static_cast<uint32_t>(code & 0x80u) << 24));
  }

  // code * scale; NaN and infinity codes decode to themselves whatever the scale.
  static TUTTI_HD float decode(uint8_t code, float scale) {
    const float v = decodeRaw(code);
    return isFiniteBits(v) ? mulRn(v, scale) : v;
  }
};

using Fp8E4M3Format = Fp8Format<4, 3, 7, false>;
using Fp8E5M2Format = Fp8Format<5, 2, 15, true>;

}  // namespace codec
}  // namespace tutti

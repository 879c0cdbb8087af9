// Block-scaled symmetric int8: element functions shared by the CPU and the GPU. A block's
// scale is amax / 127 (amax: its largest finite magnitude); x is stored as round(x / scale),
// ties to even, in -127..127. Code -128 marks a non-finite input (NaN or +-inf), which
// decodes as NaN: the other elements of its block are unaffected. fp32 denormals (and blocks
// below 2^-100, see codec_math.h) round to zero.
#pragma once

#include <cstdint>

#include "codec_math.h"

namespace tutti {
namespace codec {

struct Int8Format {
  static constexpr float kMaxValue = 127.0f;
  static constexpr int8_t kNonFiniteCode = -128;

  static TUTTI_HD int8_t encode(float x, float inverse) {
    const bool finite = isFiniteBits(x);
    float q = roundNearestEven(mulRn(finite ? x : 0.0f, inverse));
    q = q > kMaxValue ? kMaxValue : q;
    q = q < -kMaxValue ? -kMaxValue : q;
    const int8_t code = static_cast<int8_t>(static_cast<int32_t>(q));
    return finite ? code : kNonFiniteCode;
  }

  static TUTTI_HD float decode(int8_t code, float scale) {
    const float v = mulRn(static_cast<float>(code), scale);
    return code == kNonFiniteCode ? bitsFloat(0x7fc00000u) : v;
  }
};

}  // namespace codec
}  // namespace tutti

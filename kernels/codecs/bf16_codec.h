// bfloat16 cast: x rounded to the nearest bfloat16, ties to even (float_types.h). NaN stays
// NaN, +-inf stays +-inf, finite values above the largest bfloat16 round to infinity as IEEE
// rounding does, fp32 denormals keep their top 7 mantissa bits. No scale, no blocks.
#pragma once

#include <cstdint>

#include "codec_math.h"

namespace tutti {
namespace codec {

struct Bf16Format {
  static TUTTI_HD uint16_t encode(float x) { return floatToBf16Bits(x); }
  static TUTTI_HD float decode(uint16_t code) { return bf16BitsToFloat(code); }
};

}  // namespace codec
}  // namespace tutti

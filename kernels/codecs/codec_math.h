// Arithmetic shared by every codec on the CPU and the GPU. Products and sums go through mulRn
// and addRn so that CUDA never fuses them into an FMA (the host build of src/compression uses
// -ffp-contract=off): both executors then produce the same bits for the same input.
#pragma once

#include <cstdint>

#include "../float_types.h"
#include "../host_device.h"

namespace tutti {
namespace codec {

TUTTI_HD float mulRn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fmul_rn(a, b);
#else
  return a * b;
#endif
}

TUTTI_HD float addRn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fadd_rn(a, b);
#else
  return a + b;
#endif
}

TUTTI_HD float subRn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fsub_rn(a, b);
#else
  return a - b;
#endif
}

TUTTI_HD float divRn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fdiv_rn(a, b);
#else
  return a / b;
#endif
}

// |x| as bits, for finite x; 0 for inf and NaN. Non-negative floats order like their bits, so
// an integer max of these is the largest finite magnitude (vectorises as integer compares).
TUTTI_HD int32_t finiteMagnitudeBits(float x) {
  int32_t a = static_cast<int32_t>(floatBits(x) & 0x7fffffffu);
  return a < 0x7f800000 ? a : 0;
}

TUTTI_HD bool isFiniteBits(float x) { return (floatBits(x) & 0x7fffffffu) < 0x7f800000u; }

// Blocks whose largest finite magnitude is below this (2^-100, about 7.9e-31) encode as zeros:
// their scale's inverse would overflow fp32. Anything that small is far below any gradient
// that matters; the absolute error stays under 2^-100 per element.
constexpr float kTinyAmax = 7.8886090522101181e-31f;  // 2^-100

// Block scale of a max-scaled codec: decoded = code * scale, encoded = code(x * inverse).
struct BlockScale {
  float scale;    // written to the stream; 0 for an all-zero (or tiny) block
  float inverse;  // multiplies inputs before rounding to a code; 0 with scale 0
};

TUTTI_HD BlockScale scaleFromAmax(float amax, float codeMax) {
  if (!(amax >= kTinyAmax)) return BlockScale{0.0f, 0.0f};
  return BlockScale{divRn(amax, codeMax), divRn(codeMax, amax)};
}

// Rounds |y| < 2^22 to the nearest integer, ties to even, without a rounding instruction
// (vectorises with plain SSE2): adding 1.5 * 2^23 leaves no fraction bits.
TUTTI_HD float roundNearestEven(float y) {
  const float magic = 12582912.0f;  // 1.5 * 2^23
  return subRn(addRn(y, magic), magic);
}

}  // namespace codec
}  // namespace tutti

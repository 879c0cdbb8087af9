// 1-bit sign with a per-block scale: element functions shared by the CPU and the GPU. A block
// of B elements stores one bit per element, its sign bit, and one fp32 scale, the mean
// magnitude of the block's elements; each decodes as +-scale (+0 as +scale, -0 as -scale).
// One bit cannot mark a single element, so a block holding a NaN or an infinity gets a NaN
// scale: that block (B elements) decodes as NaN, no other block is affected.
// The mean is summed in one fixed order on both executors (lane l of 32 sums elements l,
// l + 32, ...; then the 32 partial sums combine as a butterfly: see sign1BlockSum).
#pragma once

#include <cstdint>

#include "codec_math.h"

namespace tutti {
namespace codec {

struct Sign1Format {
  static TUTTI_HD uint32_t bit(float x) { return floatBits(x) >> 31; }
  static TUTTI_HD float decode(uint32_t bit, float scale) {
    return bitsFloat(floatBits(scale) ^ (bit << 31));
  }
};

// Combines 32 lane partial sums into the value every lane of a warp holds after an
// xor-butterfly (offsets 16, 8, 4, 2, 1: lane l adds lane l ^ off). IEEE addition is
// commutative, so all lanes agree and lane 0's value is this halving tree: at each step
// p[l] + p[l + off] for l < off. Overwrites p.
TUTTI_HD float sign1ButterflySum(float* p) {
  for (int off = 16; off >= 1; off >>= 1)
    for (int l = 0; l < off; ++l) p[l] = addRn(p[l], p[l + off]);
  return p[0];
}

// Scale of one block from the sum of its finite magnitudes; NaN when it held a non-finite.
TUTTI_HD float sign1Scale(float magnitudeSum, int len, bool nonFinite) {
  if (nonFinite) return bitsFloat(0x7fc00000u);
  return divRn(magnitudeSum, static_cast<float>(len));
}

}  // namespace codec
}  // namespace tutti

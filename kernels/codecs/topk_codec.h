// Top-k: of a segment of n elements, the kept = ceil(fraction * n) largest magnitudes are sent
// as fp32 values with their uint32 indices (relative to the segment), in increasing index
// order; everything else decodes as zero. Selection order is by magnitude bits, so NaN, then
// +-inf, then finite values by size; equal magnitudes are kept lowest index first. Values are
// sent exactly (NaN and inf included), so a kept element loses nothing.
#pragma once

#include <cstddef>
#include <cstdint>

#include "codec_math.h"

namespace tutti {
namespace codec {

// Selection key: larger means kept first (|x| as bits; NaN > inf > finite).
TUTTI_HD uint32_t topkKey(float x) { return floatBits(x) & 0x7fffffffu; }

// Elements kept of a segment of n (at least one of a non-empty segment, at most n).
TUTTI_HD size_t topkKept(float fraction, size_t n) {
  if (n == 0) return 0;
  const double want = static_cast<double>(fraction) * static_cast<double>(n);
  size_t k = static_cast<size_t>(want);
  if (static_cast<double>(k) < want) ++k;
  if (k < 1) k = 1;
  return k > n ? n : k;
}

}  // namespace codec
}  // namespace tutti

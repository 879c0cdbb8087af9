// The byte layout of one encoded segment (n consecutive elements), per codec. A segment is
// what one rank sends another in the all-to-all (or contributes to the all-gather); its size
// depends only on (codec, block size, top-k fraction, n), so every rank computes it alone.
// Blocks are counted from the segment's first element; the last block may be partial (its
// missing elements encode as zeros). Every segment is padded with zeros to a multiple of 16
// bytes. All multi-byte fields are little-endian (every rank has the host's byte order).
//
//   bf16   uint16 code[n]                                  2 bytes per element
//   fp8    uint8  code[nb * B]    | float scale[nb]         e4m3 / e5m2 codes, scale = amax/max
//   int8   int8   code[nb * B]    | float scale[nb]         -127..127, -128 = non-finite
//   sign1  uint8  bits[nb * B / 8] | float scale[nb]        bit i%8 of byte i/8: sign bit of i
//   top-k  float  value[kept]     | uint32 index[kept]      indices increasing, < n
//
// with nb = ceil(n / B), B the block size (32, 64 or 128), kept = topkKept(fraction, n).
#pragma once

#include <cstddef>
#include <cstdint>

#include "../host_device.h"
#include "topk_codec.h"
#include "tutti/tutti.h"

namespace tutti {
namespace codec {

// A validated codec choice (the public tuttiCompression_t without its versioning fields).
struct CodecSpec {
  tuttiCodec_t codec = tuttiCodecInt8;
  int block = 32;
  float topkFraction = 0.01f;
};

struct SegmentLayout {
  size_t elems = 0;        // n
  size_t blocks = 0;       // nb (block codecs), else 0
  size_t kept = 0;         // top-k: values sent
  size_t scaleOffset = 0;  // byte offset of the scales (block codecs) or indices (top-k)
  size_t bytes = 0;        // the whole segment, padded to 16 bytes
};

TUTTI_HD size_t roundUp16(size_t b) { return (b + 15) & ~static_cast<size_t>(15); }

TUTTI_HD SegmentLayout segmentLayout(const CodecSpec& s, size_t n) {
  SegmentLayout l;
  l.elems = n;
  if (n == 0) return l;
  const size_t b = static_cast<size_t>(s.block);
  switch (s.codec) {
    case tuttiCodecBf16: l.bytes = roundUp16(2 * n); break;
    case tuttiCodecFp8E4M3:
    case tuttiCodecFp8E5M2:
    case tuttiCodecInt8:
      l.blocks = (n + b - 1) / b;
      l.scaleOffset = l.blocks * b;
      l.bytes = roundUp16(l.scaleOffset + 4 * l.blocks);
      break;
    case tuttiCodecSign1:
      l.blocks = (n + b - 1) / b;
      l.scaleOffset = l.blocks * b / 8;
      l.bytes = roundUp16(l.scaleOffset + 4 * l.blocks);
      break;
    case tuttiCodecTopK:
      l.kept = topkKept(s.topkFraction, n);
      l.scaleOffset = 4 * l.kept;
      l.bytes = roundUp16(8 * l.kept);
      break;
    default: break;
  }
  return l;
}

}  // namespace codec
}  // namespace tutti

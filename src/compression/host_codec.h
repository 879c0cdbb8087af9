// The codecs on the CPU: encode and decode one segment of fp32 values in the layout of
// kernels/codecs/codec_layout.h, with the element functions the GPU kernels use. Loops over
// blocks of a compile-time size so that the compiler vectorises them.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/error.h"
#include "kernels/codecs/codec_layout.h"

namespace tutti {

// Encodes x[0..n) into out (segmentLayout(spec, n).bytes bytes, padding zeroed). When
// `decoded` is not null it receives decode(encode(x)), the values every receiver will see.
// Top-k needs n < 2^32 (its indices are uint32): the caller checks.
void hostEncodeSegment(const codec::CodecSpec& spec, const float* x, size_t n, uint8_t* out,
                       float* decoded);

// Decodes a segment of n elements into out: out[i] = v (accumulate false) or out[i] += v
// (accumulate true). The segment came from a peer: a top-k index out of range or out of
// order is reported as tuttiRemoteError naming `peer`, before anything is written.
Result hostDecodeSegment(const codec::CodecSpec& spec, const uint8_t* in, size_t n, float* out,
                         bool accumulate, int peer);

}  // namespace tutti

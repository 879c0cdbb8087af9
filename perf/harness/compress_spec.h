// --compress CODEC[:param][,internode]: the codec the compressed collectives of a run use, as
// the harness parses it (numbering as tuttiCodec_t), and the bytes each rank puts on the wire.
#pragma once

#include <cstddef>
#include <string>

#include "harness/status.h"

namespace tutti::perf {

struct CompressSpec {
  bool enabled = false;
  int codec = 3;  // tuttiCodec_t: 0 bf16, 1 fp8_e4m3, 2 fp8_e5m2, 3 int8, 4 topk, 5 sign1
  int block = 32;
  float topkFraction = 0.01f;
  bool interNodeOnly = false;
  std::string text;  // as given, for the header
};

// "int8", "int8:64", "fp8_e4m3:128", "fp8" (e4m3), "fp8_e5m2", "bf16", "topk:0.01", "sign1:32"
// ("1bit"), optionally followed by ",internode".
Status parseCompressSpec(const std::string& text, CompressSpec* out);
// Top-k and 1-bit run with an error-feedback state (the library refuses them without one).
bool compressNeedsState(const CompressSpec& spec);
// "int8:32", "topk:0.01", "bf16".
std::string describeCompressSpec(const CompressSpec& spec);

// Encoded bytes each rank sends in one call of `collective` ("all_reduce", "reduce_scatter",
// "all_gather") with API count `count` on `nranks` ranks, given the encoded size of n elements
// (the library's tuttiCompressedSize). AllReduce splits the count into block-aligned shards
// and sends one segment of the largest to each peer twice (all-to-all, then all-gather).
size_t compressedWireBytes(const CompressSpec& spec, const std::string& collective, size_t count,
                           int nranks, size_t (*segmentBytes)(const CompressSpec&, size_t, void*),
                           void* ctx);

}  // namespace tutti::perf

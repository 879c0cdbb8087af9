// How a compressed collective splits its elements into shards, one per owning rank (the rule
// in kernels/codecs/segment_rule.h, shared with the GPU kernels).
#pragma once

#include <cstddef>
#include <vector>

#include "kernels/codecs/segment_rule.h"

namespace tutti {

using Shard = codec::SegmentSpan;

inline codec::SegmentRule blockAlignedRule(size_t n, int parts, int block) {
  codec::SegmentRule r;
  r.kind = codec::SegmentRule::kBlockAligned;
  r.n = n;
  r.parts = parts;
  r.block = block;
  return r;
}

inline codec::SegmentRule uniformRule(size_t len) {
  codec::SegmentRule r;
  r.kind = codec::SegmentRule::kUniform;
  r.uniform = len;
  return r;
}

inline std::vector<Shard> shardsOf(const codec::SegmentRule& rule, int parts) {
  std::vector<Shard> s(parts);
  for (int p = 0; p < parts; ++p) s[p] = rule.span(p);
  return s;
}

// n elements in `parts` contiguous shards on block boundaries (whole blocks of `block`
// elements, spread as evenly as blocks allow; the last shard ends at n).
inline std::vector<Shard> blockAlignedShards(size_t n, int parts, int block) {
  return shardsOf(blockAlignedRule(n, parts, block), parts);
}

}  // namespace tutti

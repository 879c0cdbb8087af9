// Which elements each encoded segment of a compressed collective covers, as a rule the host
// and the kernels evaluate alike (the kernels get the rule, not a table of P entries).
#pragma once

#include <cstddef>

#include "../host_device.h"

namespace tutti {
namespace codec {

struct SegmentSpan {
  size_t offset = 0;  // first element in the call's vector
  size_t len = 0;
};

struct SegmentRule {
  enum Kind : int { kBlockAligned = 0, kUniform = 1 };
  int kind = kUniform;
  size_t n = 0;  // kBlockAligned: elements split into `parts` shards of whole blocks
  int parts = 1;
  int block = 32;
  size_t uniform = 0;  // kUniform: segment j is [j * uniform, (j + 1) * uniform)

  // kBlockAligned: blocks spread as evenly as they go, the last shard ending at n.
  TUTTI_HD SegmentSpan span(int j) const {
    if (kind == kUniform) return SegmentSpan{static_cast<size_t>(j) * uniform, uniform};
    const size_t nb = (n + block - 1) / block;
    const size_t b0 = nb * j / parts, b1 = nb * (j + 1) / parts;
    const size_t e0 = b0 * block < n ? b0 * block : n;
    const size_t e1 = b1 * block < n ? b1 * block : n;
    return SegmentSpan{e0, e1 - e0};
  }
};

}  // namespace codec
}  // namespace tutti

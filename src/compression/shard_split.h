// How a compressed collective splits its elements into shards, one per owning rank.
#pragma once

#include <cstddef>
#include <vector>

namespace tutti {

struct Shard {
  size_t offset = 0;  // first element in the call's vector
  size_t len = 0;
};

// n elements in `parts` contiguous shards on block boundaries (whole blocks of `block`
// elements, spread as evenly as blocks allow; the last shard ends at n).
inline std::vector<Shard> blockAlignedShards(size_t n, int parts, int block) {
  std::vector<Shard> s(parts);
  const size_t nb = (n + block - 1) / block;
  for (int p = 0; p < parts; ++p) {
    const size_t b0 = nb * p / parts, b1 = nb * (p + 1) / parts;
    const size_t e0 = b0 * block < n ? b0 * block : n;
    const size_t e1 = b1 * block < n ? b1 * block : n;
    s[p] = Shard{e0, e1 - e0};
  }
  return s;
}

}  // namespace tutti

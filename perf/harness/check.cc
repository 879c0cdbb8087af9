// Element-wise comparison of outputs with DataGen's expected values.
#include "harness/check.h"

#include <cmath>
#include <cstring>

namespace tutti::perf {

int64_t countWrong(const DataGen& gen, const std::vector<Segment>& segments, const void* out) {
  const uint8_t* bytes = static_cast<const uint8_t*>(out);
  const size_t ws = gen.typeBytes();
  const double tol = gen.reduceTolerance();
  int64_t wrong = 0;
  for (const Segment& s : segments) {
    const bool reduced = s.srcRank == Segment::kReduced;
    for (size_t t = 0; t < s.count; ++t) {
      const uint8_t* got = bytes + (s.outOffset + t) * ws;
      size_t j = gen.index(s.srcElem + t);
      if (!reduced || tol == 0) {
        const uint8_t* want = reduced ? gen.reducedBytes(j) : gen.valueBytes(s.srcRank, j);
        if (memcmp(got, want, ws) != 0) ++wrong;
      } else {
        double g = decodeValue(gen.type(), got);
        if (!(std::fabs(g - gen.reduced(j)) <= tol)) ++wrong;  // NaN counts as wrong
      }
    }
  }
  return wrong;
}

}  // namespace tutti::perf

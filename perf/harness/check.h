// Result check: compares a rank's output (copied to host) with the expected segments of its
// collective, exactly for integer types and exact float results, within tolerance otherwise.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "harness/collective.h"
#include "harness/data_gen.h"

namespace tutti::perf {

// Number of wrong elements among the segments of `out` (a host copy of the output buffer).
int64_t countWrong(const DataGen& gen, const std::vector<Segment>& segments, const void* out);

}  // namespace tutti::perf

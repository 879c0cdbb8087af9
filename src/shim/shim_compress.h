// Opt-in compression of ncclAllReduce for unchanged frameworks (docs/compression.md): with
// TUTTI_SHIM_COMPRESS set, qualifying AllReduces run as Tutti compressed AllReduces with
// error feedback kept per (buffer, count, datatype).
#pragma once

#include "shim/shim_call.h"
#include "tutti/tutti.h"

namespace tutti::shim {

// When TUTTI_SHIM_COMPRESS is set and `c` qualifies (an AllReduce outside any group, sum or
// avg, float32/float16/bfloat16, at least TUTTI_SHIM_COMPRESS_MIN_BYTES, more than one rank),
// runs it compressed and returns true with the outcome in *result; else returns false.
bool shimCompressedAllReduce(const ShimCall& c, tuttiRedOp_t op, tuttiResult_t* result);

}  // namespace tutti::shim

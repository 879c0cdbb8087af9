// PreMulSum on host buffers: the plans reduce a scaled copy of this rank's input, so only this
// rank's contribution is multiplied by its scalar.
#pragma once

#include <vector>

#include "core/coll_call.h"

namespace tutti {

// The input `call` reduces: call.sendbuff, or for a PreMulSum op a copy scaled by the call's
// scalar, made in *stage (which must outlive the run).
const char* premulInput(const CollCall& call, int nranks, std::vector<char>* stage);

}  // namespace tutti

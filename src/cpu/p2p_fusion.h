// Group semantics for point-to-point on the CPU executor: a run of consecutive Send/Recv calls
// of one communicator becomes one single-step plan, so any pairing completes without deadlock.
#pragma once

#include <vector>

#include "algorithms/plan.h"
#include "base/error.h"
#include "core/coll_call.h"

namespace tutti {

bool isP2p(const CollCall& c);

// Fuses calls[first, last) (all Send/Recv) into *plan; *bases gets the buffer of each op as
// extra buffer i (BufferId kFirstExtra + i), after the send/recv/scratch slots. Sends to self
// are copied into the matching receives from self, in order.
Result fuseP2p(const std::vector<CollCall>& calls, size_t first, size_t last, int rank, Plan* plan,
               std::vector<char*>* bases);

}  // namespace tutti

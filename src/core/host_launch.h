// Runs host-memory calls on the CPU executor: plans from the tuner, PreMulSum staging,
// point-to-point fusion, then one progress loop for every communicator involved.
#pragma once

#include <utility>
#include <vector>

#include "core/coll_call.h"
#include "core/comm.h"

namespace tutti {

// Each entry: a communicator and its calls, in call order.
Result runHostCalls(std::vector<std::pair<Comm*, std::vector<CollCall>>>& work);
// One host call outside a group: cached plan and reused run when the call allows it.
Result runHostCall(Comm* comm, const CollCall& call);

}  // namespace tutti

// From one host call to its plan: the tuner's choice for the CPU executor (or the proxy, which
// runs the same plans on staged chunks), the plan builder of that algorithm, and the buffers
// the plan refers to.
#pragma once

#include "algorithms/plan.h"
#include "core/coll_call.h"
#include "core/comm.h"

namespace tutti {

// In place as the API defines it per collective (AllToAllv never is).
bool runsInPlace(const CollCall& call, int rank, const char* send, const char* recv);

// Builds the plan of `call` on (send, recv), which decide only whether it runs in place, with
// the algorithm the tuner picks for executor `e`. A forced algorithm `e` lacks is an error
// naming what it runs. Logs what runs (Tuner::noteRan).
Result buildCallPlan(Comm* comm, ExecutorKind e, const CollCall& call, const char* send, char* recv,
                     Plan* plan);

}  // namespace tutti

// Launch modes of a perf binary: under mpirun (MPI bootstrap, or TUTTI_COMM_ID without MPI),
// or --np N local ranks started by fork(). perfMain is the whole program behind every binary.
#pragma once

#include <memory>

#include "harness/backend.h"
#include "harness/collective.h"
#include "harness/control.h"
#include "harness/local_ranks.h"
#include "harness/options.h"

namespace tutti::perf {

// Exit codes: 0 all correct, 1 wrong values, 2 bad command line, 3 a run-time error.
constexpr int kExitOk = 0;
constexpr int kExitWrong = 1;
constexpr int kExitUsage = 2;
constexpr int kExitError = 3;

int perfMain(const char* collective, int argc, char** argv);

// Process placement found in the environment of a launcher (OpenMPI, MPICH/PMI).
struct LauncherEnv {
  bool present = false;
  int rank = 0;
  int size = 1;
  int localRank = -1;  // -1: not given
};
LauncherEnv detectLauncher();

// Runs this process' ranks (init, sweep, teardown, JSON). `control` may be null in "env" mode:
// it is then built on the communicator. Returns an exit code.
int runProcess(const Collective& coll, const Options& opts, Backend& backend, Control* control,
               const ProcessPlace& place);

#ifdef TUTTI_PERF_HAVE_MPI
int runUnderMpi(const Collective& coll, const Options& opts, Backend& backend, int* argc,
                char*** argv);
#endif

}  // namespace tutti::perf

// Forces every (collective, algorithm) an executor declares, runs it, checks the result against
// the CPU reference and that the INFO log says that pair ran on that executor. Used for the CPU
// and host-emulated proxy executors (multiproc) and the real GPU executors (tests/gpu).
#pragma once

#include <string>

#include "algorithms/capabilities.h"
#include "testing/run_ranks.h"

namespace tutti::testing {

// A temporary directory for per-process log files (TUTTI_DEBUG_FILE=<dir>/log-%p).
struct LogDir {
  char path[64] = "/tmp/tutti-choice-XXXXXX";
  LogDir();
  ~LogDir();
  // What this process has logged there so far.
  std::string read() const;
};

// Options that log INFO lines into `dir`.
RankOptions infoLogOptions(const LogDir& dir);

// On one rank: every pair of `caps` (Send and Recv aside), forced in turn with TUTTI_ALGO's
// syntax. `device` runs device buffers (installed memory ops), `forceDevicePath` host memory as
// device calls (the emulated proxy). Failures are gtest failures naming the rank and case.
void checkEveryPair(tuttiComm_t comm, int rank, int n, ExecutorKind kind, const Capabilities& caps,
                    const LogDir& dir, bool device, bool forceDevicePath, void* stream);

}  // namespace tutti::testing

// Runs the plans of all ranks of one call in one process, the way the CPU executor would
// (steps in order, ops of a step concurrently, per-peer message order, bounded FIFOs), so
// unit tests can check any algorithm on any layout quickly and catch deadlocks.
#pragma once

#include <string>
#include <vector>

#include "algorithms/plan.h"
#include "algorithms/rank_layout.h"

namespace tutti::testing {

struct SimResult {
  std::string error;                      // "" when every rank finished and headers matched
  std::vector<std::vector<int64_t>> out;  // each rank's receive buffer, as int64 elements
  int maxSteps = 0;
};

// Builds `algo`'s plan for every rank (int64 elements, sum, or avg when `average`) with the
// given layout and channels, runs them with FIFOs of `fifoBytes` per directed pair, and
// returns the receive buffers. Rank r's input element j is input(r, j).
SimResult simulateCollective(Collective c, Algorithm algo, const RankLayout& layout, size_t count,
                             int root, bool inPlace, int channels, size_t fifoBytes);

// The expected receive buffer of `rank` for the same call.
std::vector<int64_t> expectedOutput(Collective c, int nranks, int rank, size_t count, int root);

int64_t simInput(int rank, size_t j);

}  // namespace tutti::testing

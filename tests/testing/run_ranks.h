// Multi-process test fixture: runRanks(n, fn) forks n processes, each joins one communicator
// and runs fn; the parent reports every rank that failed, crashed or hung.
#pragma once

#include <functional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "tutti/tutti.h"

namespace tutti::testing {

// Runs in each forked child before it joins the communicator (e.g. to enter a namespace).
using RankHook = std::function<void(int rank)>;

struct RankOptions {
  int timeoutSec = 240;                                  // whole run, per process
  std::vector<std::pair<std::string, std::string>> env;  // set in every child before init
  bool createComm = true;                                // false: fn gets comm == nullptr
  std::set<int> expectKilled;                            // ranks that SIGKILL themselves
  RankHook beforeInit;                                   // in the child, before init
};

using RankFn = std::function<void(tuttiComm_t comm, int rank, int nranks)>;

// Runs fn on n forked ranks and records a gtest failure for each rank that did not succeed.
// The unique id is created in the parent, which hosts the rendezvous root.
void runRanks(int n, const RankFn& fn, const RankOptions& options = {});

// Like runRanks but the ranks are threads of this process sharing tuttiCommInitAll comms.
void runThreadRanks(int n, const RankFn& fn);

// The id handed to the children (for tests that build their own comms).
const tuttiUniqueId& currentUniqueId();

}  // namespace tutti::testing

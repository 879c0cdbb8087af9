// Multi-process fixture for the shim tests, written against nccl.h only (the tests link
// libnccl.so.2 and nothing of Tutti): runNcclRanks(n, fn) forks n ranks that each join one
// communicator and run fn; the parent reports every rank that failed, crashed or hung.
#pragma once

#include <nccl.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace shimtest {

struct RankOptions {
  int timeoutSec = 120;                                  // whole run, per rank
  std::vector<std::pair<std::string, std::string>> env;  // set in every rank before init
  bool createComm = true;  // false: fn gets comm == nullptr and builds its own
};

using RankFn = std::function<void(ncclComm_t comm, int rank, int nranks)>;

// Runs fn on n forked ranks (each with a communicator over a unique id made here, unless
// options.createComm is false) and records a gtest failure for every rank that did not
// succeed. fn may destroy or abort its communicator; the fixture's final destroy of a
// released handle is refused harmlessly.
void runNcclRanks(int n, const RankFn& fn, const RankOptions& options = {});

// The unique id handed to the ranks of the current run.
const ncclUniqueId& currentUniqueId();

// Sleeps ms milliseconds (polling loops in tests sleep, never spin).
void sleepMs(int ms);

}  // namespace shimtest

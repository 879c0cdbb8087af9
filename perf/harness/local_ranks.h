// LocalRanks: the ranks one process drives (-g per process): their memory, communicator and
// buffers, plus issuing one operation on all of them at once (grouped when there are several).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "harness/backend.h"
#include "harness/collective.h"
#include "harness/compute_load.h"
#include "harness/control.h"
#include "harness/memory.h"
#include "harness/options.h"

namespace tutti::perf {

struct LocalRank {
  int rank = 0;  // global rank
  std::unique_ptr<Memory> memory;
  CommHandle comm = nullptr;
  void* sendBuf = nullptr;
  void* recvBuf = nullptr;
  std::vector<unsigned char> scratch;    // host staging for device buffers
  std::unique_ptr<ComputeLoad> compute;  // --compute: GEMMs beside the timed collective
};

// Where this process sits in the run, as decided by the launcher.
struct ProcessPlace {
  int procRank = 0;
  int nprocs = 1;
  int nodeLocalIndex = 0;   // index of this process among those on its host (device choice)
  std::string launch;       // "fork", "mpi" or "env"
  bool useMpiInit = false;  // create the communicator with the library's MPI helper
  UniqueId id{};            // shared id, when !useMpiInit
};

class LocalRanks {
 public:
  LocalRanks(Backend* backend, const Options& opts) : backend_(backend), opts_(opts) {}
  ~LocalRanks();

  // Chooses memory, creates the communicators (in parallel threads when several).
  Status init(const ProcessPlace& place);
  // Allocates buffers large enough for every size and type of the run.
  Status allocate(const Collective& coll, const std::vector<DataType>& types, size_t maxBytes);
  // Tears down communicators; reports the first failure.
  Status destroy();

  int nranks() const { return nranks_; }
  MemKind memKind() const { return memKind_; }
  std::vector<LocalRank>& ranks() { return ranks_; }
  Backend& backend() { return *backend_; }

  // Issues `calls[i]` on local rank i, `agg` times each, inside one group call when there are
  // several ranks or agg > 1.
  Status issue(const Collective& coll, const std::vector<OpCall>& calls, int agg);
  Status synchronize();

 private:
  Backend* backend_;
  const Options& opts_;
  std::vector<LocalRank> ranks_;
  int nranks_ = 0;
  MemKind memKind_ = MemKind::kHost;
};

}  // namespace tutti::perf

// Setup and teardown of the ranks a process drives, and grouped issue of operations.
#include "harness/local_ranks.h"

#include <algorithm>
#include <thread>

namespace tutti::perf {

LocalRanks::~LocalRanks() {
  for (LocalRank& r : ranks_) {
    if (!r.memory) continue;
    r.memory->activate();
    if (r.sendBuf) r.memory->release(r.sendBuf);
    if (r.recvBuf) r.memory->release(r.recvBuf);
  }
}

Status LocalRanks::init(const ProcessPlace& place) {
  const int g = opts_.gpusPerThread;
  nranks_ = place.nprocs * g;

  bool device = false;
  int deviceCount = 0;
  if (opts_.mem != MemChoice::kHost) deviceCount = cudaDeviceCountOrZero();
  if (opts_.mem == MemChoice::kDevice) {
    if (!builtWithCuda())
      return Status::error("--mem device: this perf harness was built without CUDA");
    if (deviceCount == 0) return Status::error("--mem device: no usable CUDA device");
    device = true;
  } else if (opts_.mem == MemChoice::kAuto) {
    device = deviceCount > 0;
  }
  if (!device && backend_->requiresDeviceMemory())
    return Status::error("backend %s takes device buffers only: use --mem device on a GPU host",
                         backend_->name());
  if (!device && opts_.graphLaunches > 0)
    return Status::error("-G (CUDA graphs) needs device memory (--mem device)");
  if (!device && opts_.computeN > 0)
    return Status::error(
        "--compute (GEMMs beside the collective) needs device memory (--mem device)");
  memKind_ = device ? MemKind::kDevice : MemKind::kHost;

  ranks_.resize(g);
  for (int i = 0; i < g; ++i) {
    LocalRank& r = ranks_[i];
    r.rank = place.procRank * g + i;
    if (device) {
      PERF_TRY(makeDeviceMemory((place.nodeLocalIndex * g + i) % deviceCount, &r.memory));
      if (opts_.computeN > 0)
        PERF_TRY(makeComputeLoad(r.memory->device(), opts_.computeN, &r.compute));
    } else {
      r.memory = makeHostMemory();
    }
  }

  if (place.useMpiInit) {  // one rank per process (the launcher checks)
    bool used = false;
    PERF_TRY(ranks_[0].memory->activate());
    PERF_TRY(backend_->commInitMpiWorld(&ranks_[0].comm, ranks_[0].memory->device(), &used));
    if (used) return Status::ok();
  }
  if (g == 1) {
    PERF_TRY(ranks_[0].memory->activate());
    return backend_->commInitRank(&ranks_[0].comm, nranks_, place.id, ranks_[0].rank,
                                  ranks_[0].memory->device());
  }
  // Several ranks in this process: each init blocks until all ranks join, so use threads.
  std::vector<Status> results(g);
  std::vector<std::thread> threads;
  for (int i = 0; i < g; ++i) {
    threads.emplace_back([&, i] {
      LocalRank& r = ranks_[i];
      results[i] = r.memory->activate();
      if (results[i].isOk())
        results[i] = backend_->commInitRank(&r.comm, nranks_, place.id, r.rank, r.memory->device());
    });
  }
  for (std::thread& t : threads) t.join();
  for (const Status& s : results) PERF_TRY(s);
  return Status::ok();
}

Status LocalRanks::allocate(const Collective& coll, const std::vector<DataType>& types,
                            size_t maxBytes) {
  size_t sendBytes = 0, recvBytes = 0;
  for (DataType t : types) {
    size_t ws = typeSize(t);
    Counts c = coll.counts(maxBytes / ws, nranks_);
    sendBytes = std::max(sendBytes, c.sendCount * ws);
    // In place, the receive buffer also holds the send region.
    recvBytes = std::max({recvBytes, c.recvCount * ws, c.sendCount * ws});
  }
  for (LocalRank& r : ranks_) {
    PERF_TRY(r.memory->activate());
    PERF_TRY(r.memory->alloc(sendBytes, &r.sendBuf));
    PERF_TRY(r.memory->alloc(recvBytes, &r.recvBuf));
    if (r.memory->kind() == MemKind::kDevice) r.scratch.resize(std::max(sendBytes, recvBytes));
  }
  return Status::ok();
}

Status LocalRanks::destroy() {
  // Finalize waits for the peers, so several local ranks tear down in parallel threads.
  std::vector<Status> results(ranks_.size());
  auto destroyOne = [&](size_t i) {
    LocalRank& r = ranks_[i];
    if (!r.comm) return;
    r.memory->activate();
    r.memory->synchronize();  // nothing of ours may still run on the communicator
    results[i] = backend_->commDestroy(r.comm);
    r.comm = nullptr;
  };
  if (ranks_.size() == 1) {
    destroyOne(0);
  } else {
    std::vector<std::thread> threads;
    for (size_t i = 0; i < ranks_.size(); ++i) threads.emplace_back(destroyOne, i);
    for (std::thread& t : threads) t.join();
  }
  for (const Status& s : results) PERF_TRY(s);
  return Status::ok();
}

Status LocalRanks::issue(const Collective& coll, const std::vector<OpCall>& calls, int agg) {
  // Compressed calls cannot be grouped: several local ranks then rely on device calls being
  // only enqueued (bench.cc refuses host memory with -g > 1 and --compress).
  const bool compressed = !calls.empty() && calls[0].compress;
  const bool grouped = !compressed && (ranks_.size() > 1 || agg > 1);
  if (grouped) PERF_TRY(backend_->groupStart());
  Status s;
  for (int a = 0; a < agg && s.isOk(); ++a) {
    for (size_t i = 0; i < ranks_.size() && s.isOk(); ++i) {
      if (ranks_.size() > 1) s = ranks_[i].memory->activate();
      if (s.isOk()) s = coll.issue(*backend_, calls[i]);
    }
  }
  if (grouped) {
    Status end = backend_->groupEnd();
    if (s.isOk()) s = end;
  }
  return s;
}

Status LocalRanks::synchronize() {
  for (LocalRank& r : ranks_) PERF_TRY(r.memory->synchronize());
  return Status::ok();
}

}  // namespace tutti::perf

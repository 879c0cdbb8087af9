// From host calls to running plans. Consecutive Send/Recv calls on a communicator are fused
// into one step so that any pairing completes without deadlock (group semantics).
#include "core/host_launch.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <unordered_map>

#include "algorithms/builders.h"
#include "base/logging.h"
#include "core/cpu_executor.h"
#include "core/host_reduce.h"

namespace tutti {

size_t tunerBytes(const CollCall& c, int nranks) {
  size_t es = dtypeSize(c.dtype);
  switch (c.collective) {
    case Collective::kAllGather:
    case Collective::kReduceScatter:
    case Collective::kAllToAll: return c.count * es * nranks;
    default: return c.count * es;
  }
}

namespace {

bool isP2p(const CollCall& c) {
  return c.collective == Collective::kSend || c.collective == Collective::kRecv;
}

// Everything one communicator's runs point into; must outlive them.
struct CommWork {
  Comm* comm;
  std::vector<std::unique_ptr<Plan>> plans;
  std::vector<std::vector<char*>> bases;
  std::vector<ReduceSpec> specs;
  std::vector<std::vector<char>> stages;  // PreMulSum scaled inputs
};

// In place as the API defines it per collective (AllToAllv never is).
bool runsInPlace(const Comm* comm, const CollCall& call, const char* send, const char* recv) {
  const size_t blockBytes = call.count * dtypeSize(call.dtype);
  switch (call.collective) {
    case Collective::kAllGather: return send == recv + comm->rank * blockBytes;
    case Collective::kReduceScatter: return recv == send + comm->rank * blockBytes;
    case Collective::kAllToAllv: return false;
    default: return send == recv;
  }
}

// The plan of one collective on (send, recv), which decide only whether it runs in place.
Result buildCollectivePlan(Comm* comm, const CollCall& call, const char* send, char* recv,
                           Plan* plan) {
  const size_t es = dtypeSize(call.dtype);
  CollArgs a;
  a.collective = call.collective;
  a.dtype = call.dtype;
  a.elemSize = es;
  a.count = call.count;
  a.root = call.root;
  a.rank = comm->rank;
  a.nranks = comm->nranks;
  a.average = call.op == tuttiAvg;
  a.inPlace = runsInPlace(comm, call, send, recv);
  if (call.collective == Collective::kAllToAllv) {
    a.sendCounts = call.sendCounts.data();
    a.sendDispls = call.sendDispls.data();
    a.recvCounts = call.recvCounts.data();
    a.recvDispls = call.recvDispls.data();
  }
  const TunerChoice choice =
      comm->tuner.decide(Executor::kCpu, call.collective, tunerBytes(call, comm->nranks));
  a.layout = comm->layout.get();
  a.channels = std::max(choice.channels, comm->minChannels);
  if (comm->maxChannels > 0) a.channels = std::min(a.channels, comm->maxChannels);
  TUTTI_CHECK(buildPlan(a, choice.algorithm, plan), "%s", collectiveName(call.collective));
  plan->protocol = choice.protocol;
  if (logLevel() >= LogLevel::kTrace)
    TUTTI_TRACE("rank %d: %s", comm->rank, plan->describe().c_str());
  return tuttiSuccess;
}

Result planCollective(CommWork& w, const CollCall& call) {
  Comm* comm = w.comm;
  const size_t es = dtypeSize(call.dtype);
  const char* send = static_cast<const char*>(call.sendbuff);
  char* recv = static_cast<char*>(call.recvbuff);
  // PreMulSum: reduce scaled copies of the input (this rank's contribution only).
  if (call.op >= tuttiNumOps) {
    size_t n =
        call.collective == Collective::kReduceScatter ? call.count * comm->nranks : call.count;
    w.stages.emplace_back(n * es);
    hostScale(call.dtype, w.stages.back().data(), send, n, &call.premulScalar);
    send = w.stages.back().data();
  }
  auto plan = std::make_unique<Plan>();
  TUTTI_TRY(buildCollectivePlan(comm, call, send, recv, plan.get()));
  w.bases.push_back({const_cast<char*>(send), recv, nullptr});
  w.specs.push_back(ReduceSpec{call.dtype, combineOf(call.op)});
  w.plans.push_back(std::move(plan));
  return tuttiSuccess;
}

// Fuses calls[first, last) (all Send/Recv) into one single-step plan.
Result planP2pGroup(CommWork& w, const std::vector<CollCall>& calls, size_t first, size_t last) {
  Comm* comm = w.comm;
  auto plan = std::make_unique<Plan>();
  plan->collective = Collective::kSend;  // headers say Send; receivers expect Send
  plan->algorithm = Algorithm::kP2p;
  plan->beginStep();
  std::vector<char*> bases = {nullptr, nullptr, nullptr};
  std::vector<size_t> selfSends, selfRecvs;
  for (size_t i = first; i < last; ++i) {
    const CollCall& c = calls[i];
    const int buf = static_cast<int>(i - first);
    const size_t bytes = c.count * dtypeSize(c.dtype);
    bases.push_back(c.collective == Collective::kSend
                        ? const_cast<char*>(static_cast<const char*>(c.sendbuff))
                        : static_cast<char*>(c.recvbuff));
    if (c.peer == comm->rank) {
      (c.collective == Collective::kSend ? selfSends : selfRecvs).push_back(i);
      continue;
    }
    if (c.collective == Collective::kSend)
      plan->add(sendOp(c.peer, at(extraBuffer(buf), 0), bytes));
    else
      plan->add(recvOp(c.peer, at(extraBuffer(buf), 0), bytes));
  }
  if (selfSends.size() != selfRecvs.size())
    return setError(tuttiInvalidUsage, "%zu sends to self but %zu receives from self in one group",
                    selfSends.size(), selfRecvs.size());
  for (size_t k = 0; k < selfSends.size(); ++k) {
    const CollCall& s = calls[selfSends[k]];
    const CollCall& r = calls[selfRecvs[k]];
    size_t sb = s.count * dtypeSize(s.dtype), rb = r.count * dtypeSize(r.dtype);
    if (sb != rb)
      return setError(tuttiInvalidArgument,
                      "send to self of %zu bytes matched a receive of %zu bytes", sb, rb);
    plan->add(copyOp(at(extraBuffer(static_cast<int>(selfSends[k] - first)), 0),
                     at(extraBuffer(static_cast<int>(selfRecvs[k] - first)), 0), sb));
  }
  w.bases.push_back(std::move(bases));
  w.specs.push_back(ReduceSpec{tuttiUint8, CombineKind::kSum});
  w.plans.push_back(std::move(plan));
  return tuttiSuccess;
}

}  // namespace

namespace {

// ---- Hot path: one collective outside a group ---------------------------------------------
// Small host collectives are latency-bound: plans are cached per shape and the run and its
// queue are reused, so a repeated call allocates nothing.

struct PlanKey {
  uint64_t tunerGeneration;
  size_t count;
  int root;
  uint8_t collective, dtype, op;
  bool inPlace;
  bool operator==(const PlanKey& o) const {
    return tunerGeneration == o.tunerGeneration && count == o.count && root == o.root &&
           collective == o.collective && dtype == o.dtype && op == o.op && inPlace == o.inPlace;
  }
};
struct PlanKeyHash {
  size_t operator()(const PlanKey& k) const {
    size_t h = k.count * 0x9e3779b97f4a7c15ull ^ k.tunerGeneration;
    h ^= (static_cast<size_t>(k.collective) << 48) ^ (static_cast<size_t>(k.dtype) << 40) ^
         (static_cast<size_t>(k.op) << 32) ^ (static_cast<size_t>(k.root) << 8) ^ k.inPlace;
    return h;
  }
};

}  // namespace

struct HostFastPath {
  static constexpr size_t kMaxPlans = 256;
  std::unordered_map<PlanKey, std::unique_ptr<Plan>, PlanKeyHash> plans;
  std::vector<CommQueue> queue;  // one queue holding one reusable run
};

namespace {

bool fastPathApplies(const CollCall& c) {
  return !c.onDevice && c.op < tuttiNumOps && c.collective != Collective::kAllToAllv && !isP2p(c);
}

Result runHostCollective(Comm* comm, const CollCall& call) {
  if (!comm->fastPath) comm->fastPath = std::make_shared<HostFastPath>();
  HostFastPath& fp = *comm->fastPath;
  const char* send = static_cast<const char*>(call.sendbuff);
  char* recv = static_cast<char*>(call.recvbuff);
  const bool inPlace = runsInPlace(comm, call, send, recv);
  PlanKey key{comm->tuner.generation(),
              call.count,
              call.root,
              static_cast<uint8_t>(call.collective),
              static_cast<uint8_t>(call.dtype),
              static_cast<uint8_t>(call.op),
              inPlace};
  auto it = fp.plans.find(key);
  if (it == fp.plans.end()) {
    if (fp.plans.size() >= HostFastPath::kMaxPlans) fp.plans.clear();
    auto plan = std::make_unique<Plan>();
    TUTTI_TRY(buildCollectivePlan(comm, call, send, recv, plan.get()));
    it = fp.plans.emplace(key, std::move(plan)).first;
  }
  const Plan* plan = it->second.get();
  if (comm->scratch.size() < plan->scratchBytes) comm->scratch.resize(plan->scratchBytes);
  const ReduceSpec spec{call.dtype, combineOf(call.op)};
  if (fp.queue.empty()) {
    fp.queue.push_back(CommQueue{comm, {}, 0});
    fp.queue[0].runs.emplace_back(
        comm, plan, std::vector<char*>{const_cast<char*>(send), recv, comm->scratch.data()}, spec);
  } else {
    fp.queue[0].runs[0].reset(comm, plan, send, recv, comm->scratch.data(), spec);
  }
  fp.queue[0].next = 0;
  return runQueues(fp.queue);
}

}  // namespace

Result runHostCall(Comm* comm, const CollCall& call) {
  if (fastPathApplies(call)) return runHostCollective(comm, call);
  std::vector<std::pair<Comm*, std::vector<CollCall>>> work(1);
  work[0].first = comm;
  work[0].second.push_back(call);
  return runHostCalls(work);
}

Result runHostCalls(std::vector<std::pair<Comm*, std::vector<CollCall>>>& work) {
  if (work.size() == 1 && work[0].second.size() == 1 && fastPathApplies(work[0].second[0]))
    return runHostCollective(work[0].first, work[0].second[0]);
  std::vector<CommWork> all;
  all.reserve(work.size());
  for (auto& [comm, calls] : work) {
    all.push_back(CommWork{comm, {}, {}, {}, {}});
    CommWork& w = all.back();
    for (size_t i = 0; i < calls.size();) {
      if (isP2p(calls[i])) {
        size_t j = i;
        while (j < calls.size() && isP2p(calls[j])) ++j;
        TUTTI_TRY(planP2pGroup(w, calls, i, j));
        i = j;
      } else {
        TUTTI_TRY(planCollective(w, calls[i]));
        ++i;
      }
    }
    size_t scratch = 0;
    for (const auto& p : w.plans) scratch = std::max(scratch, p->scratchBytes);
    if (comm->scratch.size() < scratch) comm->scratch.resize(scratch);
  }
  std::vector<CommQueue> queues;
  queues.reserve(all.size());
  for (CommWork& w : all) {
    queues.push_back(CommQueue{w.comm, {}, 0});
    for (size_t i = 0; i < w.plans.size(); ++i) {
      w.bases[i][static_cast<int>(BufferId::kScratch)] = w.comm->scratch.data();
      queues.back().runs.emplace_back(w.comm, w.plans[i].get(), w.bases[i], w.specs[i]);
    }
  }
  return runQueues(queues);
}

}  // namespace tutti

// The CPU executor: plans for a group's calls (point-to-point fused, PreMulSum staged, plans
// cached for repeated single calls), then one progress loop over every communicator involved.
#include "cpu/cpu_executor.h"

#include <unistd.h>

#include <algorithm>
#include <memory>

#include "base/env.h"
#include "base/logging.h"
#include "cpu/call_plan.h"
#include "cpu/p2p_fusion.h"
#include "cpu/parallel_combine.h"
#include "cpu/premul_stage.h"

namespace tutti {

struct CpuExecutor::Prepared {
  std::vector<std::unique_ptr<Plan>> plans;
  std::vector<std::vector<char*>> bases;
  std::vector<ReduceSpec> specs;
  std::vector<CallSignature> sigs;
  std::vector<uint64_t> flightIds;
  std::vector<std::vector<char>> stages;  // PreMulSum scaled inputs
};

CpuExecutor::CpuExecutor(Comm* comm) : comm_(comm) {
  streams_.transports = &comm->transports;
  streams_.sendSeq.assign(comm->nranks(), 0);
  streams_.recvSeq.assign(comm->nranks(), 0);
  streams_.checksum = envInt("TUTTI_CHECKSUM", 0) != 0;
  // Ranks of one machine, emulated nodes included (namespace hosts share the kernel's CPUs).
  int local = 0;
  const uint64_t machine = comm->peers[comm->rank()].machineHash;
  for (const PeerInfo& p : comm->peers) local += p.machineHash == machine;
  const long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  streams_.yieldAtOnce = cpus > 0 && local > cpus;
  if (streams_.yieldAtOnce)
    TUTTI_INFO("rank %d: %d ranks share this machine's %ld CPUs: waits yield without spinning",
               comm->rank(), local, cpus);
  // Combining received bytes is the executor thread's own work: with CPUs to spare (a share of
  // the allowed ones per local rank) a large region is split over a few threads.
  // Peers on other hosts: the share also feeds the network transport's threads.
  streams_.reduceThreads = reduceThreadsFor(local, comm->nodeRanks() < comm->nranks());
  TUTTI_INFO("rank %d: host reductions on up to %d thread(s) (%d allowed CPUs, %d local ranks)",
             comm->rank(), streams_.reduceThreads, allowedCpus(), local);
}

Result CpuExecutor::launch(std::vector<CommCalls>& work) {
  for (CommCalls& w : work)
    if (w.comm->executors.device) TUTTI_TRY(w.comm->executors.device->quiesce());
  return run(work, ExecutorKind::kCpu);
}

Result CpuExecutor::launchOne(tuttiComm*, CollCall&& call) {
  if (comm_->executors.device) TUTTI_TRY(comm_->executors.device->quiesce());
  if (!PlanCache::applies(call)) {
    std::vector<CommCalls> work(1);
    work[0].comm = comm_;
    work[0].calls.push_back(call);
    return run(work, ExecutorKind::kCpu);
  }
  std::lock_guard<std::mutex> lock(mutex_);
  return runOne(call, ExecutorKind::kCpu);
}

Result CpuExecutor::runStaged(std::vector<CollCall>& calls, ExecutorKind as) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (calls.size() == 1 && PlanCache::applies(calls[0])) return runOne(calls[0], as);
  std::vector<CommCalls> work(1);
  work[0].comm = comm_;
  work[0].calls = std::move(calls);
  Prepared prep;
  TUTTI_TRY(prepare(work[0].calls, as, &prep));
  std::vector<CommQueue> queues(1);
  queues[0].comm = comm_;
  for (size_t i = 0; i < prep.plans.size(); ++i)
    queues[0].runs.emplace_back(comm_, &streams_, prep.plans[i].get(), prep.bases[i], prep.specs[i],
                                prep.sigs[i]);
  return runQueues(queues);
}

// Several communicators run in one loop (one thread may drive them all, as tuttiCommInitAll
// users do); their executors are locked in address order so two such groups cannot deadlock.
Result CpuExecutor::run(std::vector<CommCalls>& work, ExecutorKind as) {
  std::vector<CpuExecutor*> execs;
  for (CommCalls& w : work) execs.push_back(w.comm->executors.cpu.get());
  std::vector<CpuExecutor*> order = execs;
  std::sort(order.begin(), order.end());
  order.erase(std::unique(order.begin(), order.end()), order.end());
  std::vector<std::unique_lock<std::mutex>> locks;
  for (CpuExecutor* e : order) locks.emplace_back(e->mutex_);
  if (work.size() == 1 && work[0].calls.size() == 1 && PlanCache::applies(work[0].calls[0]))
    return execs[0]->runOne(work[0].calls[0], as);
  std::vector<Prepared> prep(work.size());
  std::vector<CommQueue> queues(work.size());
  for (size_t w = 0; w < work.size(); ++w) {
    TUTTI_TRY(execs[w]->prepare(work[w].calls, as, &prep[w]));
    queues[w].comm = work[w].comm;
    for (size_t i = 0; i < prep[w].plans.size(); ++i)
      queues[w].runs.emplace_back(work[w].comm, &execs[w]->streams_, prep[w].plans[i].get(),
                                  prep[w].bases[i], prep[w].specs[i], prep[w].sigs[i]);
    for (size_t i = 0; i < prep[w].plans.size(); ++i)
      queues[w].runs[i].setFlight(prep[w].flightIds[i], as);
  }
  return runQueues(queues);
}

// The latency-critical path: a repeated single collective builds and allocates nothing.
Result CpuExecutor::runOne(const CollCall& call, ExecutorKind as) {
  const char* send = static_cast<const char*>(call.sendbuff);
  char* recv = static_cast<char*>(call.recvbuff);
  const bool inPlace = runsInPlace(call, comm_->rank(), send, recv);
  const uint64_t gen = comm_->tuner.generation() * 4 + static_cast<uint64_t>(as);
  const Plan* plan = cache_.find(call, inPlace, gen);
  if (!plan) {
    auto fresh = std::make_unique<Plan>();
    TUTTI_TRY(buildCallPlan(comm_, as, call, send, recv, fresh.get()));
    plan = cache_.insert(call, inPlace, gen, std::move(fresh));
  }
  if (scratch_.size() < plan->scratchBytes) scratch_.resize(plan->scratchBytes);
  const ReduceSpec spec{call.dtype, combineOf(call.op)};
  const CallSignature sig = callSignatureOf(call);
  if (hotQueue_.empty()) {
    hotQueue_.push_back(CommQueue{comm_, {}, 0});
    hotQueue_[0].runs.emplace_back(
        comm_, &streams_, plan, std::vector<char*>{const_cast<char*>(send), recv, scratch_.data()},
        spec, sig);
  } else {
    hotQueue_[0].runs[0].reset(comm_, plan, send, recv, scratch_.data(), spec, sig);
  }
  hotQueue_[0].runs[0].setFlight(call.flightId, as);
  hotQueue_[0].next = 0;
  return runQueues(hotQueue_);
}

Result CpuExecutor::prepare(std::vector<CollCall>& calls, ExecutorKind as, Prepared* out) {
  const int rank = comm_->rank(), nranks = comm_->nranks();
  for (size_t i = 0; i < calls.size();) {
    auto plan = std::make_unique<Plan>();
    if (isP2p(calls[i])) {
      size_t j = i;
      while (j < calls.size() && isP2p(calls[j])) ++j;
      std::vector<char*> bases;
      TUTTI_TRY(fuseP2p(calls, i, j, rank, plan.get(), &bases));
      size_t sent = 0;
      for (size_t k = i; k < j; ++k)
        if (calls[k].collective == Collective::kSend)
          sent += calls[k].count * dtypeSize(calls[k].dtype);
      TunerChoice ran = comm_->tuner.decide(as, Collective::kSend, sent);
      if (!ran.supported) return setError(tuttiInvalidUsage, "%s", ran.error.c_str());
      comm_->tuner.noteRan(as, Collective::kSend, sent, ran);
      out->bases.push_back(std::move(bases));
      out->specs.push_back(ReduceSpec{tuttiUint8, CombineKind::kSum});
      out->sigs.push_back(p2pSignature());
      out->flightIds.push_back(0);  // fused calls: the group marks each one (group.cc)
      i = j;
    } else {
      const CollCall& call = calls[i];
      out->stages.emplace_back();
      const char* send = premulInput(call, nranks, &out->stages.back());
      char* recv = static_cast<char*>(call.recvbuff);
      TUTTI_TRY(buildCallPlan(comm_, as, call, send, recv, plan.get()));
      out->bases.push_back({const_cast<char*>(send), recv, nullptr});
      out->specs.push_back(ReduceSpec{call.dtype, combineOf(call.op)});
      out->sigs.push_back(callSignatureOf(call));
      out->flightIds.push_back(call.flightId);
      ++i;
    }
    out->plans.push_back(std::move(plan));
  }
  size_t scratch = 0;
  for (const auto& p : out->plans) scratch = std::max(scratch, p->scratchBytes);
  if (scratch_.size() < scratch) scratch_.resize(scratch);
  for (auto& b : out->bases) b[static_cast<int>(BufferId::kScratch)] = scratch_.data();
  return tuttiSuccess;
}

}  // namespace tutti

// Tuner choice to plan, for one call.
#include "cpu/call_plan.h"

#include <algorithm>

#include "algorithms/builders.h"
#include "base/env.h"
#include "base/logging.h"

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

bool runsInPlace(const CollCall& call, int rank, const char* send, const char* recv) {
  const size_t blockBytes = call.count * dtypeSize(call.dtype);
  switch (call.collective) {
    case Collective::kAllGather: return send == recv + rank * blockBytes;
    case Collective::kReduceScatter: return recv == send + rank * blockBytes;
    case Collective::kAllToAllv: return false;
    default: return send == recv;
  }
}

// Rooted collectives may move no byte between two ranks that disagree on the root (two ranks
// that both think they are Broadcast's root only send; two Reduce roots only wait), so the
// mismatch would be silent or a timeout. Every rank sends a header-only message to the next
// rank and receives one from the previous, first in the plan: the ring of headers compares
// every rank's call with its neighbour's, and some rank sees any disagreement at once.
void addAgreementToken(int rank, int nranks, Plan* plan) {
  if (nranks < 2) return;
  const BufRef none{BufferId::kScratch, 0};
  PlanOp send{OpType::kSend, (rank + 1) % nranks, none, none, 0};
  PlanOp recv{OpType::kRecv, (rank + nranks - 1) % nranks, none, none, 0};
  if (plan->steps.empty()) plan->beginStep();
  plan->ops.insert(plan->ops.begin(), {send, recv});
  for (PlanStep& s : plan->steps) s.firstOp += 2;
  plan->steps[0].firstOp = 0;
  plan->steps[0].numOps += 2;
}

Result buildCallPlan(Comm* comm, ExecutorKind e, const CollCall& call, const char* send, char* recv,
                     Plan* plan) {
  const CommConfig& cfg = comm->config;
  CollArgs a;
  a.collective = call.collective;
  a.dtype = call.dtype;
  a.elemSize = dtypeSize(call.dtype);
  a.count = call.count;
  a.root = call.root;
  a.rank = cfg.rank;
  a.nranks = cfg.nranks;
  a.average = call.op == tuttiAvg;
  a.inPlace = runsInPlace(call, cfg.rank, send, recv);
  if (call.collective == Collective::kAllToAllv) {
    a.sendCounts = call.sendCounts.data();
    a.sendDispls = call.sendDispls.data();
    a.recvCounts = call.recvCounts.data();
    a.recvDispls = call.recvDispls.data();
  }
  const size_t bytes = tunerBytes(call, cfg.nranks);
  TunerChoice choice = comm->tuner.decide(e, call.collective, bytes);
  if (!choice.supported) return setError(tuttiInvalidUsage, "%s", choice.error.c_str());
  a.layout = comm->topology.layout.get();
  a.channels = std::max(choice.channels, cfg.minChannels);
  if (cfg.maxChannels > 0) a.channels = std::min(a.channels, cfg.maxChannels);
  TUTTI_CHECK(buildPlan(a, choice.algorithm, plan), "%s", collectiveName(call.collective));
  // TUTTI_ROOT_CHECK=0 drops the ring (every rank must agree): a root mismatch is then caught
  // only where a message crosses, or at the next call, or at the timeout.
  static const bool rootCheck = envInt("TUTTI_ROOT_CHECK", 1) != 0;
  if (rootCheck && (a.collective == Collective::kBroadcast || a.collective == Collective::kReduce))
    addAgreementToken(cfg.rank, cfg.nranks, plan);
  plan->protocol = choice.protocol;
  choice.channels = plan->channels;
  comm->tuner.noteRan(e, call.collective, bytes, choice);
  if (logLevel() >= LogLevel::kTrace)
    TUTTI_TRACE("rank %d: %s", cfg.rank, plan->describe().c_str());
  return tuttiSuccess;
}

}  // namespace tutti

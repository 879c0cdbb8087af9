// Plans written against a clock shared by all ranks: a send placed at time t on one rank
// meets its receive at time t on the peer. Ops of one time form one step (local ops placed
// "after t" form the step that follows), so a rank never waits on a peer that waits on it:
// plans built this way cannot deadlock, whatever the transports buffer.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "algorithms/builders.h"
#include "algorithms/rank_layout.h"

namespace tutti {

class TimedPlan {
 public:
  // A send or receive at time t. Ops a rank places at the same time towards the same peer
  // must be placed in the same order on both sides (builders add them in a fixed order).
  void comm(int t, const PlanOp& op) { entries_.push_back({2 * int64_t{t}, seq_++, op}); }
  // A local op (copy, reduce, divide) that runs after the comm ops of time t (t = -1: first).
  void local(int t, const PlanOp& op) { entries_.push_back({2 * int64_t{t} + 1, seq_++, op}); }
  // Appends the steps to `plan` (its sources list is untouched) and compacts it.
  void emit(Plan* plan) {
    std::stable_sort(entries_.begin(), entries_.end(),
                     [](const Entry& a, const Entry& b) { return a.slot < b.slot; });
    int64_t current = INT64_MIN;
    for (const Entry& e : entries_) {
      if (e.slot != current) {
        plan->beginStep();
        current = e.slot;
      }
      plan->add(e.op);
    }
    plan->compact();
  }

 private:
  struct Entry {
    int64_t slot;
    uint32_t seq;
    PlanOp op;
  };
  std::vector<Entry> entries_;
  uint32_t seq_ = 0;
};

// The layout a builder should use: the call's, or a flat one kept in `storage`.
inline const RankLayout& layoutFor(const CollArgs& a, RankLayout* storage) {
  if (a.layout && a.layout->nranks == a.nranks) return *a.layout;
  *storage = flatLayout(a.nranks);
  return *storage;
}

// A reduce of `sources` (BufRefs, in this order) into dst; sources go to plan->sources.
inline PlanOp reduceManyOp(Plan* plan, const std::vector<BufRef>& sources, BufRef dst,
                           size_t bytes) {
  PlanOp op{OpType::kReduceMany, -1, sources.empty() ? dst : sources[0], dst, bytes};
  op.firstSource = static_cast<uint32_t>(plan->sources.size());
  op.numSources = static_cast<uint32_t>(sources.size());
  plan->sources.insert(plan->sources.end(), sources.begin(), sources.end());
  return op;
}

}  // namespace tutti

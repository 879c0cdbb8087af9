// Plan cache keyed by call shape.
#include "cpu/plan_cache.h"

#include "cpu/p2p_fusion.h"

namespace tutti {

bool PlanCache::Key::operator==(const Key& o) const {
  return tunerGeneration == o.tunerGeneration && count == o.count && root == o.root &&
         collective == o.collective && dtype == o.dtype && op == o.op && inPlace == o.inPlace;
}

size_t PlanCache::KeyHash::operator()(const Key& k) const {
  size_t h = k.count * 0x9e3779b97f4a7c15ull ^ k.tunerGeneration;
  h ^= (static_cast<size_t>(k.collective) << 48) ^ (static_cast<size_t>(k.dtype) << 40) ^
       (static_cast<size_t>(k.op) << 32) ^ (static_cast<size_t>(k.root) << 8) ^ k.inPlace;
  return h;
}

PlanCache::Key PlanCache::keyOf(const CollCall& c, bool inPlace, uint64_t gen) {
  return Key{gen,
             c.count,
             c.root,
             static_cast<uint8_t>(c.collective),
             static_cast<uint8_t>(c.dtype),
             static_cast<uint8_t>(c.op),
             inPlace};
}

bool PlanCache::applies(const CollCall& c) {
  return c.op < tuttiNumOps && c.collective != Collective::kAllToAllv && !isP2p(c);
}

const Plan* PlanCache::find(const CollCall& call, bool inPlace, uint64_t gen) const {
  auto it = plans_.find(keyOf(call, inPlace, gen));
  return it == plans_.end() ? nullptr : it->second.get();
}

const Plan* PlanCache::insert(const CollCall& call, bool inPlace, uint64_t gen,
                              std::unique_ptr<Plan> plan) {
  if (plans_.size() >= kMaxPlans) plans_.clear();
  return plans_.emplace(keyOf(call, inPlace, gen), std::move(plan)).first->second.get();
}

}  // namespace tutti

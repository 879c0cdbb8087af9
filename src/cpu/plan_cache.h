// Plans of repeated host collectives, cached per call shape: small host collectives are
// latency-bound, so a repeated call builds nothing and allocates nothing.
#pragma once

#include <cstdint>
#include <memory>
#include <unordered_map>

#include "algorithms/plan.h"
#include "core/coll_call.h"

namespace tutti {

class PlanCache {
 public:
  // The cached plan for this shape, or null. The tuner's generation is part of the key, so a
  // changed table never serves a stale plan.
  const Plan* find(const CollCall& call, bool inPlace, uint64_t tunerGeneration) const;
  const Plan* insert(const CollCall& call, bool inPlace, uint64_t tunerGeneration,
                     std::unique_ptr<Plan> plan);
  // Calls whose plan depends only on the shape (no PreMulSum scalar, no AllToAllv counts).
  static bool applies(const CollCall& call);

 private:
  struct Key {
    uint64_t tunerGeneration;
    size_t count;
    int root;
    uint8_t collective, dtype, op;
    bool inPlace;
    bool operator==(const Key& o) const;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const;
  };
  static Key keyOf(const CollCall& call, bool inPlace, uint64_t gen);
  static constexpr size_t kMaxPlans = 256;
  std::unordered_map<Key, std::unique_ptr<Plan>, KeyHash> plans_;
};

}  // namespace tutti

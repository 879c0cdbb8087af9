// Algorithm choice as data: per collective, a table of message-size ranges -> algorithm.
// Defaults come from the topology and executor; TUTTI_TUNE edits the table
// ("allreduce:0-64k:direct,64k-:ring;broadcast:0-256k:tree") and TUTTI_ALGO forces one
// algorithm ("ring", or per collective "allreduce:direct,allgather:ring").
#pragma once

#include <string>
#include <vector>

#include "algorithms/plan.h"
#include "core/error.h"

namespace tutti {

struct TuneRange {
  size_t lo;   // inclusive, bytes
  size_t hi;   // exclusive; SIZE_MAX for open-ended
  Algorithm algorithm;
};

struct TunerContext {
  int nranks = 1;
  int nodes = 1;          // distinct hosts (or emulated nodes)
  bool gpu = false;       // GPU executor tables instead of CPU ones
};

class Tuner {
 public:
  // Builds the default tables for `ctx`, then applies TUTTI_TUNE and TUTTI_ALGO.
  Result init(const TunerContext& ctx);
  // Applies a TUTTI_TUNE-style string; tuttiInvalidArgument naming the bad field.
  Result applyTuneString(const std::string& spec);
  Result applyAlgoString(const std::string& spec);
  Algorithm choose(Collective c, size_t bytes) const;
  const std::vector<TuneRange>& table(Collective c) const { return tables_[static_cast<int>(c)]; }
  std::string describe() const;

 private:
  std::vector<TuneRange> tables_[static_cast<int>(Collective::kCount)];
  Algorithm forced_[static_cast<int>(Collective::kCount)] = {};
};

// "allreduce" / "all_reduce" / "AllReduce" -> Collective.
bool parseCollective(const std::string& name, Collective* out);

}  // namespace tutti

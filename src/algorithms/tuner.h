// Algorithm choice as data: per executor and collective, a table of message-size ranges ->
// (algorithm, protocol). The default tables come from the alpha-beta cost model over the
// communicator's topology (cost_model.h); TUTTI_TUNE edits them
// ("allreduce:0-64k:direct,64k-:ring/simple;broadcast:0-256k:tree"), TUTTI_ALGO forces an
// algorithm ("ring", or per collective "allreduce:direct,allgather:ring"), TUTTI_PROTO a
// protocol ("ll" / "allreduce:simple") and TUTTI_TUNER_PARAMS changes model parameters.
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "algorithms/cost_model.h"
#include "algorithms/plan.h"
#include "base/error.h"

namespace tutti {

struct RankLayout;  // algorithms/rank_layout.h
class Topology;     // topology/topology.h

struct TuneRange {
  size_t lo;  // inclusive, bytes
  size_t hi;  // exclusive; SIZE_MAX for open-ended
  Algorithm algorithm;
  Protocol protocol = Protocol::kSimple;
  bool user = false;  // from TUTTI_TUNE rather than the model
};

struct TunerContext {
  int nranks = 1;
  int nodes = 1;                       // distinct hosts (or emulated nodes)
  bool gpu = false;                    // the comm's default executor is the GPU one
  const RankLayout* layout = nullptr;  // nodes and rings; null: nodes of equal size
  const Topology* topo = nullptr;      // this host's topology; null: class defaults
  std::vector<int> localGpus =
      {};  // topology GPU of each rank of this node (ring 0 order), -1 unknown
  // What the GPU executor implements; null: AllReduce direct/two_shot/ring, AllGather and
  // ReduceScatter direct/ring, AllToAll direct, Broadcast and Reduce direct/chain.
  bool (*gpuImplements)(Collective, Algorithm) = nullptr;
  bool gpuLL = false;  // the GPU executor has an LL protocol: the model may pick it
};

struct TunerChoice {
  Algorithm algorithm = Algorithm::kRing;
  Protocol protocol = Protocol::kSimple;
  int channels = 1;
  double predictedUs = 0;  // 0 when the model has no entry for the choice
  double predictedBusBw = 0;
  const char* source = "model";  // "model", "TUTTI_TUNE" or "TUTTI_ALGO"
};

class Tuner {
 public:
  Tuner();
  // Builds the model tables for `ctx`, then applies TUTTI_TUNER_PARAMS, TUTTI_TUNE,
  // TUTTI_ALGO and TUTTI_PROTO.
  Result init(const TunerContext& ctx);
  // Applies a TUTTI_TUNE-style string to both executors' tables.
  Result applyTuneString(const std::string& spec);
  Result applyAlgoString(const std::string& spec);
  Result applyProtoString(const std::string& spec);

  // The choice for one call; logged at TUTTI_DEBUG=INFO once per collective and power-of-two
  // size bucket.
  TunerChoice decide(Executor e, Collective c, size_t bytes) const;
  // The algorithm for the comm's default executor (GPU comms: GPU; else CPU).
  Algorithm choose(Collective c, size_t bytes) const {
    return decide(defaultExecutor_, c, bytes).algorithm;
  }

  const std::vector<TuneRange>& table(Collective c) const { return table(defaultExecutor_, c); }
  const std::vector<TuneRange>& table(Executor e, Collective c) const {
    return tables_[static_cast<int>(e)][static_cast<int>(c)];
  }
  std::string describe() const { return describe(defaultExecutor_); }
  std::string describe(Executor e) const;

  // The model behind the tables.
  const ModelParams& params() const { return params_; }
  const ModelShape& shape(Executor e) const { return shapes_[static_cast<int>(e)]; }
  Prediction predict(Executor e, Collective c, Algorithm a, Protocol p, size_t bytes) const;
  // (algorithm, protocol) pairs the model compares for this executor and collective.
  std::vector<std::pair<Algorithm, Protocol>> candidates(Executor e, Collective c) const;
  Executor defaultExecutor() const { return defaultExecutor_; }
  // Grows on every change of the tables or overrides, so cached plans can tell they are stale.
  uint64_t generation() const { return generation_; }

 private:
  void buildTables(Executor e);
  Executor defaultExecutor_ = Executor::kCpu;
  uint64_t generation_ = 0;
  bool hasGpu_ = false;
  int nranks_ = 1;
  int ringChannels_ = 1;
  ModelParams params_;
  ModelShape shapes_[static_cast<int>(Executor::kCount)];
  bool (*gpuImplements_)(Collective, Algorithm) = nullptr;
  bool gpuLL_ = false;
  std::vector<TuneRange> tables_[static_cast<int>(Executor::kCount)]
                                [static_cast<int>(Collective::kCount)];
  Algorithm forced_[static_cast<int>(Collective::kCount)] = {};
  Protocol forcedProto_[static_cast<int>(Collective::kCount)] = {};
  bool protoForced_[static_cast<int>(Collective::kCount)] = {};
  mutable std::atomic<uint64_t> logged_[static_cast<int>(Executor::kCount)]
                                       [static_cast<int>(Collective::kCount)];
};

// "allreduce" / "all_reduce" / "AllReduce" -> Collective.
bool parseCollective(const std::string& name, Collective* out);

// Model shape of a communicator for one executor: classes and bandwidths of the ring hops,
// of all pairs and between nodes, from the topology when there is one.
ModelShape modelShapeFor(const TunerContext& ctx, Executor e);

}  // namespace tutti

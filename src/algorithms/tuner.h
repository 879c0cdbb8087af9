// Algorithm choice as data: per executor and collective, a table of message-size ranges ->
// (algorithm, protocol), built by the alpha-beta cost model (cost_model.h) over the
// communicator's topology from what that executor implements (capabilities.h) and nothing else.
// TUTTI_TUNE edits the tables ("allreduce:0-64k:direct,64k-:ring/simple;broadcast:0-256k:tree"),
// TUTTI_ALGO forces an algorithm ("ring", or per collective "allreduce:direct,allgather:ring"),
// TUTTI_PROTO a protocol ("ll" / "allreduce:simple"), TUTTI_TUNER_PARAMS changes model
// parameters. A forced algorithm or protocol the communicator's main executor lacks fails init
// with the list of what exists; one that only the executor running a call lacks fails that call.
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "algorithms/capabilities.h"
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
  const RankLayout* layout = nullptr;  // nodes and rings; null: nodes of equal size
  const Topology* topo = nullptr;      // this host's topology; null: class defaults
  std::vector<int> localGpus = {};     // topology GPU of each rank of this node (ring 0 order), -1
  // The executors the communicator has; `primary` runs its usual calls (the device executor
  // of a GPU communicator, else the CPU one) and is what env overrides are checked against.
  std::vector<ExecutorKind> executors = {ExecutorKind::kCpu};
  ExecutorKind primary = ExecutorKind::kCpu;
  // Capabilities per executor; null entries use capabilitiesOf() (tutti-topo's --assume-all
  // passes wider ones).
  const Capabilities* capabilities[static_cast<int>(ExecutorKind::kCount)] = {};
  // False for the library's own communicators: TUTTI_TUNE / TUTTI_ALGO / TUTTI_PROTO are the
  // user's choices for the user's communicators.
  bool applyEnvOverrides = true;
  // The device executor runs hierarchical plans with their node stages on the device kernels
  // (device buffers across nodes): the proxy kind's model prices those stages on GPU links.
  bool deviceNodeStages = false;
};

struct TunerChoice {
  Algorithm algorithm = Algorithm::kRing;
  Protocol protocol = Protocol::kSimple;
  int channels = 1;
  double predictedUs = 0;  // 0 when the model has no entry for the choice
  double predictedBusBw = 0;
  const char* source = "model";  // "model", "TUTTI_TUNE", "TUTTI_ALGO" or "TUTTI_PROTO"
  // False when an override names something this executor lacks: the call fails with `error`.
  bool supported = true;
  std::string error;
};

class Tuner {
 public:
  Tuner();
  // Builds the tables of every executor in `ctx`, then applies TUTTI_TUNER_PARAMS, TUTTI_TUNE,
  // TUTTI_ALGO and TUTTI_PROTO (each checked against the primary executor).
  Result init(const TunerContext& ctx);
  Result applyTuneString(const std::string& spec);
  Result applyAlgoString(const std::string& spec);
  Result applyProtoString(const std::string& spec);
  // Drops TUTTI_ALGO / TUTTI_PROTO choices (tests force one algorithm per case).
  void clearOverrides();

  // The choice for one call on executor `e`; with `withPrediction` the model's time and busbw
  // of it too (tools and logs: the hot path skips the arithmetic).
  TunerChoice decide(ExecutorKind e, Collective c, size_t bytes, bool withPrediction = false) const;
  // Logs "AllReduce 4096 bytes: ran direct/simple on gpu-direct ..." at TUTTI_DEBUG=INFO, once
  // per executor, collective, algorithm and power-of-two size bucket. Executors call it with
  // what they actually run.
  void noteRan(ExecutorKind e, Collective c, size_t bytes, const TunerChoice& ran) const;
  // The algorithm for the primary executor.
  Algorithm choose(Collective c, size_t bytes) const {
    return decide(primary_, c, bytes).algorithm;
  }

  const std::vector<TuneRange>& table(Collective c) const { return table(primary_, c); }
  const std::vector<TuneRange>& table(ExecutorKind e, Collective c) const {
    return tables_[static_cast<int>(e)][static_cast<int>(c)];
  }
  std::string describe() const { return describe(primary_); }
  std::string describe(ExecutorKind e) const;

  const ModelParams& params() const { return params_; }
  // The cost basis an executor's predictions use, and its shape.
  static ModelBasis basisOf(ExecutorKind e);
  const ModelShape& shape(ExecutorKind e) const { return shapes_[static_cast<int>(e)]; }
  Prediction predict(ExecutorKind e, Collective c, Algorithm a, Protocol p, size_t bytes) const;
  // (algorithm, protocol) pairs the model compares for this executor and collective.
  std::vector<std::pair<Algorithm, Protocol>> candidates(ExecutorKind e, Collective c) const;
  const Capabilities& capabilities(ExecutorKind e) const;
  ExecutorKind primary() const { return primary_; }
  // Grows on every change of the tables or overrides, so cached plans can tell they are stale.
  uint64_t generation() const { return generation_; }

 private:
  void buildTables(ExecutorKind e);
  ExecutorKind primary_ = ExecutorKind::kCpu;
  std::vector<ExecutorKind> executors_;
  uint64_t generation_ = 0;
  int nranks_ = 1;
  int ringChannels_ = 1;
  ModelParams params_;
  ModelShape shapes_[static_cast<int>(ExecutorKind::kCount)];
  const Capabilities* caps_[static_cast<int>(ExecutorKind::kCount)] = {};
  std::vector<TuneRange> tables_[static_cast<int>(ExecutorKind::kCount)]
                                [static_cast<int>(Collective::kCount)];
  Algorithm forced_[static_cast<int>(Collective::kCount)] = {};
  Protocol forcedProto_[static_cast<int>(Collective::kCount)] = {};
  bool protoForced_[static_cast<int>(Collective::kCount)] = {};
  std::string algoSpec_, protoSpec_;  // as given, for error messages
  mutable std::atomic<uint64_t> logged_[static_cast<int>(ExecutorKind::kCount)][static_cast<int>(
      Collective::kCount)][static_cast<int>(Algorithm::kCount)];
};

// "allreduce" / "all_reduce" / "AllReduce" -> Collective.
bool parseCollective(const std::string& name, Collective* out);

// Model shape of a communicator for one cost basis: classes and bandwidths of the ring hops,
// of all pairs and between nodes, from the topology when there is one.
ModelShape modelShapeFor(const TunerContext& ctx, ModelBasis b);

}  // namespace tutti

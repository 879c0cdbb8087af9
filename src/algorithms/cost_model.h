// The alpha-beta cost model: predicted time of (collective, algorithm, protocol, bytes) on a
// communicator's shape (ranks, nodes, link classes inside and between nodes). Formulas and
// parameters are documented in docs/tuning.md; TUTTI_TUNER_PARAMS overrides any parameter.
#pragma once

#include <string>

#include "algorithms/plan.h"
#include "base/error.h"

namespace tutti {

// How two ranks exchange data, as far as timing goes.
enum class LinkClass : uint8_t {
  kNvLink,  // GPU peers over NVLink / NVSwitch
  kPcie,    // GPU peers over PCIe switches
  kSys,     // GPU peers through the CPU / across sockets
  kNet,     // GPU peers on different hosts
  kShm,     // CPU executor, same node: shared-memory FIFOs
  kSocket,  // CPU executor, different nodes: the socket transport
  kCount
};
const char* linkClassName(LinkClass c);  // "nvlink", "pcie", "sys", "net", "shm", "socket"

// Which cost basis a prediction uses: the CPU executor's (shm/socket links, CPU reduction) or
// the GPU kernels' (NVLink/PCIe/network links, launch latency).
enum class ModelBasis : uint8_t { kCpu, kGpu, kCount };
const char* modelBasisName(ModelBasis b);  // "cpu", "gpu"

struct LinkParams {
  double alphaUs;     // per step (a synchronisation / message latency)
  double bwGBs;       // per rank and direction; 0 = take it from the topology
  double llAlphaUs;   // per step with the LL protocol
  double llBwFactor;  // LL bandwidth as a fraction of Simple's
  double peerUs;      // extra cost per additional peer in one step (direct algorithms' fan-out)
};

struct ModelParams {
  LinkParams link[static_cast<int>(LinkClass::kCount)];
  double defaultBw[static_cast<int>(LinkClass::kCount)];  // when neither params nor topology say
  double gpuLaunchUs;   // once per GPU collective: launch and first flag round trip
  double gpuStageUs;    // per node stage of a device hierarchical plan: its kernel, the layout
                        // copies and the hand-over to or from the rail's proxy call
  double cpuCallUs;     // once per CPU-executor call
  double cpuReduceGBs;  // CPU executor: bytes of input combined per second (GB/s)
  double eff[static_cast<int>(Algorithm::kCount)];     // GPU bandwidth efficiency per algorithm
  double cpuEff[static_cast<int>(Algorithm::kCount)];  // the same on the CPU executor
  size_t treeChunkBytes;   // pipelining chunk of tree plans (as the builders use)
  size_t chainChunkBytes;  // pipelining chunk of chain plans

  static ModelParams defaults();
  // "nvlink.alpha=1.5,net.bw=45,shm.ll_alpha=2,ring.eff=0.9,two_shot.cpu_eff=0.6,
  // gpu.launch=2.5,cpu.call=3,cpu.reduce_bw=6"; tuttiInvalidArgument naming the bad key.
  Result apply(const std::string& spec);
  std::string describe() const;
};

// What the model needs to know about a communicator, for one cost basis.
struct ModelShape {
  ModelBasis basis = ModelBasis::kCpu;
  int nranks = 1;
  int nodes = 1;
  int localRanks = 1;  // ranks per node; 0 when nodes differ
  // Ranks of the smallest and the largest node (0: unknown, then no hierarchical plans on
  // uneven nodes). Hierarchical plans run on the smallest node's size; the others fold in.
  int smallestNode = 0;
  int largestNode = 0;
  LinkClass ringClass = LinkClass::kShm;    // slowest hop between ring neighbours in a node
  double ringBw = 0;                        // its bandwidth from the topology (0: unknown)
  LinkClass directClass = LinkClass::kShm;  // slowest pair in a node (direct, all-to-all)
  double directBw = 0;
  LinkClass interClass = LinkClass::kSocket;  // between nodes
  double interBw = 0;                         // per rank (NIC bandwidth / ranks sharing it)
  // Device buffers across nodes (the GPU hierarchical executor): flat plans and the rail stage
  // of hierarchical ones run on the CPU executor through the proxy, but the node stages of a
  // hierarchical plan run on the device kernels: GPU links (nodeClass, nodeBw), reductions on
  // the GPU, gpuStageUs each.
  bool deviceNodeStages = false;
  LinkClass nodeClass = LinkClass::kNvLink;
  double nodeBw = 0;
  std::string describe() const;
};

struct Prediction {
  bool valid = false;
  double us = 0;
  double algBw = 0;  // GB/s: bytes / time
  double busBw = 0;  // GB/s: algBw x the collective's bus factor (nccl-tests)
};

// nccl-tests bus bandwidth factor: 2(n-1)/n for AllReduce, (n-1)/n for AllGather,
// ReduceScatter and AllToAll, 1 for Broadcast and Reduce.
double busFactor(Collective c, int nranks);

// `bytes` as the tuner sees it (tunerBytes: the larger buffer). Invalid when the algorithm
// does not apply (e.g. hierarchical on one node).
Prediction predict(const ModelParams& p, const ModelShape& s, Collective c, Algorithm a,
                   Protocol proto, size_t bytes);

}  // namespace tutti

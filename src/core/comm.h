// The communicator: identity, peers, transports, tuner and error state of one rank. The C
// handle tuttiComm_t points at this struct.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "algorithms/tuner.h"
#include "base/error.h"
#include "bootstrap/bootstrap.h"
#include "bootstrap/peer_info.h"
#include "transport/transport_factory.h"

namespace tutti {
struct HostFastPath;  // src/core/host_launch.cc: cached plans and a reusable run
class GpuComm;        // src/gpu: device buffers, peer mappings, kernels (CUDA builds only)
class Topology;       // topology/topology.h
struct RankLayout;    // algorithms/rank_layout.h

struct PreMulOp {
  tuttiDataType_t dtype;
  uint64_t scalar;  // one element of dtype, little-endian in the low bytes
  bool live;
};
}  // namespace tutti

namespace tutti {
struct CompressionContext;  // src/compression: workspaces of compressed collectives
}  // namespace tutti

struct tuttiComm {
  static constexpr uint32_t kMagic = 0x7477696eu;
  uint32_t magic = kMagic;  // catches stale or foreign handles

  int rank = 0;
  int nranks = 0;
  int device = -1;  // CUDA device, -1 for a host-only rank
  std::string name;
  int timeoutMs = 0;
  bool blocking = true;
  int minChannels = 1;
  int maxChannels = 0;  // 0: tuner default
  uint8_t secret[16] = {};

  std::unique_ptr<tutti::Bootstrap> bootstrap;
  std::vector<tutti::PeerInfo> peers;
  tutti::PeerConnections transports;       // a connection per peer and the type carrying it
  std::vector<uint32_t> sendSeq, recvSeq;  // messages per directed pair
  tutti::Tuner tuner;
  std::shared_ptr<const tutti::Topology> topo;      // this host's topology (setupCommTopology)
  int topoHost = 0;                                 // this rank's host in `topo`
  std::shared_ptr<const tutti::RankLayout> layout;  // node of every rank, ring orders
  std::vector<char> scratch;                        // CPU executor scratch, grown on demand
  std::vector<char> premulStage;                    // PreMulSum's scaled copy of the input
  std::vector<tutti::PreMulOp> premulOps;
  tutti::GpuComm* gpu = nullptr;
  std::shared_ptr<tutti::HostFastPath> fastPath;
  std::shared_ptr<tutti::CompressionContext> compression;  // created by the first compressed call

  std::atomic<bool> abortFlag{false};
  std::atomic<int> activeCalls{0};            // API calls inside this comm; Abort waits for them
  std::atomic<int> asyncError{tuttiSuccess};  // tuttiInProgress while a non-blocking init runs
  std::thread initThread;
  bool finalized = false;

  std::mutex errorMutex;
  std::string lastError;  // sentence behind asyncError / the last failed call

  // Records a fatal error: peers are told (their waits end now), later calls fail fast.
  tutti::Result fail(tutti::Result r);
  // Remembers this thread's error message as the communicator's last error.
  void recordError();
  tutti::Result checkUsable() const;
  int nodeRanks() const;  // ranks sharing this rank's host
};

namespace tutti {
using Comm = ::tuttiComm;
}  // namespace tutti

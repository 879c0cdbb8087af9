// The communicator: one rank's parts, each owned by the layer it belongs to. The C handle
// tuttiComm_t points at this struct.
//   config      settings fixed at init (comm_config.h)
//   bootstrap   the authenticated TCP ring used at init and for barriers (bootstrap/)
//   peers       what every rank told the others at init (bootstrap/peer_info.h)
//   transports  a connection per peer and the transport type carrying it (transport/)
//   topology    this host's topology and every rank's node and GPU (topology/)
//   tuner       algorithm tables per executor (algorithms/tuner.h)
//   executors   the CPU executor and, on a GPU rank, the device executor (core/executor.h)
//   redOps      PreMulSum operators (red_ops.h)
//   errors      abort flag, first fatal error, last error sentence (comm_errors.h)
//   flight      the last calls, dumped when the communicator fails (flight_recorder.h)
#pragma once

#include <memory>
#include <thread>
#include <vector>

#include "algorithms/tuner.h"
#include "bootstrap/bootstrap.h"
#include "bootstrap/peer_info.h"
#include "core/comm_config.h"
#include "core/comm_errors.h"
#include "core/red_ops.h"
#include "topology/comm_topology.h"
#include "transport/transport_factory.h"

namespace tutti {

class Executor;
class CpuExecutor;
class FlightRecorder;
struct CollCall;

// The executors of one communicator. Host buffers always run on the CPU executor; device
// buffers on the device executor chosen at init (direct kernels when every rank can map every
// peer, the proxy otherwise).
struct CommExecutors {
  std::unique_ptr<CpuExecutor> cpu;
  std::unique_ptr<Executor> device;
  Executor* forCall(const CollCall& call) const;
};

struct CompressionContext;  // src/compression: workspaces of compressed collectives

}  // namespace tutti

struct tuttiComm {
  static constexpr uint32_t kMagic = 0x7477696eu;
  uint32_t magic = kMagic;  // catches stale or foreign handles

  tutti::CommConfig config;
  std::unique_ptr<tutti::Bootstrap> bootstrap;
  std::vector<tutti::PeerInfo> peers;
  tutti::PeerConnections transports;
  tutti::CommTopology topology;
  tutti::Tuner tuner;
  tutti::CommExecutors executors;
  tutti::RedOpTable redOps;
  tutti::CommErrors errors;
  std::unique_ptr<tutti::FlightRecorder> flight;           // null when TUTTI_FLIGHT_RECORDER=0
  std::shared_ptr<tutti::CompressionContext> compression;  // created by the first compressed call

  uint32_t callSeq = 0;    // collective calls made so far (call_signature.h)
  std::thread initThread;  // a non-blocking init
  bool finalized = false;

  tuttiComm();
  ~tuttiComm();
  int rank() const { return config.rank; }
  int nranks() const { return config.nranks; }
  // Records a fatal error: peers are told (their waits end now), device work is aborted, and
  // later calls fail fast.
  tutti::Result fail(tutti::Result r);
  // Remembers this thread's error sentence as the communicator's last error.
  void recordError();
  tutti::Result checkUsable() const;
  int nodeRanks() const;  // ranks sharing this rank's host
};

namespace tutti {
using Comm = ::tuttiComm;
}  // namespace tutti

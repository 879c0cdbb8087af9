// Communicator construction, shared by InitRank, InitAll and Split.
#include "core/comm_init.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>

#include "base/device.h"
#include "base/env.h"
#include "base/fault_injection.h"
#include "base/host_id.h"
#include "base/logging.h"
#include "base/timeouts.h"
#include "bootstrap/handshake.h"
#include "bootstrap/hmac_sha256.h"
#include "bootstrap/unique_id.h"
#include "core/device_executor.h"
#include "core/flight_recorder.h"
#include "core/peer_table.h"
#include "cpu/cpu_executor.h"
#include "topology/comm_topology.h"
#include "transport/transport_factory.h"

namespace tutti {

Result resolveOptions(const tuttiConfig_t* config, CommConfig* out) {
  tuttiConfig_t c = TUTTI_CONFIG_INITIALIZER;
  if (config) {
    if (config->magic != TUTTI_CONFIG_MAGIC)
      return setError(tuttiInvalidArgument,
                      "config: magic is 0x%x; start from TUTTI_CONFIG_INITIALIZER", config->magic);
    if (config->size < offsetof(tuttiConfig_t, blocking) || config->size > 4096)
      return setError(tuttiInvalidArgument, "config: size %zu is not a tuttiConfig_t size",
                      config->size);
    // Older callers compiled a shorter struct: read only what they wrote.
    memcpy(&c, config, std::min(config->size, sizeof(c)));
  }
  const int undef = TUTTI_CONFIG_UNDEF_INT;
  out->blocking = c.blocking == undef ? envInt("TUTTI_COMM_BLOCKING", 1) != 0 : c.blocking != 0;
  out->timeoutMs = c.timeoutMs == undef || c.timeoutMs == 0 ? envTimeoutMs() : c.timeoutMs;
  if (out->timeoutMs < 0)
    return setError(tuttiInvalidArgument, "config: timeoutMs %d is negative", c.timeoutMs);
  out->minChannels =
      c.minChannels == undef ? static_cast<int>(envInt("TUTTI_MIN_CHANNELS", 1)) : c.minChannels;
  out->maxChannels =
      c.maxChannels == undef ? static_cast<int>(envInt("TUTTI_MAX_CHANNELS", 0)) : c.maxChannels;
  if (out->minChannels < 0 || out->maxChannels < 0 ||
      (out->maxChannels && out->minChannels > out->maxChannels))
    return setError(tuttiInvalidArgument, "config: channels min %d / max %d are inconsistent",
                    out->minChannels, out->maxChannels);
  if (c.commName) out->name = c.commName;
  int device = c.device;
  if (device == TUTTI_DEVICE_CURRENT || device == undef) device = gpuCurrentDevice();
  if (device < -1 || (device >= 0 && device >= gpuDeviceCount()))
    return setError(tuttiInvalidArgument, "config: device %d does not exist (%d GPUs visible)",
                    device, gpuDeviceCount());
  out->device = device;
  return tuttiSuccess;
}

namespace {

// TUTTI_FAULT where=bootstrap: right after the rendezvous, before the peer info exchange.
Result bootstrapFault(Comm* comm, int rank) {
  int64_t delayMs = 0;
  const FaultKind k = faultFire(FaultWhere::kBootstrap, rank, 0, &delayMs);
  if (faultActGeneric(k, delayMs)) return tuttiSuccess;
  if (k == FaultKind::kHang) {
    // A rank stuck in init for as long as the timeout: its peers time out meanwhile.
    const auto until =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(comm->config.timeoutMs);
    while (std::chrono::steady_clock::now() < until && !comm->errors.abortFlag.load())
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  comm->bootstrap->shutdown();
  return setError(tuttiRemoteError, "fault injection (TUTTI_FAULT): %s at bootstrap",
                  k == FaultKind::kHang ? "hung" : "closed the bootstrap connections");
}

}  // namespace

Result initComm(Comm* comm, int nranks, const tuttiUniqueId& id, int rank) {
  setLogRank(rank);
  UniqueIdData idData;
  TUTTI_TRY(decodeUniqueId(id, &idData));
  CommConfig& cfg = comm->config;
  memcpy(cfg.secret, idData.secret, sizeof(cfg.secret));
  cfg.rank = rank;
  cfg.nranks = nranks;
  BootstrapOptions bo{cfg.timeoutMs, &comm->errors.abortFlag};
  // A rank that fails before the rendezvous says so to the root, and the others fail with its
  // reason at once instead of waiting for it until the timeout.
  Result local = faultInit();
  if (local == tuttiSuccess && cfg.device >= 0) local = gpuSetDevice(cfg.device);
  if (local != tuttiSuccess) {
    Bootstrap::withdraw(id, rank, nranks, bo, lastError());
    return local;
  }

  TUTTI_CHECK(Bootstrap::create(id, rank, nranks, bo, &comm->bootstrap), "rank %d of %d", rank,
              nranks);
  if (faultArmed()) TUTTI_TRY(bootstrapFault(comm, rank));

  TransportContext tctx;
  tctx.rank = rank;
  tctx.nranks = nranks;
  tctx.peers = &comm->peers;
  tctx.bootstrap = comm->bootstrap.get();
  tctx.secret = cfg.secret;
  tctx.timeoutMs = cfg.timeoutMs;
  tctx.abort = &comm->errors.abortFlag;
  TUTTI_TRY(createTransports(&comm->transports));
  comm->peers.assign(nranks, PeerInfo{});
  PeerInfo& me = comm->peers[rank];
  me.rank = rank;
  me.pid = getpid();
  me.hostHash = cfg.hostHash ? cfg.hostHash : hostHash(rank);
  me.machineHash = machineHash();
  me.cudaDev = cfg.device;
  me.busId = cfg.device >= 0 ? gpuBusId(cfg.device) : -1;
  TUTTI_TRY(randomBytes(&me.commNonce, sizeof(me.commNonce)));
  TUTTI_TRY(prepareTransports(tctx, &comm->transports, &me));
  snprintf(me.hostname, sizeof(me.hostname), "%s", hostName().c_str());
  TUTTI_CHECK(comm->bootstrap->allGather(comm->peers.data(), sizeof(PeerInfo)),
              "exchanging peer info");
  int nodes = 0;
  TUTTI_TRY(validatePeerTable(&comm->peers, sharedGpuAllowed(), &nodes));
  TUTTI_CHECK(connectTransports(tctx, &comm->transports), "rank %d", rank);
  TunerContext tc;
  tc.nranks = nranks;
  tc.applyEnvOverrides = !cfg.internal;
  tc.nodes = nodes;
  TUTTI_CHECK(setupCommTopology(rank, comm->peers, *comm->bootstrap, &comm->topology, &tc),
              "topology of rank %d", rank);
  comm->executors.cpu = std::make_unique<CpuExecutor>(comm);
  // Dumps are named by a hash of the id's secret: the same on every rank, unique per comm.
  const Digest d = hmacSha256(cfg.secret, sizeof(cfg.secret), "flight", 6);
  uint64_t commHash;
  memcpy(&commHash, d.data(), sizeof(commHash));
  comm->flight = FlightRecorder::create(comm, commHash);
  flightSignalSetup();
  tc.executors = {ExecutorKind::kCpu};
  if (cfg.device >= 0) {
    TUTTI_CHECK(createDeviceExecutor(comm, &comm->executors.device), "setting up GPU %d",
                cfg.device);
    tc.executors.push_back(comm->executors.device->kind());
    tc.primary = comm->executors.device->kind();
    tc.deviceNodeStages = comm->executors.device->nodePart() != nullptr;
  }
  TUTTI_TRY(comm->tuner.init(tc));
  TUTTI_CHECK(comm->bootstrap->barrier(), "final init barrier");
  if (rank == 0 && !cfg.internal) {
    TUTTI_INFO("comm %s: %d ranks on %d node(s), device %d", cfg.name.c_str(), nranks, nodes,
               cfg.device);
    for (ExecutorKind e : tc.executors)
      TUTTI_INFO("tuner table:\n%s", comm->tuner.describe(e).c_str());
  }
  return tuttiSuccess;
}

Result splitComm(Comm* parent, int color, int key, const CommConfig& opt, Comm** out) {
  *out = nullptr;
  if (color < 0 && color != TUTTI_SPLIT_NOCOLOR)
    return setError(tuttiInvalidArgument,
                    "color %d is negative (only TUTTI_SPLIT_NOCOLOR is allowed)", color);
  struct Entry {
    int32_t color, key;
  };
  std::vector<Entry> all(parent->nranks());
  all[parent->rank()] = {color, key};
  TUTTI_CHECK(parent->bootstrap->allGather(all.data(), sizeof(Entry)), "split: exchanging colors");
  std::vector<int> members;
  for (int r = 0; r < parent->nranks(); ++r)
    if (all[r].color == color && color != TUTTI_SPLIT_NOCOLOR) members.push_back(r);
  std::stable_sort(members.begin(), members.end(),
                   [&](int a, int b) { return all[a].key < all[b].key; });
  // The first member of each color hosts the new rendezvous; ids travel over the parent.
  std::vector<tuttiUniqueId> ids(parent->nranks());
  memset(ids.data(), 0, ids.size() * sizeof(tuttiUniqueId));
  Result r = tuttiSuccess;
  if (!members.empty() && members[0] == parent->rank())
    r = createUniqueId(&ids[parent->rank()], false);
  int ok = r == tuttiSuccess;
  std::string err = ok ? "" : lastError();
  TUTTI_CHECK(parent->bootstrap->allGather(ids.data(), sizeof(tuttiUniqueId)),
              "split: sharing ids");
  if (!ok) return setError(r, "split: %s", err.c_str());
  if (members.empty()) return tuttiSuccess;
  int newRank =
      static_cast<int>(std::find(members.begin(), members.end(), parent->rank()) - members.begin());
  auto comm = std::make_unique<Comm>();
  comm->config = opt;
  comm->config.hostHash = parent->peers[parent->rank()].hostHash;
  if (opt.name.empty()) comm->config.name = parent->config.name + "/split" + std::to_string(color);
  TUTTI_TRY(initComm(comm.get(), static_cast<int>(members.size()), ids[members[0]], newRank));
  *out = comm.release();
  return tuttiSuccess;
}

}  // namespace tutti

// UCX transport type: decides which pairs it carries (TUTTI_NET, TUTTI_TRANSPORT, hostHash),
// creates the communicator's UCP context and worker, exchanges worker addresses over the
// bootstrap and opens one endpoint per peer, ending with a hello each way.
#include "transport/ucx_transport.h"

#include <chrono>
#include <cstring>
#include <thread>

#include "base/deadline.h"
#include "base/env.h"
#include "base/fd_budget.h"
#include "base/logging.h"
#include "bootstrap/bootstrap.h"
#include "topology/nic_verbs.h"
#include "transport/peer_threads.h"
#include "transport/ring_memory.h"
#include "transport/routed_connection.h"
#include "transport/ucx_connection.h"
#include "transport/ucx_striping.h"

namespace tutti {

Result readNetChoice(NetChoice* out) {
  const std::string v = envString("TUTTI_NET");
  if (v.empty() || v == "auto")
    *out = NetChoice::kAuto;
  else if (v == "ucx")
    *out = NetChoice::kUcx;
  else if (v == "socket")
    *out = NetChoice::kSocket;
  else
    return setError(tuttiInvalidArgument,
                    "TUTTI_NET=%s is not a network transport (use ucx, socket or auto)", v.c_str());
  return tuttiSuccess;
}

namespace {

size_t alignUp(size_t x, size_t a) { return (x + a - 1) / a * a; }

// True when UCX_TLS names TCP and otherwise only same-host transports (no RDMA to tune for).
bool tcpOnly(const std::string& tls) {
  if (tls.empty() || tls[0] == '^') return false;
  bool tcp = false;
  size_t pos = 0;
  while (pos <= tls.size()) {
    size_t comma = tls.find(',', pos);
    if (comma == std::string::npos) comma = tls.size();
    const std::string t = tls.substr(pos, comma - pos);
    if (t == "tcp")
      tcp = true;
    else if (t != "self" && t != "sm" && t != "shm" && t != "posix" && t != "sysv" && t != "cma" &&
             t != "knem" && t != "xpmem" && !t.empty())
      return false;
    pos = comma + 1;
  }
  return tcp;
}

// True when UCX will not have RDMA: UCX_TLS says TCP only, or it leaves the choice to UCX and
// libibverbs shows no active port.
bool noRdma(const std::string& tls) {
  if (tcpOnly(tls)) return true;
  if (!tls.empty()) return false;
  std::vector<VerbsPort> ports;
  std::string why;
  if (queryVerbsPorts(&ports, &why) != VerbsStatus::kOk) return true;
  for (const VerbsPort& p : ports)
    if (p.active) return false;
  return true;
}

// What each rank publishes first: its stream shape and how it would stripe (its addresses
// follow once every rank knows how many workers to open).
struct UcxCard {
  uint64_t chunk;
  uint32_t slots;
  uint32_t runs;  // 1: announce long direct runs to this rank (TUTTI_UCX_DIRECT_RECV)
  StripingAsk striping;
};

class UcxTransport : public Transport {
 public:
  const char* name() const override { return "ucx"; }
  Result prepare(const TransportContext& ctx, PeerInfo* self) override;
  bool canConnect(const TransportContext& ctx, int a, int b) const override;
  Result connect(const TransportContext& ctx, const std::vector<int>& peers,
                 std::vector<std::unique_ptr<Connection>>* conns) override;
  std::string describe() const override { return describe_; }

 private:
  // `tcpDefaults`: UCX will have no RDMA (noRdma), so ucx::applyTcpDefaults applies.
  Result openWorkers(int stripeWorkers, bool tcpDefaults);
  // open[worker][peer]: the connections being wired up, by worker and peer.
  using WorkerConns = std::vector<std::vector<std::unique_ptr<UcxConnection>>>;
  Result waitForHellos(const TransportContext& ctx, const WorkerConns& open);

  bool loadApi(int rank, std::string* why) const;

  // Loaded lazily from canConnect(), which is const: the first inter-host pair pays for it.
  mutable const ucx::Api* api_ = nullptr;
  mutable bool triedLoad_ = false;
  mutable std::string describe_;
  NetChoice net_ = NetChoice::kAuto;
  bool onlyUcx_ = false;  // TUTTI_TRANSPORT=ucx
  // [0]: the caller's; [1..N]: the stripe workers, with driver threads (TUTTI_UCX_WORKERS=N).
  std::vector<std::shared_ptr<UcxWorker>> workers_;
};

// Loads libucp (once per process and name) and records what the INFO line says about it.
bool UcxTransport::loadApi(int rank, std::string* why) const {
  if (api_ || triedLoad_) return api_ != nullptr;
  triedLoad_ = true;
  api_ = ucx::load(why);
  if (!api_) {
    if (rank == 0) TUTTI_INFO("UCX transport not offered: %s", why->c_str());
    return false;
  }
  describe_ = "UCX " + std::to_string(api_->major) + "." + std::to_string(api_->minor) + "." +
              std::to_string(api_->release) + ", UCX_TLS=" + envString("UCX_TLS", "default") +
              ", UCX_NET_DEVICES=" + envString("UCX_NET_DEVICES", "default");
  if (rank == 0) TUTTI_INFO("%s loaded", describe_.c_str());
  return true;
}

Result UcxTransport::prepare(const TransportContext& ctx, PeerInfo*) {
  TUTTI_TRY(readNetChoice(&net_));
  onlyUcx_ = envString("TUTTI_TRANSPORT") == "ucx";
  // Forced: fail now, loudly, when UCX cannot load. Otherwise UCX is loaded only once a pair
  // on different hosts asks for it, so single-host jobs never touch it.
  if (!onlyUcx_ && net_ != NetChoice::kUcx) return tuttiSuccess;
  std::string why;
  if (loadApi(ctx.rank, &why)) return tuttiSuccess;
  if (onlyUcx_)
    return setError(tuttiSystemError, "TUTTI_TRANSPORT=ucx but UCX cannot be loaded: %s",
                    why.c_str());
  return setError(tuttiSystemError,
                  "TUTTI_NET=ucx but UCX cannot be loaded: %s (install UCX 1.x, point "
                  "TUTTI_UCX_LIB at libucp.so.0, or set TUTTI_NET=socket)",
                  why.c_str());
}

bool UcxTransport::canConnect(const TransportContext& ctx, int a, int b) const {
  if (onlyUcx_) return api_ != nullptr;
  if (net_ == NetChoice::kSocket || ctx.sameHost(a, b)) return false;
  std::string why;
  return loadApi(ctx.rank, &why);
}

// UCX_* variables are read by ucp_config_read (UCX_TLS, UCX_NET_DEVICES, ...). Without RDMA:
// eager sends and large TCP segments (ucx::applyTcpDefaults says why). RDMA transports keep
// UCX's defaults (their rendezvous is a zero-copy read into our slot).
// Striped (N > 1 stripe workers), there are N + 1: each gets a context of its own (so nothing
// in UCX is shared between their threads), and the stripe workers the event fd their drivers
// sleep on.
Result UcxTransport::openWorkers(int stripeWorkers, bool tcpDefaults) {
  std::string tuned;
  const int total = stripeWorkers > 1 ? stripeWorkers + 1 : 1;
  workers_.resize(total);
  for (int l = 0; l < total; ++l)
    TUTTI_TRY(UcxWorker::open(api_, tcpDefaults, &workers_[l], &tuned, l > 0));
  if (!tuned.empty()) describe_ += ", " + tuned;
  bool cuda = true;
  for (const auto& w : workers_) cuda &= w->cudaMemory();
  describe_ += cuda ? ", CUDA memory" : ", host memory only";
  if (total > 1) describe_ += ", " + std::to_string(stripeWorkers) + " stripe workers";
  return tuttiSuccess;
}

Result UcxTransport::waitForHellos(const TransportContext& ctx, const WorkerConns& open) {
  Deadline dl = Deadline::afterMs(ctx.timeoutMs);
  for (;;) {
    bool all = true;
    unsigned events = 0;
    for (size_t l = 0; l < workers_.size(); ++l) {
      std::lock_guard<std::mutex> lock(workers_[l]->mu);
      events += api_->workerProgress(workers_[l]->worker);
      for (const auto& c : open[l]) {
        if (!c) continue;
        bool done = false;
        TUTTI_TRY(c->helloDone(&done));
        all &= done;
      }
    }
    if (all) return tuttiSuccess;
    if (events) continue;
    if (ctx.abort && ctx.abort->load()) return setError(tuttiAborted, "aborted during UCX setup");
    if (dl.expired())
      return setError(tuttiTimeout,
                      "UCX endpoints not wired up within %d ms (TUTTI_TIMEOUT_MS; check UCX_TLS "
                      "and UCX_NET_DEVICES on every host)",
                      ctx.timeoutMs);
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
}

// What TUTTI_UCX_WORKERS=auto (or unset) asks for on this rank's host.
int autoWorkersHere(const TransportContext& ctx, bool rdma) {
  const HostShare share = hostShareHere(ctx);
  return autoStripeWorkers(share.cpus, share.localRanks, share.remotePeers, rdma);
}

// Collective over every rank, including those with no UCX peers (they publish no address).
Result UcxTransport::connect(const TransportContext& ctx, const std::vector<int>& peers,
                             std::vector<std::unique_ptr<Connection>>* conns) {
  const int n = ctx.nranks;
  const size_t chunk = alignUp(envBytes("TUTTI_UCX_CHUNK_BYTES", 32u << 10), Connection::kAlign);
  size_t staging = alignUp(envBytes("TUTTI_UCX_STAGING_BYTES", 4u << 20), Connection::kAlign);
  if (staging < chunk) staging = chunk;
  const uint32_t slots = static_cast<uint32_t>(staging / chunk < 2 ? 2 : staging / chunk);
  UcxStreamOptions opts;
  opts.stagingBytes = staging;
  // Payloads from this size on leave from the caller's buffer (0: always through the ring).
  opts.directMinBytes = envBytes("TUTTI_UCX_DIRECT_BYTES", 1u << 20);
  // A quarter of the ring: long enough to split a reduction over threads, short enough that
  // credits keep flowing while it runs.
  opts.spanBytes = envBytes("TUTTI_UCX_SPAN_BYTES", chunk * slots / 4);
  // Whether peers should announce long runs to us, so that we receive them in place. Off by
  // default: on the 16-core box the receive copy through the slots runs on several threads
  // and beat UCX's single-threaded copy into cold user memory (perf/NOTES.md, 2026-12-03).
  const bool runs = envInt("TUTTI_UCX_DIRECT_RECV", 0) != 0;

  std::vector<UcxCard> cards(n);
  UcxCard& mine = cards[ctx.rank];
  mine = UcxCard{chunk, slots, runs ? 1u : 0u, StripingAsk{}};
  // Once per communicator: without UCX_TLS, noRdma asks libibverbs for the ports.
  const bool tcpDefaults = noRdma(envString("UCX_TLS"));
  TUTTI_TRY(readStripingAsk(autoWorkersHere(ctx, !tcpDefaults), &mine.striping));
  TUTTI_CHECK(ctx.bootstrap->allGather(cards.data(), sizeof(UcxCard)),
              "exchanging UCX stream shapes");
  std::vector<StripingAsk> asks;
  for (const UcxCard& c : cards) asks.push_back(c.striping);
  Striping striping;
  TUTTI_TRY(agreeStriping(asks, &striping));
  const int stripeWorkers = striping.workers;
  const int workers = stripeWorkers > 1 ? stripeWorkers + 1 : 1;
  // Each connection's send ring and slots: 8 MiB by default, so up to 128 peers of one worker
  // (and every layout with stripe workers: at most 8 peers of 5) are mapped at init.
  opts.mapAtInit = mapRingsAtInit(peers.size() * workers * (staging + chunk * slots));
  if (stripeWorkers > 1 && ctx.rank == 0)
    TUTTI_INFO(
        "UCX: messages from %zu bytes dealt in %zu-byte stripes over %d workers with threads of "
        "their own, shorter ones on the caller's worker (%s)",
        striping.stripeMin, striping.stripe, stripeWorkers,
        striping.fromAuto ? "TUTTI_UCX_WORKERS unset or auto: the fewest any rank's CPUs feed"
                          : "TUTTI_UCX_WORKERS");
  // Stripe workers may take send windows (their drivers post a stripe's pieces straight from
  // the caller's buffer); announced runs stay on worker 0, since a receive into the caller's
  // buffer needs the marker in the worker's own slot order.
  UcxStreamOptions stripeOpts = opts;
  bool windows = false;
  TUTTI_TRY(readStripeWindows(hostShareHere(ctx).localRanks, &windows));
  if (!windows) stripeOpts.directMinBytes = 0;

  // Each rank's row of the table: its workers' addresses, `maxBytes` apart.
  std::vector<ucx::Address*> addresses(peers.empty() ? 0 : workers, nullptr);
  std::vector<size_t> addressBytes(addresses.size(), 0);
  std::vector<uint32_t> lengths(n, 0);  // each rank's longest address; 0: it opened no worker
  // A rank whose UCX cannot open (a device or transport UCX_* names that it cannot use), or
  // cannot say its workers' addresses, still takes part in the exchanges below with no address,
  // so that its peers fail naming it at once rather than finding the bootstrap closed; it
  // returns its own error after them.
  Result opened = tuttiSuccess;
  std::string whyNot;
  if (!peers.empty()) {
    // Over TCP, UCX holds about two sockets per endpoint and a few descriptors per worker
    // (measured: 2 x 1 and 4 x 1 ranks on the VM). Only the soft limit is raised: other UCX
    // transports need none per peer, so a short hard limit is left to UCX's own error.
    raiseFdLimit(fdAskHere(workers * (2 * static_cast<int64_t>(peers.size()) + 8)),
                 "UCX endpoints (over TCP)");
    opened = openWorkers(stripeWorkers, tcpDefaults);
    if (opened != tuttiSuccess) whyNot = lastError();
    for (int l = 0; opened == tuttiSuccess && l < workers; ++l) {
      ucx::Status s = api_->workerGetAddress(workers_[l]->worker, &addresses[l], &addressBytes[l]);
      if (s != ucx::kOk) {
        addresses[l] = nullptr;
        lengths[ctx.rank] = 0;
        opened = setError(tuttiSystemError, "ucp_worker_get_address failed: %s",
                          ucx::statusText(api_, s).c_str());
        whyNot = lastError();
        break;
      }
      if (addressBytes[l] > lengths[ctx.rank])
        lengths[ctx.rank] = static_cast<uint32_t>(addressBytes[l]);
    }
  }
  Result r = ctx.bootstrap->allGather(lengths.data(), sizeof(uint32_t));
  size_t maxBytes = 0;
  for (uint32_t b : lengths) maxBytes = b > maxBytes ? b : maxBytes;
  const size_t row = maxBytes * workers;
  std::vector<char> table;
  if (r == tuttiSuccess) {
    table.assign(row * n, 0);
    for (size_t l = 0; l < addresses.size(); ++l)
      if (addresses[l])
        memcpy(table.data() + row * ctx.rank + maxBytes * l, addresses[l], addressBytes[l]);
    // Every rank saw the same lengths, so every rank takes this branch or none does.
    if (row > 0) r = ctx.bootstrap->allGather(table.data(), row);
  }
  for (size_t l = 0; l < addresses.size(); ++l)
    if (addresses[l]) api_->workerReleaseAddress(workers_[l]->worker, addresses[l]);
  if (opened != tuttiSuccess) return setError(opened, "%s", whyNot.c_str());
  TUTTI_CHECK(r, "exchanging UCX worker addresses");

  WorkerConns open(workers);
  for (auto& byPeer : open) byPeer.resize(n);
  const uint64_t nonce = ctx.peer(0).commNonce;
  for (int p : peers) {
    const UcxCard& c = cards[p];
    if (lengths[p] == 0)
      return setError(tuttiRemoteError,
                      "rank %d could not open UCX or read its worker addresses (its own error "
                      "says why: check UCX_TLS and UCX_NET_DEVICES on its host)",
                      p);
    if (c.chunk == 0 || c.chunk % Connection::kAlign != 0 || c.slots < 2)
      return setError(tuttiRemoteError,
                      "rank %d published no usable UCX address (chunk %llu, %u slots, %u address "
                      "bytes): does UCX load there?",
                      p, (unsigned long long)c.chunk, c.slots, lengths[p]);
    for (int l = 0; l < workers; ++l) {
      const bool direct = l == 0;  // announced runs too: only on the caller's worker
      open[l][p] = std::make_unique<UcxConnection>(
          workers_[l], ctx.rank, p, UcxStreamShape{chunk, slots, direct && mine.runs != 0},
          UcxStreamShape{c.chunk, c.slots, direct && c.runs != 0}, direct ? opts : stripeOpts);
      const char* at = table.data() + row * p + maxBytes * l;
      std::lock_guard<std::mutex> lock(workers_[l]->mu);
      TUTTI_CHECK(open[l][p]->open(reinterpret_cast<const ucx::Address*>(at), nonce),
                  "opening a UCX endpoint to rank %d (worker %d)", p, l);
    }
  }
  if (!peers.empty()) {
    TUTTI_TRY(waitForHellos(ctx, open));
    // What the endpoints ended up on, for the INFO line ("tcp/lo", "rc_mlx5/mlx5_0:1").
    std::string lanesText;
    {
      std::lock_guard<std::mutex> lock(workers_[0]->mu);
      for (int p : peers) {
        const std::string l = open[0][p]->lanes();
        if (!l.empty() && lanesText.find(l) == std::string::npos)
          lanesText += (lanesText.empty() ? "" : "; ") + l;
      }
    }
    if (!lanesText.empty()) describe_ += ", lanes " + lanesText;
    for (int l = 1; l < workers; ++l)
      workers_[l]->startDriver(("ucx-w" + std::to_string(l)).c_str());
    workers_[0]->startIdleProgress("ucx-idle");
  }
  for (int p : peers) {
    if (workers == 1) {
      (*conns)[p] = std::move(open[0][p]);
      continue;
    }
    std::vector<std::unique_ptr<Connection>> mine;
    for (int l = 0; l < workers; ++l) mine.push_back(std::move(open[l][p]));
    (*conns)[p] = makeRoutedConnection(std::move(mine), striping.stripe, striping.stripeMin, "ucx");
  }
  return tuttiSuccess;
}

}  // namespace

std::unique_ptr<Transport> makeUcxTransport() { return std::make_unique<UcxTransport>(); }

}  // namespace tutti

// UCX byte stream: staging ring and credits on the send side, posted slots on the receive side.
// Every public method takes the worker lock (or, on a worker its own thread drives, tries it)
// and is called by the thread that drives the executor (or the proxy); open() and helloDone()
// run under the lock the transport holds.
#include "transport/ucx_connection.h"

#include <poll.h>

#include <chrono>
#include <cstring>
#include <thread>

#include "base/deadline.h"
#include "base/env.h"
#include "base/exit_stops.h"
#include "base/logging.h"
#include "base/thread_name.h"
#include "transport/ring_memory.h"

namespace tutti {
namespace {

constexpr uint64_t kAllBits = ~uint64_t{0};
// A direct-run marker: the run's length, this magic and a zero word.
constexpr uint64_t kMarkerMagic = 0x4e55527443524944ull;  // "DIRCtRUN"
// A marker is 24 bytes: stream messages are multiples of 16, so its length alone sets it apart
// and the slots keep a full tag mask (UCX hashes those; receives with a partial mask go to one
// wildcard queue that every message from every peer is matched against in order).
constexpr size_t kMarkerBytes = 3 * sizeof(uint64_t);
constexpr uint64_t kMaxRunBytes = uint64_t{1} << 48;

// Receives always return a request, which ucp_tag_recv_request_test then reports with the
// message size: UCX 1.13 does not fill a recv_info on immediate completion, so we never ask for
// immediate completion.
ucx::RequestParam recvParam(ucx::TagRecvInfo*) {
  ucx::RequestParam p{};
  p.opAttrMask = ucx::kOpAttrFlagNoImmCmpl;
  return p;
}

}  // namespace

Result UcxWorker::open(const ucx::Api* api, bool tcpDefaults, std::shared_ptr<UcxWorker>* out,
                       std::string* tuned, bool wakeup) {
  auto w = std::make_shared<UcxWorker>();
  w->api = api;
  ucx::Config* config = nullptr;
  ucx::Status s = api->configRead(nullptr, nullptr, &config);
  if (s != ucx::kOk)
    return setError(tuttiInvalidArgument, "ucp_config_read failed (check the UCX_* variables): %s",
                    ucx::statusText(api, s).c_str());
  tuned->clear();
  if (tcpDefaults) *tuned = ucx::applyTcpDefaults(api, config);
  ucx::Params params{};
  params.fieldMask = ucx::kParamFieldFeatures;
  params.features = ucx::kFeatureTag | (wakeup ? ucx::kFeatureWakeup : 0);
  // The API version we were written against; a newer 1.x library accepts it.
  s = api->initVersion(1, 9, &params, config, &w->context);
  api->configRelease(config);
  if (s != ucx::kOk)
    return setError(tuttiSystemError, "ucp_init failed: %s (UCX_TLS=%s, UCX_NET_DEVICES=%s)",
                    ucx::statusText(api, s).c_str(), envString("UCX_TLS", "default").c_str(),
                    envString("UCX_NET_DEVICES", "default").c_str());
  ucx::ContextAttr attr{};
  attr.fieldMask = ucx::kAttrFieldMemoryTypes;
  if (api->contextQuery && api->contextQuery(w->context, &attr) == ucx::kOk)
    w->memoryTypes = attr.memoryTypes;
  ucx::WorkerParams wp{};
  wp.fieldMask = ucx::kWorkerParamFieldThreadMode;
  wp.threadMode = ucx::kThreadModeSerialized;
  s = api->workerCreate(w->context, &wp, &w->worker);
  if (s != ucx::kOk)
    return setError(tuttiSystemError, "ucp_worker_create failed: %s",
                    ucx::statusText(api, s).c_str());
  *out = std::move(w);
  return tuttiSuccess;
}

void UcxWorker::startDriver(const char* name) {
  {
    std::lock_guard<std::mutex> lock(mu);
    // Without an event fd the driver naps instead of sleeping on it (still bounded, no spin).
    if (api->workerGetEfd(worker, &efd_) != ucx::kOk) efd_ = -1;
    for (UcxConnection* c : conns) c->handOff();
    driven_.store(true, std::memory_order_release);
  }
  driver_ = launch(name, &UcxWorker::drive);
}

std::thread UcxWorker::launch(const char* name, void (UcxWorker::*body)()) {
  if (!exitStop_) exitStop_ = addExitStop([this] { stopThreads(); });
  std::string label = name;
  return std::thread([this, label, body] {
    nameThisThread(label.c_str());
    (this->*body)();
  });
}

// Progress until a pass moves nothing, then sleep on the event fd. The executor publishes a
// commit or a freed slot and then reads sleeping_; the driver sets sleeping_, arms the fd and
// then looks for such work (all sequentially consistent): either it sees the work and goes on,
// or the executor sees sleeping_ and its kick lands on the armed fd.
void UcxWorker::drive() {
  // The bound on one sleep: events the fd does not report (a peer gone quiet) are seen this late.
  constexpr int kSleepMs = 5;
  bool canSleep = efd_ >= 0;  // false: nap instead (no event fd, or arming failed)
  while (!stop_.load(std::memory_order_relaxed)) {
    bool idle = false, armed = false;
    {
      std::lock_guard<std::mutex> lock(mu);
      idle = progressAndPumpLocked() == 0;
      if (idle) {
        sleeping_.store(true);
        const ucx::Status s = canSleep ? api->workerArm(worker) : ucx::kErrBusy;
        armed = s == ucx::kOk;
        if (s != ucx::kOk && s != ucx::kErrBusy) canSleep = false;
        if ((s == ucx::kErrBusy && canSleep) || workPending()) {  // events or work: go on
          sleeping_.store(false);
          armed = false;
          idle = false;
        }
      }
    }
    if (armed) {
      pollfd p{efd_, POLLIN, 0};
      (void)poll(&p, 1, kSleepMs);
      sleeping_.store(false);
    } else if (idle && !canSleep) {
      std::this_thread::sleep_for(std::chrono::microseconds(50));
      sleeping_.store(false);
    }
  }
}

void UcxWorker::startIdleProgress(const char* name) {
  idler_ = launch(name, &UcxWorker::idleProgress);
}

// A pass only once no operation of the caller touched the worker for a whole nap. A pass that
// moved something is followed by a short nap (a queued tail drains as fast as the peer reads);
// one that moved nothing doubles the nap, so an idle communicator costs ~50 wake-ups a second.
void UcxWorker::idleProgress() {
  constexpr int kMinNapUs = 50, kMaxNapUs = 20000, kBusyNapUs = 1000;
  uint64_t seen = touches_.load(std::memory_order_relaxed);
  int napUs = kBusyNapUs;
  while (!stop_.load(std::memory_order_relaxed)) {
    std::this_thread::sleep_for(std::chrono::microseconds(napUs));
    const uint64_t now = touches_.load(std::memory_order_relaxed);
    if (now != seen) {
      seen = now;
      napUs = kBusyNapUs;
      continue;
    }
    std::unique_lock<std::mutex> lock(mu, std::try_to_lock);
    if (!lock.owns_lock()) continue;
    for (UcxConnection* c : conns)
      if (c->brokenLocked()) return;
    const unsigned events = progressAndPumpLocked();
    lock.unlock();
    napUs = events > 0 ? kMinNapUs : (napUs * 2 > kMaxNapUs ? kMaxNapUs : napUs * 2);
  }
}

unsigned UcxWorker::progressAndPumpLocked() {
  // UCX's TCP transport moves one segment per endpoint per call: keep calling while it does
  // work (bounded), or the caller would see a trickle and back off between calls.
  unsigned events = 0;
  for (int i = 0; i < 64; ++i) {
    const unsigned e = api->workerProgress(worker);
    if (e == 0) break;
    events += e;
  }
  for (UcxConnection* c : conns) c->pumpLocked();
  return events;
}

unsigned UcxWorker::progressOnceAndPumpLocked() {
  const unsigned events = api->workerProgress(worker);
  for (UcxConnection* c : conns) c->pumpLocked();
  return events;
}

bool UcxWorker::workPending() {
  for (UcxConnection* c : conns)
    if (c->handoffPending()) return true;
  return false;
}

void UcxWorker::kick() {
  if (driven() && efd_ >= 0 && sleeping_.load()) api->workerSignal(worker);
}

void UcxWorker::stopThreads() {
  stop_.store(true);
  if (idler_.joinable()) idler_.join();
  if (driver_.joinable()) {
    if (efd_ >= 0) api->workerSignal(worker);
    driver_.join();
  }
}

UcxWorker::~UcxWorker() {
  removeExitStop(exitStop_);  // first: the exit handler may be joining the threads right now
  stopThreads();
  if (worker) api->workerDestroy(worker);
  if (context) api->cleanup(context);
}

UcxConnection::UcxConnection(std::shared_ptr<UcxWorker> w, int me, int peer, UcxStreamShape mine,
                             UcxStreamShape theirs, const UcxStreamOptions& options)
    : w_(std::move(w)),
      api_(w_->api),
      me_(me),
      peer_(peer),
      mine_(mine),
      theirs_(theirs),
      sendRing_(newRing(options.stagingBytes, options.mapAtInit)),
      ringBytes_(options.stagingBytes),
      creditLimit_(theirs.slots),
      directMin_(options.directMinBytes),
      slotMem_(newRing(mine.chunk * mine.slots, options.mapAtInit)),
      slots_(mine.slots),
      spanMax_(options.spanBytes) {}

Result UcxConnection::open(const ucx::Address* peerAddress, uint64_t nonce) {
  nonce_ = nonce;
  ucx::EpParams ep{};
  ep.fieldMask = ucx::kEpParamFieldRemoteAddress | ucx::kEpParamFieldErrHandlingMode |
                 ucx::kEpParamFieldErrHandler;
  ep.address = peerAddress;
  ep.errMode = ucx::kErrHandlingModePeer;
  ep.errCb = &UcxConnection::onEpError;
  ep.errArg = this;
  ucx::Status s = api_->epCreate(w_->worker, &ep, &ep_);
  if (s != ucx::kOk)
    return setError(tuttiSystemError, "ucp_ep_create to rank %d failed: %s", peer_,
                    ucx::statusText(api_, s).c_str());
  w_->conns.push_back(this);
  for (uint64_t i = 0; i < mine_.slots; ++i) TUTTI_TRY(postSlot(i));
  TUTTI_TRY(postControlRecv(UcxMsg::kCredit, &creditIn_, &creditRecvReq_, &creditInfo_));
  TUTTI_TRY(postControlRecv(UcxMsg::kFail, &failIn_, &failRecvReq_, &failInfo_));
  helloInfo_ = {};
  ucx::RequestParam rp = recvParam(&helloInfo_);
  helloRecvReq_ = api_->tagRecvNbx(w_->worker, helloIn_, sizeof(helloIn_),
                                   ucxTag(UcxMsg::kHello, peer_), kAllBits, &rp);
  if (ucx::ptrIsError(helloRecvReq_))
    return setError(tuttiSystemError, "posting the hello receive from rank %d failed: %s", peer_,
                    ucx::statusText(api_, ucx::ptrStatus(helloRecvReq_)).c_str());
  if (!helloRecvReq_) helloReceived_ = true;
  helloOut_[0] = static_cast<uint64_t>(me_);
  helloOut_[1] = nonce_;
  ucx::RequestParam sp{};
  helloSendReq_ =
      api_->tagSendNbx(ep_, helloOut_, sizeof(helloOut_), ucxTag(UcxMsg::kHello, me_), &sp);
  if (ucx::ptrIsError(helloSendReq_))
    return setError(tuttiRemoteError, "sending the hello to rank %d failed: %s", peer_,
                    ucx::statusText(api_, ucx::ptrStatus(helloSendReq_)).c_str());
  if (!helloSendReq_) helloSent_ = true;
  return tuttiSuccess;
}

Result UcxConnection::helloDone(bool* done) {
  if (epStatus_ != ucx::kOk)
    return setError(tuttiRemoteError, "UCX cannot reach rank %d: %s", peer_,
                    ucx::statusText(api_, epStatus_).c_str());
  if (!helloSent_ && helloSendReq_) {
    ucx::Status s = api_->requestCheckStatus(helloSendReq_);
    if (s != ucx::kInProgress) {
      api_->requestFree(helloSendReq_);
      helloSendReq_ = nullptr;
      if (s != ucx::kOk)
        return setError(tuttiRemoteError, "sending the hello to rank %d failed: %s", peer_,
                        ucx::statusText(api_, s).c_str());
      helloSent_ = true;
    }
  }
  if (!helloReceived_) {
    bool got = false;
    TUTTI_TRY(recvDone(&helloRecvReq_, &helloInfo_, &got));
    helloReceived_ = got;
  }
  if (helloReceived_ && (helloInfo_.length != sizeof(helloIn_) ||
                         helloIn_[0] != static_cast<uint64_t>(peer_) || helloIn_[1] != nonce_))
    return setError(tuttiRemoteError,
                    "rank %d's UCX hello does not match this communicator (%zu bytes, rank "
                    "%llu): is another job using the same UCX address?",
                    peer_, helloInfo_.length, (unsigned long long)helloIn_[0]);
  *done = helloSent_ && helloReceived_;
  return tuttiSuccess;
}

UcxConnection::~UcxConnection() {
  std::lock_guard<std::mutex> lock(w_->mu);
  for (size_t i = 0; i < w_->conns.size(); ++i)
    if (w_->conns[i] == this) w_->conns.erase(w_->conns.begin() + static_cast<long>(i));
  const bool force = broken() || failRequested_.load();
  if (failRequested_.load() && !failNoticeSent_) sendFailNotice();
  // A credit the peer sent just before we got here would otherwise find no receive posted
  // (UCX then warns about an unmatched message when the worker goes): drain briefly.
  for (int i = 0; i < 20 && !force; ++i)
    if (api_->workerProgress(w_->worker) == 0)
      std::this_thread::sleep_for(std::chrono::microseconds(50));
  // Cancel what is still posted, close the endpoint (flushing unless something failed), and
  // progress until both are done or the bound passes.
  std::vector<void*> pending;
  for (Slot& s : slots_)
    if (s.req) pending.push_back(s.req);
  for (void* r : {creditRecvReq_, failRecvReq_, helloRecvReq_})
    if (r) pending.push_back(r);
  for (const Piece& p : run_.pieces)
    if (p.req) pending.push_back(p.req);
  for (void* r : pending) api_->requestCancel(w_->worker, r);
  for (void* r : {creditSendReq_, failSendReq_, helloSendReq_})
    if (r) pending.push_back(r);
  for (const SendOp& op : inflight_)
    if (op.req) pending.push_back(op.req);
  void* closeReq = nullptr;
  if (ep_) {
    ucx::RequestParam cp{};
    cp.opAttrMask = ucx::kOpAttrFieldFlags;
    cp.flags = force ? ucx::kEpCloseFlagForce : 0;
    closeReq = api_->epCloseNbx(ep_, &cp);
    if (ucx::ptrIsError(closeReq)) closeReq = nullptr;
  }
  if (closeReq) pending.push_back(closeReq);
  if (!progressWhileBusy(pending, force ? 200 : 2000)) {
    // UCX may still write into our buffers: leave them allocated rather than risk it.
    TUTTI_INFO("UCX connection to rank %d closed with requests in flight", peer_);
    (void)sendRing_.release();
    (void)slotMem_.release();
    (void)bounceMem_.release();
  }
  for (void* r : pending) api_->requestFree(r);
}

// Progresses the worker until none of `reqs` is in progress (true) or `ms` pass (false).
bool UcxConnection::progressWhileBusy(const std::vector<void*>& reqs, int ms) {
  Deadline dl = Deadline::afterMs(ms);
  for (;;) {
    bool busy = false;
    for (void* r : reqs) busy |= r && api_->requestCheckStatus(r) == ucx::kInProgress;
    if (!busy) return true;
    if (dl.expired()) return false;
    if (api_->workerProgress(w_->worker) == 0)
      std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
}

Result UcxConnection::fail(Result r) {
  if (status_ == tuttiSuccess) {
    status_ = r;
    statusMessage_ = lastError();
  }
  return r;
}

Result UcxConnection::failed() const {
  if (status_ != tuttiSuccess) return setError(status_, "%s", statusMessage_.c_str());
  if (peerFailed_) return setError(tuttiRemoteError, "rank %d reported a failure", peer_);
  if (epStatus_ != ucx::kOk)
    return setError(tuttiRemoteError, "UCX lost rank %d: %s", peer_,
                    ucx::statusText(api_, epStatus_).c_str());
  return tuttiSuccess;
}

void UcxConnection::onEpError(void* arg, ucx::Ep, ucx::Status status) {
  auto* c = static_cast<UcxConnection*>(arg);
  if (c->epStatus_ == ucx::kOk) c->epStatus_ = status == ucx::kOk ? -1 : status;
}

void UcxConnection::progressWorker() { (void)w_->progressAndPumpLocked(); }

void UcxConnection::pumpLocked() {
  if (failRequested_.load(std::memory_order_relaxed) && !failNoticeSent_) sendFailNotice();
  const bool driven = w_->driven();
  if (status_ == tuttiSuccess && ep_ && pollControl() == tuttiSuccess &&
      (!driven || pumpSlotsLocked() == tuttiSuccess) && postSends() == tuttiSuccess &&
      reapSends() == tuttiSuccess)
    (void)maybeSendCredit();
  if (driven) publishHealthLocked();
}

void UcxConnection::handOff() {
  handoff_.committed.store(committed_);
  handoff_.completed.store(completed_);
  handoff_.arrived.store(consumed_);
  handoff_.released.store(consumed_);
  arrivedAt_ = repostFrom_ = consumed_;
  publishHealthLocked();
}

// Committed bytes wait for the driver only while the peer has credit for them; without it the
// driver sleeps until the credit message wakes it (spinning through UCX for it cost 2 x 2 hosts
// 15-30% at 64 MiB: 4 ranks of drivers shared the CPUs with the executors).
bool UcxConnection::handoffPending() const {
  if (!w_->driven()) return false;
  if (handoff_.released.load() > repostFrom_) return true;
  if (sentMsgs_ >= creditLimit_) return false;
  // The front window stops the ring at its start, and is work once its memory is known. The
  // committed count first, as in postDrivenSends().
  uint64_t limit = handoff_.committed.load();
  if (const Handoff::Window* w = frontWindow()) {
    if (posted_ >= w->at) return !windowsDropped_ && w->src.load() != nullptr;
    if (w->at < limit) limit = w->at;
  }
  return limit > posted_;
}

// Freed slots are posted again for the message `slots` places ahead; arrivals are published in
// order (a message's slot is complete and its size checked before the executor may read it).
Result UcxConnection::pumpSlotsLocked() {
  const uint64_t released = handoff_.released.load(std::memory_order_acquire);
  for (; repostFrom_ < released; ++repostFrom_, ++consumedMsgs_)
    TUTTI_TRY(postSlot(repostFrom_ + mine_.slots));
  for (; arrivedAt_ < repostFrom_ + mine_.slots; ++arrivedAt_) {
    bool ready;
    Slot& s = slots_[arrivedAt_ % mine_.slots];
    TUTTI_TRY(slotReady(s, &ready));
    if (!ready) break;
    if (s.marker)  // stripe workers carry no direct runs (routed_connection.cc keeps them on part
                   // 0)
      return fail(
          setError(tuttiRemoteError, "rank %d sent a direct-run marker to a stripe worker", peer_));
  }
  handoff_.arrived.store(arrivedAt_, std::memory_order_release);
  return tuttiSuccess;
}

void UcxConnection::publishHealthLocked() {
  handoff_.broken.store(broken(), std::memory_order_release);
}

Result UcxConnection::drivenFailed() {
  std::lock_guard<std::mutex> lock(w_->mu);
  return failed();
}

Result UcxConnection::drivenSendSpace(void** ptr, size_t* bytes) {
  if (handoff_.broken.load(std::memory_order_acquire)) TUTTI_TRY(drivenFailed());
  freeRegion(handoff_.completed.load(std::memory_order_acquire), ptr, bytes);
  return tuttiSuccess;
}

Result UcxConnection::drivenSendCommit(size_t bytes) {
  TUTTI_TRY(advanceCommitted(handoff_.completed.load(std::memory_order_acquire), bytes));
  handoff_.committed.store(committed_);  // sequentially consistent: see UcxWorker::drive()
  if (handoff_.broken.load(std::memory_order_acquire)) TUTTI_TRY(drivenFailed());
  w_->kick();
  return tuttiSuccess;
}

Result UcxConnection::drivenRecvPeek(const void** ptr, size_t* bytes) {
  const uint64_t arrived = handoff_.arrived.load(std::memory_order_acquire);
  // Data that arrived before the peer failed is still delivered; only then is it an error.
  if (consumed_ == arrived)
    return handoff_.broken.load(std::memory_order_acquire) ? drivenFailed() : tuttiSuccess;
  // Across following full slots up to the ring's end, as slotSpan does.
  size_t total = slots_[consumed_ % mine_.slots].length - slotOffset_;
  for (uint64_t i = consumed_ + 1;
       i < arrived && i % mine_.slots != 0 && slots_[(i - 1) % mine_.slots].length == mine_.chunk &&
       total < spanMax_;
       ++i)
    total += slots_[i % mine_.slots].length;
  *ptr = slotData(consumed_) + slotOffset_;
  *bytes = total;
  return tuttiSuccess;
}

Result UcxConnection::drivenRecvRelease(size_t bytes) {
  const uint64_t arrived = handoff_.arrived.load(std::memory_order_acquire);
  const size_t asked = bytes;
  while (bytes > 0) {
    if (consumed_ == arrived)
      return setError(tuttiInternalError, "UCX receive from rank %d released %zu bytes it has not",
                      peer_, asked);
    const Slot& s = slots_[consumed_ % mine_.slots];
    const size_t r = bytes < s.length - slotOffset_ ? bytes : s.length - slotOffset_;
    slotOffset_ += r;
    bytes -= r;
    if (slotOffset_ < s.length) break;
    slotOffset_ = 0;
    ++consumed_;
  }
  handoff_.released.store(consumed_);  // sequentially consistent: see UcxWorker::drive()
  w_->kick();
  return tuttiSuccess;
}

Result UcxConnection::postControlRecv(UcxMsg kind, uint64_t* buf, void** req,
                                      ucx::TagRecvInfo* info) {
  *info = {};
  ucx::RequestParam rp = recvParam(info);
  void* r = api_->tagRecvNbx(w_->worker, buf, sizeof(*buf), ucxTag(kind, peer_), kAllBits, &rp);
  if (ucx::ptrIsError(r))
    return fail(setError(tuttiSystemError, "posting a receive from rank %d failed: %s", peer_,
                         ucx::statusText(api_, ucx::ptrStatus(r)).c_str()));
  *req = r;  // null: already complete, info filled
  return tuttiSuccess;
}

// True when the posted receive in *req has completed (its request freed; null: it had already).
Result UcxConnection::recvDone(void** req, ucx::TagRecvInfo* info, bool* done) {
  *done = false;
  if (*req) {
    ucx::Status s = api_->tagRecvRequestTest(*req, info);
    if (s == ucx::kInProgress) return tuttiSuccess;
    api_->requestFree(*req);
    *req = nullptr;
    if (s != ucx::kOk)
      return fail(setError(tuttiRemoteError, "receiving from rank %d failed: %s", peer_,
                           ucx::statusText(api_, s).c_str()));
  }
  *done = true;
  return tuttiSuccess;
}

// Credits and failure notices from the peer; each receive is reposted once handled.
Result UcxConnection::pollControl() {
  bool done;
  for (int guard = 0; guard < 64; ++guard) {
    TUTTI_TRY(recvDone(&creditRecvReq_, &creditInfo_, &done));
    if (!done) break;
    // A credit is the peer's count of slots it freed: never more than we sent.
    if (creditInfo_.length != sizeof(creditIn_) || creditIn_ > sentMsgs_)
      return fail(setError(tuttiRemoteError,
                           "rank %d sent a malformed UCX credit (%zu bytes, %llu slots freed of "
                           "%llu sent)",
                           peer_, creditInfo_.length, (unsigned long long)creditIn_,
                           (unsigned long long)sentMsgs_));
    if (creditIn_ + theirs_.slots > creditLimit_) creditLimit_ = creditIn_ + theirs_.slots;
    TUTTI_TRY(postControlRecv(UcxMsg::kCredit, &creditIn_, &creditRecvReq_, &creditInfo_));
  }
  if (!peerFailed_ && failRecvReq_) {
    TUTTI_TRY(recvDone(&failRecvReq_, &failInfo_, &done));
    peerFailed_ = done;
  }
  return tuttiSuccess;
}

Result UcxConnection::postSlot(uint64_t index) {
  Slot& s = slots_[index % mine_.slots];
  s.length = 0;
  s.marker = false;
  s.info = {};
  ucx::RequestParam rp = recvParam(&s.info);
  char* buf = slotData(index);
  void* r =
      api_->tagRecvNbx(w_->worker, buf, mine_.chunk, ucxTag(UcxMsg::kData, peer_), kAllBits, &rp);
  if (ucx::ptrIsError(r))
    return fail(setError(tuttiSystemError, "posting a receive from rank %d failed: %s", peer_,
                         ucx::statusText(api_, ucx::ptrStatus(r)).c_str()));
  s.req = r;
  if (!r) {
    bool ready;
    return slotReady(s, &ready);
  }
  return tuttiSuccess;
}

// Completes the slot's receive when UCX has, and checks the size the peer sent.
Result UcxConnection::slotReady(Slot& s, bool* ready) {
  *ready = s.length != 0;
  if (*ready) return tuttiSuccess;
  bool done;
  TUTTI_TRY(recvDone(&s.req, &s.info, &done));
  if (!done) return tuttiSuccess;
  s.marker = s.info.length == kMarkerBytes;
  if (!s.marker &&
      (s.info.length == 0 || s.info.length > mine_.chunk || s.info.length % kAlign != 0))
    return fail(setError(tuttiRemoteError,
                         "rank %d sent a UCX message of %zu bytes (expected a multiple of %zu up "
                         "to %zu, or a %zu-byte marker)",
                         peer_, s.info.length, kAlign, mine_.chunk, kMarkerBytes));
  s.length = s.info.length;
  *ready = true;
  return tuttiSuccess;
}

// The ready stream bytes from the current slot on, across following full slots up to the
// ring's end (a reduction over a long region is split over threads; one slot is too short).
Result UcxConnection::slotSpan(const void** ptr, size_t* bytes) {
  *bytes = 0;
  bool ready;
  TUTTI_TRY(slotReady(slots_[consumed_ % mine_.slots], &ready));
  if (!ready || slots_[consumed_ % mine_.slots].marker) return tuttiSuccess;
  size_t total = slots_[consumed_ % mine_.slots].length - slotOffset_;
  for (uint64_t i = consumed_; slots_[i % mine_.slots].length == mine_.chunk && total < spanMax_;) {
    ++i;
    if (i % mine_.slots == 0 || i == consumed_ + mine_.slots) break;
    Slot& next = slots_[i % mine_.slots];
    TUTTI_TRY(slotReady(next, &ready));
    if (!ready || next.marker) break;
    total += next.length;
  }
  *ptr = slotData(consumed_) + slotOffset_;
  *bytes = total;
  return tuttiSuccess;
}

Result UcxConnection::releaseSlots(size_t bytes) {
  while (bytes > 0) {
    Slot& s = slots_[consumed_ % mine_.slots];
    if (s.length == 0 || s.marker)
      return setError(tuttiInternalError, "UCX receive from rank %d released %zu bytes it has not",
                      peer_, bytes);
    const size_t r = bytes < s.length - slotOffset_ ? bytes : s.length - slotOffset_;
    slotOffset_ += r;
    bytes -= r;
    if (slotOffset_ < s.length) break;
    slotOffset_ = 0;
    // The slot is free again: post it for the message `slots` places ahead.
    TUTTI_TRY(postSlot(consumed_ + mine_.slots));
    ++consumed_;
    ++consumedMsgs_;
  }
  return tuttiSuccess;
}

// The current slot is a marker: the next run's bytes come as kDirect pieces, received into
// `user` (the caller's buffer at the stream's position) or, when null, the bounce ring.
Result UcxConnection::openRun(char* user) {
  uint64_t m[2];
  memcpy(m, slotData(consumed_), sizeof(m));
  if (m[1] != kMarkerMagic || m[0] == 0 || m[0] % kAlign != 0 || m[0] > kMaxRunBytes)
    return fail(setError(tuttiRemoteError,
                         "rank %d sent a malformed UCX direct marker (%llu bytes, magic %llx)",
                         peer_, (unsigned long long)m[0], (unsigned long long)m[1]));
  run_ = DirectRun{};
  run_.bytes = m[0];
  run_.user = user;
  if (!user && !bounceMem_) bounceMem_.reset(new char[mine_.chunk * mine_.slots]);
  TUTTI_TRY(postSlot(consumed_ + mine_.slots));
  ++consumed_;
  ++consumedMsgs_;
  return postPieces();
}

// Keeps up to `slots` receives of the run posted (the sender's credits allow no more).
Result UcxConnection::postPieces() {
  while (run_.posted < run_.bytes && run_.pieces.size() < mine_.slots) {
    Piece p;
    const uint64_t left = run_.bytes - run_.posted;
    p.want = left < mine_.chunk ? static_cast<size_t>(left) : mine_.chunk;
    p.buf = run_.user ? run_.user + run_.posted
                      : bounceMem_.get() + (bounceNext_++ % mine_.slots) * mine_.chunk;
    ucx::RequestParam rp = recvParam(&p.info);
    void* r =
        api_->tagRecvNbx(w_->worker, p.buf, p.want, ucxTag(UcxMsg::kDirect, peer_), kAllBits, &rp);
    if (ucx::ptrIsError(r))
      return fail(setError(tuttiSystemError, "posting a receive from rank %d failed: %s", peer_,
                           ucx::statusText(api_, ucx::ptrStatus(r)).c_str()));
    p.req = r;
    run_.pieces.push_back(p);
    run_.posted += p.want;
  }
  return tuttiSuccess;
}

Result UcxConnection::pieceReady(Piece& p, bool* ready) {
  *ready = p.length != 0;
  if (*ready) return tuttiSuccess;
  bool done;
  TUTTI_TRY(recvDone(&p.req, &p.info, &done));
  if (!done) return tuttiSuccess;
  if (p.info.length != p.want)
    return fail(setError(tuttiRemoteError,
                         "rank %d sent a UCX direct piece of %zu bytes where %zu were due", peer_,
                         p.info.length, p.want));
  p.length = p.want;
  *ready = true;
  return tuttiSuccess;
}

// True when the next stream item (a slot or a piece) has arrived.
Result UcxConnection::currentReady(bool* ready) {
  *ready = false;
  if (!run_.bytes) return slotReady(slots_[consumed_ % mine_.slots], ready);
  if (run_.pieces.empty()) return tuttiSuccess;
  return pieceReady(run_.pieces.front(), ready);
}

// A marker right where an open receive reservation starts belongs to recvDirect.
bool UcxConnection::markerAwaitsReservation() {
  return recvReserved_ > 0 && streamPos_ == reservePos_;
}

Result UcxConnection::peekLocked(const void** ptr, size_t* bytes) {
  *bytes = 0;
  if (!run_.bytes) {
    bool ready;
    TUTTI_TRY(slotReady(slots_[consumed_ % mine_.slots], &ready));
    if (!ready) return tuttiSuccess;
    if (!slots_[consumed_ % mine_.slots].marker) return slotSpan(ptr, bytes);
    if (markerAwaitsReservation()) return tuttiSuccess;
    TUTTI_TRY(openRun(nullptr));
  }
  if (run_.user) return tuttiSuccess;  // recvDirect hands this run out
  // Arrived bounce pieces that follow each other in memory.
  const char* next = nullptr;
  for (Piece& p : run_.pieces) {
    bool ready;
    TUTTI_TRY(pieceReady(p, &ready));
    if (!ready || (next && p.buf != next)) break;
    if (!next) *ptr = p.buf + run_.frontDone;
    *bytes += next ? p.length : p.length - run_.frontDone;
    next = p.buf + p.length;
  }
  return tuttiSuccess;
}

Result UcxConnection::reapSends() {
  while (!inflight_.empty()) {
    SendOp& op = inflight_.front();
    if (op.req) {
      ucx::Status s = api_->requestCheckStatus(op.req);
      if (s == ucx::kInProgress) break;
      api_->requestFree(op.req);
      op.req = nullptr;
      if (s != ucx::kOk)
        return fail(setError(tuttiRemoteError, "sending to rank %d failed: %s", peer_,
                             ucx::statusText(api_, s).c_str()));
    }
    completed_ = op.end;
    windowDone_ += op.windowBytes;
    inflight_.pop_front();
  }
  if (w_->driven()) {
    handoff_.completed.store(completed_, std::memory_order_release);
    handoff_.done.store(windowDone_, std::memory_order_release);
  }
  return tuttiSuccess;
}

// Bytes committed after an open send reservation wait until sendDirect has posted it.
Result UcxConnection::postSends() {
  if (w_->driven()) return postDrivenSends();
  return postRing(sendReserved_ > 0 ? sendReserveAt_ : committed_);
}

// The driver's turn: ring bytes up to the front window, the window's pieces, and so on. The
// committed count is read before the window count: the executor opens a window before it
// commits any byte behind it, so a count that shows such a byte makes the window visible too
// (read the other way round, a window opened between the two reads would let the ring's later
// bytes overtake it).
Result UcxConnection::postDrivenSends() {
  for (;;) {
    uint64_t limit = handoff_.committed.load(std::memory_order_acquire);
    const Handoff::Window* w = frontWindow();
    if (w && w->at < limit) limit = w->at;
    TUTTI_TRY(postRing(limit));
    if (!w || posted_ < w->at) return tuttiSuccess;
    bool whole;
    TUTTI_TRY(postWindowPieces(*w, &whole));
    if (!whole) return tuttiSuccess;
    windowPosted_ = 0;
    handoff_.posted.store(handoff_.posted.load(std::memory_order_relaxed) + 1,
                          std::memory_order_release);
  }
}

// Sequentially consistent: handoffPending() reads it in the driver's sleep handshake.
const UcxConnection::Handoff::Window* UcxConnection::frontWindow() const {
  const uint64_t front = handoff_.posted.load(std::memory_order_relaxed);
  if (front == handoff_.opened.load()) return nullptr;
  return &handoff_.windows[front % Handoff::kWindows];
}

// Slot-sized data messages from the caller's memory: the peer's slots take them as they take
// the ring's, so the receive side is unchanged.
Result UcxConnection::postWindowPieces(const Handoff::Window& w, bool* whole) {
  *whole = false;
  const char* src = w.src.load(std::memory_order_acquire);
  if (!src || windowsDropped_) return tuttiSuccess;
  while (windowPosted_ < w.bytes && sentMsgs_ < creditLimit_) {
    const uint64_t left = w.bytes - windowPosted_;
    const size_t len = left < theirs_.chunk ? static_cast<size_t>(left) : theirs_.chunk;
    ucx::RequestParam sp{};
    void* r = api_->tagSendNbx(ep_, src + windowPosted_, len, ucxTag(UcxMsg::kData, me_), &sp);
    if (ucx::ptrIsError(r))
      return fail(setError(tuttiRemoteError, "sending to rank %d failed: %s", peer_,
                           ucx::statusText(api_, ucx::ptrStatus(r)).c_str()));
    ++sentMsgs_;
    inflight_.push_back(SendOp{posted_, r, true, {}, len});
    windowPosted_ += len;
  }
  *whole = windowPosted_ == w.bytes;
  return tuttiSuccess;
}

// Posts the ring's bytes up to `limit` as messages while the peer has free slots; a message
// never wraps the ring and never exceeds the peer's slot size.
Result UcxConnection::postRing(uint64_t limit) {
  while (posted_ < limit && sentMsgs_ < creditLimit_) {
    const size_t off = static_cast<size_t>(posted_ % ringBytes_);
    size_t len = static_cast<size_t>(limit - posted_);
    if (len > ringBytes_ - off) len = ringBytes_ - off;
    if (len > theirs_.chunk) len = theirs_.chunk;
    ucx::RequestParam sp{};
    void* r = api_->tagSendNbx(ep_, sendRing_.get() + off, len, ucxTag(UcxMsg::kData, me_), &sp);
    if (ucx::ptrIsError(r))
      return fail(setError(tuttiRemoteError, "sending to rank %d failed: %s", peer_,
                           ucx::statusText(api_, ucx::ptrStatus(r)).c_str()));
    posted_ += len;
    ++sentMsgs_;
    inflight_.push_back(SendOp{posted_, r, false});
  }
  return tuttiSuccess;
}

// Returns freed slots to the sender every half ring (at most one credit message in flight).
// A credit that cannot go out is no error by itself: the peer may have sent its last bytes and
// left before we read them (a chain Reduce's first rank does; the credit for its last half ring
// then failed the next rank, 1 run in 10 on 11 hosts). The endpoint is marked lost instead: a
// wait that still needs the peer fails, as for any departed peer, and others complete.
Result UcxConnection::maybeSendCredit() {
  if (epStatus_ != ucx::kOk) return tuttiSuccess;
  if (creditSendReq_) {
    ucx::Status s = api_->requestCheckStatus(creditSendReq_);
    if (s == ucx::kInProgress) return tuttiSuccess;
    api_->requestFree(creditSendReq_);
    creditSendReq_ = nullptr;
    if (s != ucx::kOk) {
      creditLost(s);
      return tuttiSuccess;
    }
  }
  const uint64_t batch = mine_.slots / 2 > 0 ? mine_.slots / 2 : 1;
  if (consumedMsgs_ - creditSent_ < batch) return tuttiSuccess;
  creditOut_ = consumedMsgs_;
  ucx::RequestParam sp{};
  void* r =
      api_->tagSendNbx(ep_, &creditOut_, sizeof(creditOut_), ucxTag(UcxMsg::kCredit, me_), &sp);
  if (ucx::ptrIsError(r)) {
    creditLost(ucx::ptrStatus(r));
    return tuttiSuccess;
  }
  creditSendReq_ = r;
  creditSent_ = consumedMsgs_;
  return tuttiSuccess;
}

void UcxConnection::creditLost(ucx::Status s) {
  TUTTI_INFO(
      "UCX could not send credits to rank %d (%s): the endpoint is lost; an error only "
      "if a wait still needs that rank",
      peer_, ucx::statusText(api_, s).c_str());
  if (epStatus_ == ucx::kOk) epStatus_ = s == ucx::kOk ? -1 : s;
}

void UcxConnection::sendFailNotice() {
  failNoticeSent_ = true;
  if (!ep_ || epStatus_ != ucx::kOk) return;
  failOut_ = 1;
  ucx::RequestParam sp{};
  void* r = api_->tagSendNbx(ep_, &failOut_, sizeof(failOut_), ucxTag(UcxMsg::kFail, me_), &sp);
  if (ucx::ptrIsError(r)) return;
  failSendReq_ = r;
  // Push it out now: the caller is about to stop driving this worker.
  for (int i = 0;
       i < 16 && failSendReq_ && api_->requestCheckStatus(failSendReq_) == ucx::kInProgress; ++i)
    api_->workerProgress(w_->worker);
}

// The writable region after committed_, given the sends completed up to `completed`.
void UcxConnection::freeRegion(uint64_t completed, void** ptr, size_t* bytes) const {
  const size_t used = static_cast<size_t>(committed_ - completed);
  const size_t off = static_cast<size_t>(committed_ % ringBytes_);
  const size_t free = ringBytes_ - used, span = ringBytes_ - off;
  *ptr = sendRing_.get() + off;
  *bytes = free < span ? free : span;
}

Result UcxConnection::advanceCommitted(uint64_t completed, size_t bytes) {
  if (bytes > ringBytes_ - static_cast<size_t>(committed_ - completed))
    return setError(tuttiInternalError, "UCX send to rank %d committed %zu bytes past the ring",
                    peer_, bytes);
  committed_ += bytes;
  return tuttiSuccess;
}

Result UcxConnection::sendSpace(void** ptr, size_t* bytes) {
  *bytes = 0;
  if (w_->driven()) return drivenSendSpace(ptr, bytes);
  auto lock = w_->callerLock();
  TUTTI_TRY(failed());
  TUTTI_TRY(reapSends());
  if (committed_ - completed_ == ringBytes_) {
    progressWorker();
    TUTTI_TRY(failed());
  }
  freeRegion(completed_, ptr, bytes);
  return tuttiSuccess;
}

Result UcxConnection::sendCommit(size_t bytes) {
  // A driven worker's thread posts them: the sends' system calls leave the executor's thread.
  // (Posting here while the driver slept halved a 64 MiB AllReduce: perf/NOTES.md.)
  if (w_->driven()) return drivenSendCommit(bytes);
  auto lock = w_->callerLock();
  TUTTI_TRY(advanceCommitted(completed_, bytes));
  TUTTI_TRY(failed());
  return postSends();
}

Result UcxConnection::recvPeek(const void** ptr, size_t* bytes) {
  *bytes = 0;
  if (w_->driven()) return drivenRecvPeek(ptr, bytes);
  auto lock = w_->callerLock();
  if (status_ != tuttiSuccess) return failed();  // this side broke the stream (abandonDirect)
  TUTTI_TRY(peekLocked(ptr, bytes));
  // Progress until the next bytes show or UCX moves nothing (bounded, as progressAndPumpLocked),
  // not until it runs dry: that costs an 8 B message one empty pass, a system call over TCP
  // (perf/NOTES.md, 2026-12-04 20:03).
  for (int pass = 0; *bytes == 0 && pass < 64; ++pass) {
    const unsigned events = w_->progressOnceAndPumpLocked();
    TUTTI_TRY(peekLocked(ptr, bytes));
    if (events == 0) break;
  }
  // Data that arrived before the peer failed is still delivered; only then is it an error.
  if (*bytes == 0) return failed();
  return tuttiSuccess;
}

Result UcxConnection::recvRelease(size_t bytes) {
  if (w_->driven()) return drivenRecvRelease(bytes);
  auto lock = w_->callerLock();
  if (!run_.bytes) {
    TUTTI_TRY(releaseSlots(bytes));
    streamPos_ += bytes;
    return maybeSendCredit();
  }
  const size_t asked = bytes;
  while (bytes > 0) {
    if (run_.user || run_.pieces.empty() || run_.pieces.front().length == 0)
      return setError(tuttiInternalError, "UCX receive from rank %d released %zu bytes it has not",
                      peer_, asked);
    const Piece& f = run_.pieces.front();
    const size_t r = bytes < f.length - run_.frontDone ? bytes : f.length - run_.frontDone;
    run_.frontDone += r;
    run_.taken += r;
    streamPos_ += r;
    bytes -= r;
    if (run_.frontDone == f.length) {
      run_.pieces.pop_front();
      run_.frontDone = 0;
      ++consumedMsgs_;
    }
  }
  if (run_.taken == run_.bytes)
    run_ = DirectRun{};
  else
    TUTTI_TRY(postPieces());
  return maybeSendCredit();
}

// progress() and checkPeer() run at every turn of the executor's loop, for every peer of the
// step: on a driven worker they leave progress to its thread (which wakes on the worker's
// events) and read only the counters, so that a striped stream's workers cost no UCX call
// (each a system call over TCP) and no wait for the lock on the way of a short message.
Result UcxConnection::progress() {
  if (w_->driven()) {
    // A peer that is gone is an error only while we still owe it bytes.
    if (!handoff_.broken.load(std::memory_order_acquire)) return tuttiSuccess;
    std::lock_guard<std::mutex> lock(w_->mu);
    if (status_ != tuttiSuccess || drivenOwing()) return failed();
    return tuttiSuccess;
  }
  auto lock = w_->callerLock();
  // Nothing owed (a step's sends completed at once, as short ones do): no pass of the worker,
  // a system call over TCP on every step's way; the next call that waits on it progresses it.
  if (!owing()) return status_ != tuttiSuccess ? failed() : tuttiSuccess;
  progressWorker();
  if (status_ != tuttiSuccess) return failed();
  if (owing()) return failed();
  return tuttiSuccess;
}

bool UcxConnection::flushed() {
  if (w_->driven()) return !drivenOwing();
  auto lock = w_->callerLock();
  return !owing();
}

Result UcxConnection::sendDirectReserve(size_t bytes, size_t* reserved) {
  *reserved = 0;
  if (w_->driven()) return drivenSendDirectReserve(bytes, reserved);
  auto lock = w_->callerLock();
  TUTTI_TRY(failed());
  if (sendReserved_ != 0)
    return setError(tuttiInternalError, "a second UCX send reservation to rank %d", peer_);
  sendReserved_ = bytes & ~(kAlign - 1);
  sendReserveAt_ = committed_;
  // A run the peer's posted slots could hold whole gains nothing from a marker: the pieces
  // would wait, unexpected, until the receiver reached it (measured: 25% slower at 1 MiB).
  announced_ = theirs_.runs && sendReserved_ >= theirs_.chunk * theirs_.slots;
  markerPending_ = announced_;
  *reserved = sendReserved_;
  return tuttiSuccess;
}

// Posts the run's marker and then slot-sized kDirect pieces from `src` while the peer has
// credit, once every byte committed before the reservation is posted (UCX keeps one endpoint's
// messages in order). Pieces are cut from the run's start, as the receiver posts them.
Result UcxConnection::sendDirect(const void* src, size_t bytes, size_t* sent) {
  *sent = 0;
  if (w_->driven()) {
    if (bytes < sendReserved_)
      return setError(tuttiInternalError, "a UCX send window to rank %d handed over in part",
                      peer_);
    return drivenSendDirect(src, sent);
  }
  auto lock = w_->callerLock();
  TUTTI_TRY(failed());
  if (posted_ < sendReserveAt_ || sentMsgs_ >= creditLimit_) {
    progressWorker();
    TUTTI_TRY(failed());
    if (posted_ < sendReserveAt_) return tuttiSuccess;
  }
  if (markerPending_) {
    if (sentMsgs_ >= creditLimit_) return tuttiSuccess;
    inflight_.push_back(SendOp{posted_, nullptr, false});
    SendOp& m = inflight_.back();
    m.marker[0] = sendReserved_;
    m.marker[1] = kMarkerMagic;
    m.marker[2] = 0;
    ucx::RequestParam sp{};
    void* r = api_->tagSendNbx(ep_, m.marker, kMarkerBytes, ucxTag(UcxMsg::kData, me_), &sp);
    if (ucx::ptrIsError(r)) {
      inflight_.pop_back();
      return fail(setError(tuttiRemoteError, "sending to rank %d failed: %s", peer_,
                           ucx::statusText(api_, ucx::ptrStatus(r)).c_str()));
    }
    m.req = r;
    ++sentMsgs_;
    markerPending_ = false;
  }
  size_t left = bytes < sendReserved_ ? bytes : sendReserved_;
  const char* p = static_cast<const char*>(src);
  while (left > 0 && sentMsgs_ < creditLimit_) {
    const size_t len = sendReserved_ < theirs_.chunk ? sendReserved_ : theirs_.chunk;
    if (len > left) break;
    ucx::RequestParam sp{};
    const UcxMsg kind = announced_ ? UcxMsg::kDirect : UcxMsg::kData;
    void* r = api_->tagSendNbx(ep_, p, len, ucxTag(kind, me_), &sp);
    if (ucx::ptrIsError(r))
      return fail(setError(tuttiRemoteError, "sending to rank %d failed: %s", peer_,
                           ucx::statusText(api_, ucx::ptrStatus(r)).c_str()));
    ++sentMsgs_;
    inflight_.push_back(SendOp{posted_, r, true});
    p += len;
    left -= len;
    sendReserved_ -= len;
    *sent += len;
  }
  // Once the reservation is out, bytes committed behind it may leave at once.
  if (sendReserved_ == 0) return postSends();
  return tuttiSuccess;
}

// A window on a driven worker: the driver sends it after the ring bytes committed so far. Up
// to kWindows may wait for the driver, so the executor goes on to the next stripe at once;
// with all in use the bytes go through the ring.
Result UcxConnection::drivenSendDirectReserve(size_t bytes, size_t* reserved) {
  if (directMin_ == 0) return tuttiSuccess;
  if (handoff_.broken.load(std::memory_order_acquire)) TUTTI_TRY(drivenFailed());
  if (sendReserved_ != 0)
    return setError(tuttiInternalError, "a second UCX send reservation to rank %d", peer_);
  const uint64_t opened = handoff_.opened.load(std::memory_order_relaxed);
  if (opened - handoff_.posted.load(std::memory_order_acquire) >= Handoff::kWindows)
    return tuttiSuccess;
  const uint64_t r = bytes & ~(kAlign - 1);
  if (r == 0) return tuttiSuccess;
  Handoff::Window& w = handoff_.windows[opened % Handoff::kWindows];
  w.at = committed_;
  w.bytes = r;
  w.src.store(nullptr, std::memory_order_relaxed);
  handoff_.opened.store(opened + 1, std::memory_order_release);
  sendReserved_ = static_cast<size_t>(r);
  *reserved = sendReserved_;
  return tuttiSuccess;
}

// Hands the whole window to the driver: for the stream its bytes are sent, and the caller's
// memory stays UCX's until flushed() (drivenOwing counts the window bytes not yet completed).
Result UcxConnection::drivenSendDirect(const void* src, size_t* sent) {
  if (handoff_.broken.load(std::memory_order_acquire)) TUTTI_TRY(drivenFailed());
  if (sendReserved_ == 0) return tuttiSuccess;
  const uint64_t last = handoff_.opened.load(std::memory_order_relaxed) - 1;
  // Sequentially consistent, then the kick reads sleeping_: see UcxWorker::drive().
  handoff_.windows[last % Handoff::kWindows].src.store(static_cast<const char*>(src));
  windowBytes_ += sendReserved_;
  *sent = sendReserved_;
  sendReserved_ = 0;
  w_->kick();
  return tuttiSuccess;
}

Result UcxConnection::recvDirectReserve(size_t messageLeft, size_t* reserved) {
  *reserved = 0;
  if (w_->driven()) return tuttiSuccess;
  auto lock = w_->callerLock();
  // A lost endpoint is no error yet: the peer may have sent the whole message and left.
  if (status_ != tuttiSuccess || peerFailed_) return failed();
  if (run_.bytes || !mine_.runs) return tuttiSuccess;
  recvReserved_ = messageLeft & ~(kAlign - 1);
  reservePos_ = streamPos_;
  *reserved = recvReserved_;
  return tuttiSuccess;
}

// Receives a direct run into `dst` (the caller's buffer at the stream's position): the marker
// must come first, right where the reservation starts; otherwise the message comes through
// the ring (the sender did not go direct) or, longer than `bytes`, through the bounce ring.
Result UcxConnection::recvDirect(void* dst, size_t bytes, size_t* got) {
  auto lock = w_->callerLock();
  *got = 0;
  bool progressed = false;
  if (status_ != tuttiSuccess) return failed();
  if (!run_.bytes) {
    if (!markerAwaitsReservation()) return tuttiSuccess;
    Slot& s = slots_[consumed_ % mine_.slots];
    bool ready;
    TUTTI_TRY(slotReady(s, &ready));
    if (!ready) {
      progressWorker();
      progressed = true;
      TUTTI_TRY(slotReady(s, &ready));
      if (!ready) return failed();
    }
    recvReserved_ = 0;  // decided now: a run into `dst`, or none
    if (!s.marker) return tuttiSuccess;
    uint64_t runBytes;
    memcpy(&runBytes, slotData(consumed_), sizeof(runBytes));
    if (runBytes > bytes) return tuttiSuccess;
    TUTTI_TRY(openRun(static_cast<char*>(dst)));
  }
  if (!run_.user) return tuttiSuccess;
  if (static_cast<char*>(dst) != run_.user + run_.taken)
    return setError(tuttiInternalError, "UCX direct receive from rank %d moved its buffer", peer_);
  for (;;) {
    while (!run_.pieces.empty()) {
      bool ready;
      TUTTI_TRY(pieceReady(run_.pieces.front(), &ready));
      if (!ready) break;
      *got += run_.pieces.front().length;
      run_.pieces.pop_front();
      ++consumedMsgs_;
    }
    if (*got > 0 || progressed) break;
    progressWorker();
    progressed = true;
  }
  run_.taken += *got;
  streamPos_ += *got;
  if (run_.taken == run_.bytes)
    run_ = DirectRun{};
  else
    TUTTI_TRY(postPieces());
  if (*got == 0) return failed();
  return maybeSendCredit();
}

// Cancels the receives posted into the caller's buffer and waits up to `ms` for UCX to complete
// them; true when it has. A receive already matched to a message that is still arriving in
// fragments cannot be cancelled: it completes only when the rest comes.
bool UcxConnection::cancelUserPieces(int ms) {
  if (!run_.user) return true;
  std::vector<void*> reqs;
  for (const Piece& p : run_.pieces)
    if (p.req) reqs.push_back(p.req);
  for (void* r : reqs) api_->requestCancel(w_->worker, r);
  if (!progressWhileBusy(reqs, ms)) return false;
  for (void* r : reqs) api_->requestFree(r);
  run_ = DirectRun{};
  return true;
}

// UCX may still be reading the caller's buffer for posted direct sends, or writing into it for
// posted direct receives. Receives are cancelled. Sends, and receives that cannot be cancelled
// (matched to a message still arriving), end when the endpoint is closed by force: UCX then
// takes no more bytes from this peer (UcxTransport.AbandonedDirectReceiveReturnsTheBuffer
// stops the sender mid-run and lets it go on after the buffer is unmapped). The stream has a
// hole in it now, so the connection fails.
void UcxConnection::abandonDirect() {
  std::lock_guard<std::mutex> lock(w_->mu);
  bool direct = false;
  for (const SendOp& op : inflight_) direct |= op.direct && op.req;
  const bool userRecv = run_.user != nullptr;
  // A driven worker's windows not yet posted: the driver (which posts under this lock) is
  // told to leave them, so nothing reads the caller's memory once this returns.
  const bool windows = w_->driven() && frontWindow() != nullptr;
  recvReserved_ = 0;
  if (!direct && sendReserved_ == 0 && !userRecv && !windows) return;
  windowsDropped_ = true;
  sendReserved_ = 0;
  markerPending_ = false;
  // Recorded without setError: the caller is returning its own error, which must stay the last.
  if (status_ == tuttiSuccess) {
    status_ = tuttiRemoteError;
    statusMessage_ =
        "the stream to rank " + std::to_string(peer_) + " was abandoned inside a direct transfer";
  }
  if (w_->driven()) publishHealthLocked();
  if (!failNoticeSent_ && (direct || userRecv)) sendFailNotice();
  const bool stuck = !cancelUserPieces(100);
  if (!direct && !stuck) return;
  void* closeReq = nullptr;
  if (ep_) {
    ucx::RequestParam cp{};
    cp.opAttrMask = ucx::kOpAttrFieldFlags;
    cp.flags = ucx::kEpCloseFlagForce;
    closeReq = api_->epCloseNbx(ep_, &cp);
    if (ucx::ptrIsError(closeReq)) closeReq = nullptr;
    ep_ = nullptr;
  }
  std::vector<void*> reqs{closeReq};
  for (const SendOp& op : inflight_)
    if (op.direct) reqs.push_back(op.req);
  if (!progressWhileBusy(reqs, 5000))
    TUTTI_WARN("UCX still holds direct sends to rank %d 5 s after closing the endpoint", peer_);
  if (closeReq) api_->requestFree(closeReq);
  // A receive still matched is left to UCX (never freed here): nothing can reach it any more.
  if (stuck && !cancelUserPieces(0)) {
    TUTTI_INFO("closed the endpoint to rank %d with receives into the caller's buffer still open",
               peer_);
    run_ = DirectRun{};
  }
}

Result UcxConnection::checkPeer() {
  if (w_->driven()) {
    if (!handoff_.broken.load(std::memory_order_acquire)) return tuttiSuccess;
    const bool ready = consumed_ < handoff_.arrived.load(std::memory_order_acquire);
    std::lock_guard<std::mutex> lock(w_->mu);
    if (status_ != tuttiSuccess) return failed();
    // Unread data is not a failure yet, unless we also owe the peer bytes it will never take.
    if (ready && !drivenOwing()) return tuttiSuccess;
    return failed();
  }
  auto lock = w_->callerLock();
  progressWorker();
  if (status_ != tuttiSuccess) return failed();
  bool ready;
  TUTTI_TRY(currentReady(&ready));
  // Unread data is not a failure yet, unless we also owe the peer bytes it will never take.
  if (ready && !owing()) return tuttiSuccess;
  return failed();
}

void UcxConnection::markFailed() {
  failRequested_ = true;
  // Another thread (tuttiCommAbort) may be driving the worker: then the notice goes out from
  // that thread's next progress, or from the destructor.
  std::unique_lock<std::mutex> lock(w_->mu, std::try_to_lock);
  if (lock.owns_lock() && !failNoticeSent_) sendFailNotice();
}

}  // namespace tutti

// UCX byte stream: staging ring and credits on the send side, posted slots on the receive side.
// Every public method takes the worker lock and is called by the thread that drives the
// executor (or the proxy); open() and helloDone() run under the lock the transport holds.
#include "transport/ucx_connection.h"

#include <chrono>
#include <cstring>
#include <thread>

#include "base/deadline.h"
#include "base/logging.h"

namespace tutti {
namespace {

constexpr uint64_t kAllBits = ~uint64_t{0};

// Receives always return a request, which ucp_tag_recv_request_test then reports with the
// message size: UCX 1.13 does not fill a recv_info on immediate completion, so we never ask for
// immediate completion.
ucx::RequestParam recvParam(ucx::TagRecvInfo*) {
  ucx::RequestParam p{};
  p.opAttrMask = ucx::kOpAttrFlagNoImmCmpl;
  return p;
}

}  // namespace

UcxWorker::~UcxWorker() {
  if (worker) api->workerDestroy(worker);
  if (context) api->cleanup(context);
}

UcxConnection::UcxConnection(std::shared_ptr<UcxWorker> w, int me, int peer, UcxStreamShape mine,
                             UcxStreamShape theirs, size_t stagingBytes, size_t directMinBytes)
    : w_(std::move(w)),
      api_(w_->api),
      me_(me),
      peer_(peer),
      mine_(mine),
      theirs_(theirs),
      sendRing_(new char[stagingBytes]),
      ringBytes_(stagingBytes),
      creditLimit_(theirs.slots),
      directMin_(directMinBytes),
      slotMem_(new char[mine.chunk * mine.slots]),
      slots_(mine.slots) {}

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
    TUTTI_TRY(controlDone(&helloRecvReq_, &helloInfo_, &got));
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
  Deadline dl = Deadline::afterMs(force ? 200 : 2000);
  for (;;) {
    bool busy = false;
    for (void* r : pending) busy |= api_->requestCheckStatus(r) == ucx::kInProgress;
    if (closeReq) busy |= api_->requestCheckStatus(closeReq) == ucx::kInProgress;
    if (!busy || dl.expired()) {
      if (busy) {
        // UCX may still write into our buffers: leave them allocated rather than risk it.
        TUTTI_INFO("UCX connection to rank %d closed with requests in flight", peer_);
        (void)sendRing_.release();
        (void)slotMem_.release();
      }
      break;
    }
    if (api_->workerProgress(w_->worker) == 0)
      std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
  for (void* r : pending) api_->requestFree(r);
  if (closeReq) api_->requestFree(closeReq);
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

void UcxConnection::progressWorker() {
  // UCX's TCP transport moves one segment per endpoint per call: keep calling while it does
  // work (bounded), or the executor would see a trickle and back off between calls.
  for (int i = 0; i < 64 && api_->workerProgress(w_->worker) != 0; ++i) {
  }
  for (UcxConnection* c : w_->conns) c->pumpLocked();
}

void UcxConnection::pumpLocked() {
  if (failRequested_.load(std::memory_order_relaxed) && !failNoticeSent_) sendFailNotice();
  if (status_ != tuttiSuccess || !ep_) return;
  if (pollControl() == tuttiSuccess && postSends() == tuttiSuccess && reapSends() == tuttiSuccess)
    (void)maybeSendCredit();
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

// True when the control receive in *req has completed (its request freed).
Result UcxConnection::controlDone(void** req, ucx::TagRecvInfo* info, bool* done) {
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
    TUTTI_TRY(controlDone(&creditRecvReq_, &creditInfo_, &done));
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
    TUTTI_TRY(controlDone(&failRecvReq_, &failInfo_, &done));
    peerFailed_ = done;
  }
  return tuttiSuccess;
}

Result UcxConnection::postSlot(uint64_t index) {
  Slot& s = slots_[index % mine_.slots];
  s.length = 0;
  s.info = {};
  ucx::RequestParam rp = recvParam(&s.info);
  char* buf = slotMem_.get() + (index % mine_.slots) * mine_.chunk;
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
  if (s.req) {
    ucx::Status st = api_->tagRecvRequestTest(s.req, &s.info);
    if (st == ucx::kInProgress) return tuttiSuccess;
    api_->requestFree(s.req);
    s.req = nullptr;
    if (st != ucx::kOk)
      return fail(setError(tuttiRemoteError, "receiving from rank %d failed: %s", peer_,
                           ucx::statusText(api_, st).c_str()));
  }
  if (s.info.length == 0 || s.info.length > mine_.chunk || s.info.length % kAlign != 0)
    return fail(setError(tuttiRemoteError,
                         "rank %d sent a UCX message of %zu bytes (expected a multiple of %zu up "
                         "to %zu)",
                         peer_, s.info.length, kAlign, mine_.chunk));
  s.length = s.info.length;
  *ready = true;
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
    inflight_.pop_front();
  }
  return tuttiSuccess;
}

// Posts committed bytes as messages while the peer has free slots; a message never wraps the
// ring and never exceeds the peer's slot size. Bytes committed after an open send reservation
// wait until sendDirect has posted it.
Result UcxConnection::postSends() {
  const uint64_t limit = sendReserved_ > 0 ? sendReserveAt_ : committed_;
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
Result UcxConnection::maybeSendCredit() {
  if (creditSendReq_) {
    ucx::Status s = api_->requestCheckStatus(creditSendReq_);
    if (s == ucx::kInProgress) return tuttiSuccess;
    api_->requestFree(creditSendReq_);
    creditSendReq_ = nullptr;
    if (s != ucx::kOk)
      return fail(setError(tuttiRemoteError, "sending credits to rank %d failed: %s", peer_,
                           ucx::statusText(api_, s).c_str()));
  }
  const uint64_t batch = mine_.slots / 2 > 0 ? mine_.slots / 2 : 1;
  if (consumed_ - creditSent_ < batch) return tuttiSuccess;
  creditOut_ = consumed_;
  ucx::RequestParam sp{};
  void* r =
      api_->tagSendNbx(ep_, &creditOut_, sizeof(creditOut_), ucxTag(UcxMsg::kCredit, me_), &sp);
  if (ucx::ptrIsError(r))
    return fail(setError(tuttiRemoteError, "sending credits to rank %d failed: %s", peer_,
                         ucx::statusText(api_, ucx::ptrStatus(r)).c_str()));
  creditSendReq_ = r;
  creditSent_ = consumed_;
  return tuttiSuccess;
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

Result UcxConnection::sendSpace(void** ptr, size_t* bytes) {
  std::lock_guard<std::mutex> lock(w_->mu);
  *bytes = 0;
  TUTTI_TRY(failed());
  TUTTI_TRY(reapSends());
  if (committed_ - completed_ == ringBytes_) {
    progressWorker();
    TUTTI_TRY(failed());
  }
  const size_t used = static_cast<size_t>(committed_ - completed_);
  const size_t off = static_cast<size_t>(committed_ % ringBytes_);
  const size_t free = ringBytes_ - used, span = ringBytes_ - off;
  *ptr = sendRing_.get() + off;
  *bytes = free < span ? free : span;
  return tuttiSuccess;
}

Result UcxConnection::sendCommit(size_t bytes) {
  std::lock_guard<std::mutex> lock(w_->mu);
  if (bytes > ringBytes_ - static_cast<size_t>(committed_ - completed_))
    return setError(tuttiInternalError, "UCX send to rank %d committed %zu bytes past the ring",
                    peer_, bytes);
  committed_ += bytes;
  TUTTI_TRY(failed());
  return postSends();
}

Result UcxConnection::recvPeek(const void** ptr, size_t* bytes) {
  std::lock_guard<std::mutex> lock(w_->mu);
  *bytes = 0;
  Slot& s = slots_[consumed_ % mine_.slots];
  bool ready;
  TUTTI_TRY(slotReady(s, &ready));
  if (!ready) {
    progressWorker();
    TUTTI_TRY(slotReady(s, &ready));
  }
  // Data that arrived before the peer failed is still delivered; only then is it an error.
  if (!ready) return failed();
  *ptr = slotMem_.get() + (consumed_ % mine_.slots) * mine_.chunk + slotOffset_;
  *bytes = s.length - slotOffset_;
  return tuttiSuccess;
}

Result UcxConnection::recvRelease(size_t bytes) {
  std::lock_guard<std::mutex> lock(w_->mu);
  Slot& s = slots_[consumed_ % mine_.slots];
  if (s.length == 0 || bytes > s.length - slotOffset_)
    return setError(tuttiInternalError, "UCX receive from rank %d released %zu bytes it has not",
                    peer_, bytes);
  slotOffset_ += bytes;
  if (slotOffset_ < s.length) return tuttiSuccess;
  slotOffset_ = 0;
  // The slot is free again: post it for the message `slots` places ahead.
  TUTTI_TRY(postSlot(consumed_ + mine_.slots));
  ++consumed_;
  return maybeSendCredit();
}

Result UcxConnection::progress() {
  std::lock_guard<std::mutex> lock(w_->mu);
  progressWorker();
  if (status_ != tuttiSuccess) return failed();
  // A peer that is gone is an error only while we still owe it bytes.
  if (owing()) return failed();
  return tuttiSuccess;
}

bool UcxConnection::flushed() {
  std::lock_guard<std::mutex> lock(w_->mu);
  return !owing() && sendReserved_ == 0;
}

Result UcxConnection::sendDirectReserve(size_t bytes, size_t* reserved) {
  std::lock_guard<std::mutex> lock(w_->mu);
  *reserved = 0;
  TUTTI_TRY(failed());
  if (sendReserved_ != 0)
    return setError(tuttiInternalError, "a second UCX send reservation to rank %d", peer_);
  sendReserved_ = bytes & ~(kAlign - 1);
  sendReserveAt_ = committed_;
  *reserved = sendReserved_;
  return tuttiSuccess;
}

// Posts slot-sized messages from `src` while the peer has free slots, once every byte committed
// before the reservation is posted (UCX keeps one endpoint's messages in order).
Result UcxConnection::sendDirect(const void* src, size_t bytes, size_t* sent) {
  std::lock_guard<std::mutex> lock(w_->mu);
  *sent = 0;
  TUTTI_TRY(failed());
  if (posted_ < sendReserveAt_ || sentMsgs_ >= creditLimit_) {
    progressWorker();
    TUTTI_TRY(failed());
    if (posted_ < sendReserveAt_) return tuttiSuccess;
  }
  size_t left = (bytes < sendReserved_ ? bytes : sendReserved_) & ~(kAlign - 1);
  const char* p = static_cast<const char*>(src);
  while (left > 0 && sentMsgs_ < creditLimit_) {
    const size_t len = left < theirs_.chunk ? left : theirs_.chunk;
    ucx::RequestParam sp{};
    void* r = api_->tagSendNbx(ep_, p, len, ucxTag(UcxMsg::kData, me_), &sp);
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

// UCX may still be reading the caller's buffer for posted direct messages: closing the endpoint
// by force completes them (cancelled), and we wait for that before the caller gets its buffer
// back. The stream has a hole in it now, so the connection fails.
void UcxConnection::abandonDirect() {
  std::lock_guard<std::mutex> lock(w_->mu);
  bool direct = false;
  for (const SendOp& op : inflight_) direct |= op.direct && op.req;
  if (!direct && sendReserved_ == 0) return;
  sendReserved_ = 0;
  // Recorded without setError: the caller is returning its own error, which must stay the last.
  if (status_ == tuttiSuccess) {
    status_ = tuttiRemoteError;
    statusMessage_ =
        "the stream to rank " + std::to_string(peer_) + " was abandoned inside a direct send";
  }
  if (!direct) return;
  if (!failNoticeSent_) sendFailNotice();
  void* closeReq = nullptr;
  if (ep_) {
    ucx::RequestParam cp{};
    cp.opAttrMask = ucx::kOpAttrFieldFlags;
    cp.flags = ucx::kEpCloseFlagForce;
    closeReq = api_->epCloseNbx(ep_, &cp);
    if (ucx::ptrIsError(closeReq)) closeReq = nullptr;
    ep_ = nullptr;
  }
  Deadline dl = Deadline::afterMs(5000);
  for (;;) {
    bool busy = closeReq && api_->requestCheckStatus(closeReq) == ucx::kInProgress;
    for (const SendOp& op : inflight_)
      busy |= op.direct && op.req && api_->requestCheckStatus(op.req) == ucx::kInProgress;
    if (!busy) break;
    if (dl.expired()) {
      TUTTI_WARN("UCX still holds direct sends to rank %d 5 s after closing the endpoint", peer_);
      break;
    }
    if (api_->workerProgress(w_->worker) == 0)
      std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
  if (closeReq) api_->requestFree(closeReq);
}

Result UcxConnection::checkPeer() {
  std::lock_guard<std::mutex> lock(w_->mu);
  progressWorker();
  if (status_ != tuttiSuccess) return failed();
  bool ready;
  TUTTI_TRY(slotReady(slots_[consumed_ % mine_.slots], &ready));
  // Unread data is not a failure yet, unless we also owe the peer bytes it will never take.
  if (ready && !owing()) return tuttiSuccess;
  return failed();
}

bool UcxConnection::peerReportedFailure() {
  std::lock_guard<std::mutex> lock(w_->mu);
  return peerFailed_ || (epStatus_ != ucx::kOk && slots_[consumed_ % mine_.slots].length == 0);
}

void UcxConnection::markFailed() {
  failRequested_ = true;
  // Another thread (tuttiCommAbort) may be driving the worker: then the notice goes out from
  // that thread's next progress, or from the destructor.
  std::unique_lock<std::mutex> lock(w_->mu, std::try_to_lock);
  if (lock.owns_lock() && !failNoticeSent_) sendFailNotice();
}

}  // namespace tutti

// One peer's byte stream over UCX tagged messages. The sender commits into a staging ring and
// posts each contiguous run (at most the receiver's chunk size) as one tagged send; the receiver
// keeps `slots` receives of `chunk` bytes posted and hands out each completed slot in place.
// UCX matches the receives in posting order to the messages in sending order, so slot i holds
// message i. Credits (a count of freed slots, sent back every half ring) keep the sender from
// running ahead of the posted receives, so UCX never buffers unexpected data for us.
// Large payloads may skip the send ring (sendDirect): they are posted as the same slot-sized
// messages straight from the caller's buffer, so the receiver cannot tell them apart.
#pragma once

#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "transport/connection.h"
#include "transport/ucx_api.h"

namespace tutti {

// A communicator's UCP context and worker. Every UCX call on the worker happens under `mu`:
// the executor (or proxy) thread makes progress, and tuttiCommAbort may mark connections failed
// from another thread (it only try-locks).
class UcxConnection;
struct UcxWorker {
  const ucx::Api* api = nullptr;
  ucx::Context context = nullptr;
  ucx::Worker worker = nullptr;
  std::mutex mu;
  // Every open connection: progress on any of them moves all of them (credits, queued sends),
  // since the executor only polls the peers of its current step.
  std::vector<UcxConnection*> conns;
  ~UcxWorker();
};

// Message kinds, in the top byte of the tag; the low 32 bits name the sending rank.
enum class UcxMsg : uint64_t { kData = 1, kCredit = 2, kHello = 3, kFail = 4 };
inline ucx::Tag ucxTag(UcxMsg kind, int rank) {
  return (static_cast<uint64_t>(kind) << 56) | static_cast<uint32_t>(rank);
}

struct UcxStreamShape {
  size_t chunk;    // bytes per message and per receive slot (a multiple of kAlign)
  uint32_t slots;  // receive slots per peer
};

class UcxConnection : public Connection {
 public:
  // `mine` shapes this side's receive slots, `theirs` the peer's (our messages must fit them);
  // `stagingBytes` sizes the send ring; payloads from `directMinBytes` on (0: never) leave from
  // the caller's buffer.
  UcxConnection(std::shared_ptr<UcxWorker> w, int me, int peer, UcxStreamShape mine,
                UcxStreamShape theirs, size_t stagingBytes, size_t directMinBytes = 0);
  ~UcxConnection() override;

  // Setup, called by the transport with the worker lock held: the endpoint (peer error
  // handling mode), the posted receives, and the hello that proves the pair is wired up.
  Result open(const ucx::Address* peerAddress, uint64_t nonce);
  // True once our hello went out and the peer's arrived and matched `nonce`.
  Result helloDone(bool* done);
  // The endpoint's transports and devices ("tcp/lo"), for the INFO line; after the hello.
  std::string lanes() const { return ucx::epLanes(api_, ep_); }

  Result sendSpace(void** ptr, size_t* bytes) override;
  Result sendCommit(size_t bytes) override;
  Result recvPeek(const void** ptr, size_t* bytes) override;
  Result recvRelease(size_t bytes) override;
  Result progress() override;
  bool flushed() override;
  Result checkPeer() override;
  bool peerReportedFailure() override;
  void markFailed() override;
  const char* kind() const override { return "ucx"; }
  size_t directMinBytes() const override { return directMin_; }
  Result sendDirectReserve(size_t bytes, size_t* reserved) override;
  Result sendDirect(const void* src, size_t bytes, size_t* sent) override;
  void abandonDirect() override;

  // With the worker lock held: handles credits and failure notices, posts queued sends, reaps
  // completions and returns credits. Errors are recorded in this connection, not returned.
  void pumpLocked();

 private:
  struct SendOp {
    uint64_t end;  // ring position after this message (a direct message leaves it unchanged)
    void* req;     // null when UCX completed it at once
    bool direct;   // UCX reads the caller's buffer until req completes
  };
  struct Slot {
    void* req = nullptr;
    ucx::TagRecvInfo info{};
    size_t length = 0;  // of the received message; 0 while not arrived
  };

  Result fail(Result r);
  Result failed() const;  // the recorded error, re-raised
  bool broken() const { return status_ != tuttiSuccess || epStatus_ != ucx::kOk || peerFailed_; }
  // True while bytes committed or sent directly have not all left: we still owe the peer.
  bool owing() const { return completed_ != committed_ || !inflight_.empty(); }
  void progressWorker();
  Result pollControl();
  Result postSlot(uint64_t index);
  Result slotReady(Slot& s, bool* ready);
  Result postSends();
  Result reapSends();
  Result maybeSendCredit();
  Result postControlRecv(UcxMsg kind, uint64_t* buf, void** req, ucx::TagRecvInfo* info);
  Result controlDone(void** req, ucx::TagRecvInfo* info, bool* done);
  void sendFailNotice();
  static void onEpError(void* arg, ucx::Ep ep, ucx::Status status);

  std::shared_ptr<UcxWorker> w_;
  const ucx::Api* api_;
  ucx::Ep ep_ = nullptr;
  int me_, peer_;
  UcxStreamShape mine_, theirs_;

  // Send side: positions in the ring grow monotonically (committed >= posted >= completed).
  std::unique_ptr<char[]> sendRing_;
  size_t ringBytes_;
  uint64_t committed_ = 0, posted_ = 0, completed_ = 0;
  std::deque<SendOp> inflight_;
  uint64_t sentMsgs_ = 0, creditLimit_ = 0;
  size_t directMin_;
  size_t sendReserved_ = 0;     // stream bytes sendDirect still has to carry
  uint64_t sendReserveAt_ = 0;  // committed_ when they were reserved: they follow that byte

  // Receive side: slot `consumed_ % slots` is the current one.
  std::unique_ptr<char[]> slotMem_;
  std::vector<Slot> slots_;
  uint64_t consumed_ = 0;  // slots fully released
  size_t slotOffset_ = 0;  // bytes released of the current slot
  uint64_t creditSent_ = 0;

  // Control messages, each with its own buffer (UCX reads or writes it until completion).
  uint64_t creditOut_ = 0, creditIn_ = 0, failOut_ = 0, failIn_ = 0;
  uint64_t helloOut_[2] = {0, 0}, helloIn_[2] = {0, 0};
  void *creditSendReq_ = nullptr, *creditRecvReq_ = nullptr, *failSendReq_ = nullptr,
       *failRecvReq_ = nullptr, *helloSendReq_ = nullptr, *helloRecvReq_ = nullptr;
  ucx::TagRecvInfo creditInfo_{}, failInfo_{}, helloInfo_{};
  bool helloSent_ = false, helloReceived_ = false;
  uint64_t nonce_ = 0;

  Result status_ = tuttiSuccess;  // first local failure (a UCX call that failed)
  std::string statusMessage_;
  ucx::Status epStatus_ = ucx::kOk;  // set by the endpoint error callback
  bool peerFailed_ = false;          // the peer sent a failure notice
  std::atomic<bool> failRequested_{false};
  bool failNoticeSent_ = false;
};

}  // namespace tutti

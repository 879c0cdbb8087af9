// One peer's byte stream over UCX tagged messages. The sender commits into a staging ring and
// posts each contiguous run (at most the receiver's chunk size) as one tagged send; the receiver
// keeps `slots` receives of `chunk` bytes posted and hands out each completed slot in place.
// UCX matches the receives in posting order to the messages in sending order, so slot i holds
// message i. Credits (a count of freed slots, sent back every half ring) keep the sender from
// running ahead of the posted receives, so UCX never buffers unexpected data for us.
// Large payloads leave from the caller's buffer (sendDirect) as slot-sized messages. A run
// shorter than the peer's slot ring, or sent to a peer that does not take announced runs, goes
// as ordinary data messages into the posted slots. A longer one skips the receive copy too: the
// sender posts a marker in slot order (a 24-byte data message: stream messages are multiples of
// 16 bytes) naming the run's length, then the run as kDirect messages. The receiver meets
// the marker in its slot stream: inside a receive reservation it posts the kDirect receives into
// the caller's buffer (recvDirect); otherwise (a reduction reads the stream) into a bounce ring
// served by recvPeek. Every message, marker and pieces included, costs a credit.
#pragma once

#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "transport/connection.h"
#include "transport/ucx_api.h"

namespace tutti {

// A communicator's UCP context and worker. Every UCX call on the worker happens under `mu`:
// the executor (or proxy) thread makes progress, and tuttiCommAbort may mark connections failed
// from another thread (it only try-locks).
//
// Striped (TUTTI_UCX_WORKERS > 1, src/transport/routed_connection.h), each stripe worker is driven
// by a thread of its own instead (the executor's worker 0 stays as above): it progresses the
// worker, posts the sends the executor committed, tests and reposts the receive slots, and
// sleeps in poll() on the worker's event fd when nothing moves. The executor then never takes
// `mu` on its way: it copies into and out of the rings and trades positions with the driver
// through atomic counters (UcxConnection::Handoff), so N workers put N threads on UCX's work and
// the executor never waits for a driver's pass through UCX (a pass can take milliseconds).
// A long payload may skip the send ring: the executor hands the driver a window of the
// caller's memory, which the driver posts in slot-sized pieces (Handoff::windows).
class UcxConnection;
struct UcxWorker {
  const ucx::Api* api = nullptr;
  ucx::Context context = nullptr;
  ucx::Worker worker = nullptr;
  std::mutex mu;
  // Every open connection: progress on any of them moves all of them (credits, queued sends),
  // since the executor only polls the peers of its current step.
  std::vector<UcxConnection*> conns;
  // ucs_memory_type_t bits the context supports (ucp_context_query; host only when UCX cannot
  // say). CUDA among them means UCX was built with CUDA and could move device buffers itself.
  uint64_t memoryTypes = uint64_t{1} << ucx::kMemoryTypeHost;
  bool cudaMemory() const { return (memoryTypes >> ucx::kMemoryTypeCuda) & 1; }
  // A context and worker for the tag API (UCX_* variables apply); with `tcpDefaults`, also
  // ucx::applyTcpDefaults, whose settings land in *tuned for the INFO line. `wakeup` asks for
  // the event fd that startDriver() sleeps on.
  static Result open(const ucx::Api* api, bool tcpDefaults, std::shared_ptr<UcxWorker>* out,
                     std::string* tuned, bool wakeup = false);
  // Hands progress to a thread of its own (named `name`); once, after the hellos.
  void startDriver(const char* name);
  // The caller's worker (not driven): a thread that progresses it while the caller is away. A
  // send request completes once UCX holds the bytes; over TCP they may still wait in the
  // worker's queue for room in the socket, and only progress moves them on. Without this, a rank
  // that returned from a call with bytes queued kept its peer waiting for its next call, or
  // until the peer's timeout (perf/NOTES.md, 2026-12-05). The thread naps (50 us to 20 ms, by
  // what the last pass moved), stays off the worker while the caller uses it (callerLock()), and
  // stops for good once a connection of the worker broke: an abandoned receive may still be
  // posted into a caller's buffer that is gone.
  void startIdleProgress(const char* name);
  // Stops and joins both threads (idempotent); the worker stays usable by the caller. Also run
  // at exit when the communicator was never destroyed (base/exit_stops.h).
  void stopThreads();
  // The caller's operations take `mu` here: the caller is at work, so the idle thread waits.
  std::unique_lock<std::mutex> callerLock() {
    touches_.fetch_add(1, std::memory_order_relaxed);
    return std::unique_lock<std::mutex>(mu);
  }
  // True once a driver thread progresses the worker.
  bool driven() const { return driven_.load(std::memory_order_acquire); }
  // Wakes a sleeping driver (the executor committed bytes or freed slots); cheap when awake.
  void kick();
  // With `mu` held: progresses the worker while it moves something (bounded), then lets every
  // connection handle credits, queued sends and completions. Returns UCX's event count.
  unsigned progressAndPumpLocked();
  // The same with one pass of the worker: for a caller that stops as soon as what it waits for
  // shows (over TCP each pass is a system call, and the last, empty one of the loop above would
  // delay every short message).
  unsigned progressOnceAndPumpLocked();
  ~UcxWorker();

 private:
  // Starts `body` on a thread named `name`; the first one registers the exit stop.
  std::thread launch(const char* name, void (UcxWorker::*body)());
  void drive();
  void idleProgress();
  // True when a connection has work the driver's last pump did not see (checked after the
  // driver announces that it sleeps: see drive()).
  bool workPending();
  std::atomic<bool> driven_{false};
  std::thread driver_;
  std::thread idler_;
  std::atomic<uint64_t> touches_{0};
  std::atomic<bool> stop_{false};
  std::atomic<bool> sleeping_{false};
  int efd_ = -1;
  uint64_t exitStop_ = 0;  // the at-exit stop of the threads, once one started
};

// Message kinds, in the top byte of the tag; the low 32 bits name the sending rank.
enum class UcxMsg : uint64_t { kData = 1, kCredit = 2, kHello = 3, kFail = 4, kDirect = 5 };
inline ucx::Tag ucxTag(UcxMsg kind, int rank) {
  return (static_cast<uint64_t>(kind) << 56) | static_cast<uint32_t>(rank);
}

struct UcxStreamShape {
  size_t chunk;       // bytes per message and per receive slot (a multiple of kAlign)
  uint32_t slots;     // receive slots per peer
  bool runs = false;  // takes announced runs (sent only to a receiver that asks for them)
};

// This side's choices (docs/env.md has the variables that set them).
struct UcxStreamOptions {
  size_t stagingBytes = 4u << 20;  // the send ring
  size_t directMinBytes = 0;    // payloads from here on leave from the caller's buffer (0: never)
  size_t spanBytes = 1u << 20;  // most bytes one recvPeek hands out across ready slots
  bool mapAtInit = true;        // the ring and slots are zeroed when made (transport/ring_memory.h)
};

class UcxConnection : public Connection {
 public:
  // `mine` shapes this side's receive slots, `theirs` the peer's (our messages must fit them).
  UcxConnection(std::shared_ptr<UcxWorker> w, int me, int peer, UcxStreamShape mine,
                UcxStreamShape theirs, const UcxStreamOptions& options);
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
  void markFailed() override;
  const char* kind() const override { return "ucx"; }
  bool carriesDeviceMemory() const override { return w_->cudaMemory(); }
  // A stripe worker's connection (handed off) takes send windows but no announced runs: its
  // stripes reach the executor through the routed connection, whose part 0 decides.
  size_t directMinBytes() const override { return w_->driven() ? 0 : directMin_; }
  Result sendDirectReserve(size_t bytes, size_t* reserved) override;
  Result sendDirect(const void* src, size_t bytes, size_t* sent) override;
  Result recvDirectReserve(size_t messageLeft, size_t* reserved) override;
  Result recvDirect(void* dst, size_t bytes, size_t* got) override;
  void abandonDirect() override;

  // With the worker lock held: handles credits and failure notices, posts queued sends, reaps
  // completions and returns credits; on a driven worker also tests and reposts the receive
  // slots. Errors are recorded in this connection, not returned.
  void pumpLocked();
  // With the worker lock held, once, before the driver thread starts (UcxWorker::startDriver):
  // once the worker is driven(), the executor and the driver share the stream only through
  // handoff_.
  void handOff();
  // The executor committed bytes the peer has credit for, or freed slots, and the driver has
  // not acted on them yet.
  bool handoffPending() const;
  // With the worker lock held: the stream failed (here, at the peer or in UCX).
  bool brokenLocked() const { return broken(); }

 private:
  struct SendOp {
    uint64_t end;            // ring position after this message (direct ones leave it unchanged)
    void* req;               // null when UCX completed it at once
    bool direct;             // UCX reads the caller's buffer until req completes
    uint64_t marker[3]{};    // a marker's payload (the deque keeps it in place until completion)
    size_t windowBytes = 0;  // a driven window's piece: its length
  };
  struct Slot {
    void* req = nullptr;
    ucx::TagRecvInfo info{};
    size_t length = 0;    // of the received message; 0 while not arrived
    bool marker = false;  // a direct-run marker
  };
  // One posted receive of a direct run, into the caller's buffer or the bounce ring.
  struct Piece {
    void* req = nullptr;
    ucx::TagRecvInfo info{};
    char* buf = nullptr;
    size_t want = 0;    // the exact size the sender's piece has
    size_t length = 0;  // 0 while not arrived
  };
  // The direct run the receive stream is in (after its marker); pieces posted in stream order.
  struct DirectRun {
    uint64_t bytes = 0;    // 0: no run open
    uint64_t posted = 0;   // bytes with a receive posted
    uint64_t taken = 0;    // bytes handed out (recvDirect) or released (recvPeek)
    char* user = nullptr;  // the caller's buffer at the run's start; null: the bounce ring
    size_t frontDone = 0;  // bounce: bytes released of the front piece
    std::deque<Piece> pieces;
  };

  // The driven worker's side of the stream: what the executor (one thread) and the driver
  // (another) tell each other. Each counter has one writer; the slots and ring bytes a counter
  // covers are the reader's to use once it has loaded the counter (acquire).
  struct Handoff {
    std::atomic<uint64_t> committed{0};  // executor: bytes committed into the send ring
    std::atomic<uint64_t> completed{0};  // driver: bytes whose sends completed (ring space free)
    std::atomic<uint64_t> arrived{0};    // driver: slots [0, arrived) hold a message
    std::atomic<uint64_t> released{0};   // executor: slots [0, released) are consumed
    std::atomic<bool> broken{false};     // driver: status_, epStatus_ or peerFailed_ is set
    // Send windows: runs of the caller's memory that the driver sends as pieces right after
    // ring byte `at`, in the order opened. The executor fills windows[opened % kWindows] and
    // then moves `opened`; `src` follows at its first sendDirect (null until then: the driver
    // waits). The driver moves `posted` once a window's every piece is posted, and `done` by
    // the window bytes whose sends completed (the caller's memory is UCX's until then).
    struct Window {
      uint64_t at = 0, bytes = 0;
      std::atomic<const char*> src{nullptr};
    };
    static constexpr uint64_t kWindows = 8;
    Window windows[kWindows];
    std::atomic<uint64_t> opened{0};  // executor
    std::atomic<uint64_t> posted{0};  // driver
    std::atomic<uint64_t> done{0};    // driver: bytes
  };
  // The executor's calls on a driven worker (no lock on the way; the error paths take it).
  Result drivenSendSpace(void** ptr, size_t* bytes);
  Result drivenSendCommit(size_t bytes);
  Result drivenRecvPeek(const void** ptr, size_t* bytes);
  Result drivenRecvRelease(size_t bytes);
  Result drivenFailed();  // the recorded error, read under the lock
  bool drivenOwing() const {
    return handoff_.completed.load(std::memory_order_acquire) != committed_ ||
           handoff_.done.load(std::memory_order_acquire) != windowBytes_;
  }
  Result drivenSendDirectReserve(size_t bytes, size_t* reserved);
  Result drivenSendDirect(const void* src, size_t* sent);
  // Driver, or abandonDirect under the lock: the front window, or null when every opened
  // window is posted.
  const Handoff::Window* frontWindow() const;
  // Driver: posts the ring's committed bytes up to the front window, then its pieces, in turn.
  Result postDrivenSends();
  // Driver: the front window's pieces while the peer has credit; true once all are posted.
  Result postWindowPieces(const Handoff::Window& w, bool* whole);
  // The driver's share of pumpLocked: arrivals published, freed slots reposted.
  Result pumpSlotsLocked();
  void publishHealthLocked();

  void freeRegion(uint64_t completed, void** ptr, size_t* bytes) const;
  // Checks that `bytes` fit the ring and commits them.
  Result advanceCommitted(uint64_t completed, size_t bytes);
  Result fail(Result r);
  Result failed() const;  // the recorded error, re-raised
  bool broken() const { return status_ != tuttiSuccess || epStatus_ != ucx::kOk || peerFailed_; }
  // True while bytes committed or sent directly have not all left: we still owe the peer.
  bool owing() const {
    return completed_ != committed_ || !inflight_.empty() || sendReserved_ != 0;
  }
  void progressWorker();
  Result pollControl();
  // The receive buffer of message `index` (slot index % slots).
  char* slotData(uint64_t index) const {
    return slotMem_.get() + (index % mine_.slots) * mine_.chunk;
  }
  Result postSlot(uint64_t index);
  Result slotReady(Slot& s, bool* ready);
  Result slotSpan(const void** ptr, size_t* bytes);
  Result releaseSlots(size_t bytes);
  // Opens the run whose marker is the current slot (user: the caller's buffer, else bounce).
  Result openRun(char* user);
  Result postPieces();
  Result pieceReady(Piece& p, bool* ready);
  Result currentReady(bool* ready);
  // recvPeek without progress (0 bytes while a marker waits for recvDirect).
  Result peekLocked(const void** ptr, size_t* bytes);
  bool markerAwaitsReservation();
  bool progressWhileBusy(const std::vector<void*>& reqs, int ms);
  // Cancels the user run's posted receives; true when UCX let go of them all within `ms`.
  bool cancelUserPieces(int ms);
  Result postSends();
  Result postRing(uint64_t limit);
  Result reapSends();
  Result maybeSendCredit();
  // A failed credit send: marks the endpoint lost (the peer may have left on purpose).
  void creditLost(ucx::Status s);
  Result postControlRecv(UcxMsg kind, uint64_t* buf, void** req, ucx::TagRecvInfo* info);
  Result recvDone(void** req, ucx::TagRecvInfo* info, bool* done);
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
  uint64_t consumed_ = 0;                       // slots fully released
  size_t slotOffset_ = 0;                       // bytes released of the current slot
  uint64_t consumedMsgs_ = 0, creditSent_ = 0;  // messages (slots and pieces) freed, credited
  uint64_t streamPos_ = 0;                      // stream bytes handed out
  size_t recvReserved_ = 0;                     // an open receive reservation's bytes
  uint64_t reservePos_ = 0;                     // ... which start at this stream position
  DirectRun run_;
  std::unique_ptr<char[]> bounceMem_;  // mine_.slots pieces, allocated at the first bounce run
  uint64_t bounceNext_ = 0;
  bool markerPending_ = false;  // the open send reservation's marker is not posted yet
  bool announced_ = false;      // the open send reservation goes as kDirect pieces
  size_t spanMax_;

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

  // Driven worker (handOff()): the executor owns committed_, consumed_ and slotOffset_; the
  // driver owns posted_, completed_, the slots' requests, arrivedAt_ and repostFrom_.
  Handoff handoff_;
  uint64_t arrivedAt_ = 0;       // driver: the next slot index to test
  uint64_t repostFrom_ = 0;      // driver: released slots below this index are posted again
  uint64_t windowBytes_ = 0;     // executor: bytes of every window it opened
  uint64_t windowPosted_ = 0;    // driver: bytes of the front window posted
  uint64_t windowDone_ = 0;      // driver: window bytes whose sends completed
  bool windowsDropped_ = false;  // under the lock: abandonDirect took the caller's memory back
};

}  // namespace tutti

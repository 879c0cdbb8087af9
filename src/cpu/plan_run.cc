// Per-op progress of plans and the wait loop every CPU-executor call runs in.
#include "cpu/plan_run.h"

#include <sched.h>
#include <string.h>

#include <chrono>
#include <sstream>
#include <thread>

#include "base/crc32c.h"
#include "base/logging.h"
#include "core/flight_recorder.h"
#include "cpu/msg_header.h"
#include "cpu/parallel_combine.h"

namespace tutti {
namespace {

constexpr size_t kAlign = Connection::kAlign;

size_t alignUp(size_t x) { return (x + kAlign - 1) & ~(kAlign - 1); }

inline void cpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// Spin briefly, then yield, then sleep: CI runs many ranks on two cores. With more ranks than
// CPUs the spin is skipped (spins = 0): the rank being waited for may be queued on this core.
class Waiter {
 public:
  explicit Waiter(uint32_t spins) : spins_(spins) {}
  void reset() { idle_ = 0; }
  void wait() {
    ++idle_;
    if (idle_ <= spins_) {
      cpuRelax();
    } else if (idle_ < 20000) {
      sched_yield();
    } else {
      int us = idle_ < 21000 ? 20 : idle_ < 22000 ? 100 : 500;
      std::this_thread::sleep_for(std::chrono::microseconds(us));
    }
  }
  uint32_t idle() const { return idle_; }

 private:
  uint32_t spins_;
  uint32_t idle_ = 0;
};

constexpr size_t kHeader = kMsgHeaderBytes;
constexpr uint32_t kTrailerMagic = 0x43524321;  // "!CRC"

// TUTTI_CHECKSUM=1: one 16-byte slot after the (padded) payload.
struct Trailer {
  uint32_t crc;
  uint32_t magic;
  uint64_t bytes;
};
static_assert(sizeof(Trailer) == kAlign, "the trailer fills one stream slot");
static_assert(kHeader % kAlign == 0, "headers keep messages aligned");

}  // namespace

PlanRun::PlanRun(Comm* comm, PeerStreams* streams, const Plan* plan, std::vector<char*> bases,
                 ReduceSpec spec, const CallSignature& sig)
    : comm_(comm),
      streams_(streams),
      plan_(plan),
      bases_(std::move(bases)),
      spec_(spec),
      sig_(sig),
      elemSize_(dtypeSize(spec.dtype)) {
  sendBusy_.assign(comm->nranks(), 0);
  recvBusy_.assign(comm->nranks(), 0);
}

void PlanRun::reset(Comm* comm, const Plan* plan, const char* send, char* recv, char* scratch,
                    ReduceSpec spec, const CallSignature& sig) {
  comm_ = comm;
  plan_ = plan;
  bases_.assign({const_cast<char*>(send), recv, scratch});
  spec_ = spec;
  sig_ = sig;
  elemSize_ = dtypeSize(spec.dtype);
  step_ = 0;
  stepStarted_ = false;
  if (sendBusy_.size() != static_cast<size_t>(comm->nranks())) {
    sendBusy_.assign(comm->nranks(), 0);
    recvBusy_.assign(comm->nranks(), 0);
    pass_ = 0;
  }
}

std::string PlanRun::where() const {
  std::ostringstream os;
  os << describeCall(sig_) << " (" << algorithmName(plan_->algorithm) << ", step " << (step_ + 1)
     << "/" << plan_->steps.size() << ")";
  return os.str();
}

std::string PlanRun::waitingOn() const {
  if (done()) return "";
  std::ostringstream os;
  const PlanStep& s = plan_->steps[step_];
  const char* sep = "";
  for (uint32_t i = 0; i < s.numOps; ++i) {
    const PlanOp& op = plan_->ops[s.firstOp + i];
    if (op.peer < 0 || (stepStarted_ && states_[i].complete)) continue;
    os << sep << (op.type == OpType::kSend ? "sending to" : "receiving from") << " rank "
       << op.peer;
    sep = ", ";
  }
  return os.str();
}

Result PlanRun::checkPeers() {
  if (done() || !stepStarted_) return tuttiSuccess;
  const PlanStep& s = plan_->steps[step_];
  for (uint32_t i = 0; i < s.numOps; ++i) {
    const PlanOp& op = plan_->ops[s.firstOp + i];
    // A peer that finished and left is fine as long as we need nothing more from it.
    if (states_[i].complete || op.peer < 0 || !streams_->transports->to(op.peer)) continue;
    TUTTI_TRY(streams_->transports->to(op.peer)->checkPeer());
  }
  return tuttiSuccess;
}

void PlanRun::noteStarted() {
  flightNoted_ = true;
  if (flightId_ && comm_->flight) comm_->flight->started(flightId_, as_, plan_->algorithm);
}

void PlanRun::noteFinished(bool ok) {
  if (flightId_ && comm_->flight) comm_->flight->finished(flightId_, ok);
}

size_t PlanRun::streamBytes(const PlanOp& op) const {
  return kHeader + alignUp(op.bytes) + (streams_->checksum ? sizeof(Trailer) : 0);
}

void PlanRun::startStep() {
  states_.assign(plan_->steps[step_].numOps,
                 OpState{false, false, 0, 0, {0, 0}, 0, false, 0, false, false});
  stepStarted_ = true;
}

void PlanRun::runLocal(const PlanOp& op) {
  const size_t count = op.bytes / elemSize_;
  switch (op.type) {
    case OpType::kCopy:
      if (addr(op.src) != addr(op.dst)) memmove(addr(op.dst), addr(op.src), op.bytes);
      break;
    case OpType::kReduceMany: {
      const void* srcs[64];
      std::vector<const void*> many;
      const void** list = srcs;
      if (op.numSources > 64) {
        many.resize(op.numSources);
        list = many.data();
      }
      for (uint32_t i = 0; i < op.numSources; ++i)
        list[i] = addr(plan_->sources[op.firstSource + i]);
      hostCombineManyParallel(spec_, addr(op.dst), list, static_cast<int>(op.numSources), count,
                              streams_->reduceThreads);
      break;
    }
    case OpType::kDivide:
      hostDivide(spec_.dtype, addr(op.dst), addr(op.dst), count, comm_->nranks());
      break;
    default: break;
  }
}

Result PlanRun::advanceSend(const PlanOp& op, OpState& st, bool* progressed) {
  Connection* c = streams_->transports->to(op.peer);
  void* p;
  size_t n;
  if (!st.headerDone) {
    if (faultArmed() && st.headerHave == 0) {
      TUTTI_TRY(injectFault(FaultWhere::kSend, op));
      if (hung_) return tuttiSuccess;
    }
    if (!st.begun) {
      TUTTI_TRY(c->beginSendMessage(streamBytes(op)));
      st.begun = true;
    }
    TUTTI_TRY(c->sendSpace(&p, &n));
    if (n < kAlign) return tuttiSuccess;
    const MsgHeader h = makeMsgHeader(sig_, streams_->sendSeq[op.peer], op.bytes);
    // A large payload leaves from the caller's buffer (no staging copy); its last partial
    // slot and anything after it go through the ring. Not when a fault corrupts the payload:
    // the fault flips a byte of the staged copy, never of the caller's buffer.
    const size_t direct = c->directMinBytes();
    const bool goDirect = direct && op.bytes >= direct && !corruptNext_;
    if (st.headerHave == 0 && n >= kHeader) {
      memcpy(p, &h, kHeader);
      // A small payload rides in the same commit: one publication, one cache-line handoff.
      size_t inline_ = 0;
      if (op.bytes && op.bytes <= n - kHeader && !goDirect) {
        char* dst = static_cast<char*>(p) + kHeader;
        memcpy(dst, addr(op.src), op.bytes);
        if (streams_->checksum) st.crc = crc32c(st.crc, addr(op.src), op.bytes);
        if (corruptNext_) {
          dst[op.bytes / 2] ^= 0x5a;
          corruptNext_ = false;
        }
        inline_ = op.bytes;
      }
      TUTTI_TRY(c->sendCommit(kHeader + alignUp(inline_)));
      st.done = inline_;
      st.headerHave = kHeader;
    } else {
      // Only one slot left before the stream wraps: the header goes in two halves.
      memcpy(p, reinterpret_cast<const char*>(&h) + st.headerHave, kAlign);
      TUTTI_TRY(c->sendCommit(kAlign));
      st.headerHave += kAlign;
    }
    *progressed = true;
    if (st.headerHave < kHeader) return tuttiSuccess;
    streams_->sendSeq[op.peer]++;
    st.headerDone = true;
    st.direct = goDirect && st.done == 0;
  }
  const char* src = addr(op.src);
  while (st.done < op.bytes) {
    // A routed stream reserves at most to the end of the current stripe, so each stripe's part
    // is asked in turn; one that takes no window now (UCX: all in use) gets a ring region.
    if (st.direct && st.directLeft == 0)
      TUTTI_TRY(c->sendDirectReserve(op.bytes - st.done, &st.directLeft));
    if (st.directLeft > 0) {
      size_t k;
      TUTTI_TRY(c->sendDirect(src + st.done, st.directLeft, &k));
      if (k == 0) return tuttiSuccess;  // the socket is full: the ring's bytes wait behind it
      if (streams_->checksum) st.crc = crc32c(st.crc, src + st.done, k);
      st.directLeft -= k;
      st.done += k;
      *progressed = true;
      continue;
    }
    TUTTI_TRY(c->sendSpace(&p, &n));
    size_t rem = op.bytes - st.done;
    size_t take = rem < n ? rem : (n & ~(kAlign - 1));
    if (take == 0) break;
    hostCopyParallel(p, src + st.done, take, streams_->reduceThreads);
    if (streams_->checksum) st.crc = crc32c(st.crc, src + st.done, take);
    if (corruptNext_) {
      static_cast<char*>(p)[take / 2] ^= 0x5a;
      corruptNext_ = false;
    }
    TUTTI_TRY(c->sendCommit(alignUp(take)));
    st.done += take;
    *progressed = true;
  }
  if (streams_->checksum && st.done == op.bytes && !st.trailerDone)
    TUTTI_TRY(sendTrailer(c, st, progressed));
  st.complete = st.done == op.bytes && (st.trailerDone || !streams_->checksum);
  return tuttiSuccess;
}

Result PlanRun::sendTrailer(Connection* c, OpState& st, bool* progressed) {
  void* p;
  size_t n;
  TUTTI_TRY(c->sendSpace(&p, &n));
  if (n < kAlign) return tuttiSuccess;
  const Trailer t{st.crc, kTrailerMagic, 0};
  memcpy(p, &t, sizeof(t));
  TUTTI_TRY(c->sendCommit(kAlign));
  st.trailerDone = true;
  *progressed = true;
  return tuttiSuccess;
}

Result PlanRun::checkTrailer(const PlanOp& op, Connection* c, OpState& st, bool* progressed) {
  const void* p;
  size_t n;
  TUTTI_TRY(c->recvPeek(&p, &n));
  if (n < kAlign) return tuttiSuccess;
  Trailer t;
  memcpy(&t, p, sizeof(t));
  if (t.magic != kTrailerMagic)
    return setError(tuttiRemoteError,
                    "rank %d sent no checksum trailer after %llu bytes: is TUTTI_CHECKSUM the "
                    "same on every rank?",
                    op.peer, (unsigned long long)op.bytes);
  if (t.crc != st.crc)
    return setError(tuttiRemoteError,
                    "%llu bytes from rank %d arrived corrupted: CRC32C 0x%08x, the sender "
                    "computed 0x%08x (TUTTI_CHECKSUM)",
                    (unsigned long long)op.bytes, op.peer, st.crc, t.crc);
  TUTTI_TRY(c->recvRelease(kAlign));
  st.trailerDone = true;
  *progressed = true;
  return tuttiSuccess;
}

Result PlanRun::injectFault(FaultWhere where, const PlanOp& op) {
  int64_t delayMs = 0;
  const FaultKind k = faultFire(where, comm_->rank(), sig_.seq, &delayMs);
  if (faultActGeneric(k, delayMs)) return tuttiSuccess;
  switch (k) {
    case FaultKind::kHang: hung_ = true; break;
    case FaultKind::kCorrupt: corruptNext_ = true; break;
    case FaultKind::kClose:
      streams_->transports->to(op.peer)->markFailed();
      return setError(tuttiRemoteError,
                      "fault injection (TUTTI_FAULT): closed the connection to rank %d", op.peer);
    default: break;
  }
  return tuttiSuccess;
}

Result PlanRun::advanceRecv(const PlanOp& op, OpState& st, bool* progressed) {
  Connection* c = streams_->transports->to(op.peer);
  const void* p;
  size_t n;
  if (!st.headerDone) {
    if (faultArmed() && st.headerHave == 0) {
      TUTTI_TRY(injectFault(FaultWhere::kRecv, op));
      if (hung_) return tuttiSuccess;
    }
    if (!st.begun) {
      TUTTI_TRY(c->beginRecvMessage(streamBytes(op)));
      st.begun = true;
    }
    TUTTI_TRY(c->recvPeek(&p, &n));
    if (n < kAlign) return tuttiSuccess;
    const MsgExpectation want{op.peer, comm_->rank(), sig_, streams_->recvSeq[op.peer], op.bytes};
    if (st.headerHave == 0 && n >= kHeader) {
      TUTTI_TRY(checkMsgHeader(p, want));
      TUTTI_TRY(c->recvRelease(kHeader));
    } else {
      // The header straddles the wrap (or half of it has arrived): take it a slot at a time.
      *progressed = true;
      if (st.headerHave == 0) {
        memcpy(st.headerHalf, p, kAlign);
        TUTTI_TRY(c->recvRelease(kAlign));
        st.headerHave = kAlign;
        return tuttiSuccess;
      }
      uint64_t whole[4] = {st.headerHalf[0], st.headerHalf[1], 0, 0};
      memcpy(whole + 2, p, kAlign);
      TUTTI_TRY(checkMsgHeader(whole, want));
      TUTTI_TRY(c->recvRelease(kAlign));
    }
    st.headerHave = kHeader;
    streams_->recvSeq[op.peer]++;
    st.headerDone = true;
    *progressed = true;
    // A large plain receive lands in the caller's buffer: what is staged already is copied,
    // the reserved rest comes straight from the network (reductions read the ring instead).
    const size_t direct = c->directMinBytes();
    if (direct && op.type == OpType::kRecv && op.bytes >= direct)
      TUTTI_TRY(c->recvDirectReserve(op.bytes, &st.directLeft));
  }
  // Streams (sockets) may deliver any number of bytes: combine whole elements only, and
  // consume the message's padding to kAlign once it has arrived.
  const size_t padded = alignUp(op.bytes);
  while (st.done < padded) {
    if (st.directLeft > 0) {
      char* dst = addr(op.dst) + st.done;
      size_t k;
      TUTTI_TRY(c->recvDirect(dst, st.directLeft, &k));
      if (k > 0) {
        if (corruptNext_) {  // fault injection: as if the bytes changed on the wire
          dst[k / 2] ^= 0x5a;
          corruptNext_ = false;
        }
        if (streams_->checksum) st.crc = crc32c(st.crc, dst, k);
        st.directLeft -= k;
        st.done += k;
        *progressed = true;
        continue;
      }
      // Nothing direct yet: staged bytes of the message come first, or none has arrived.
    }
    TUTTI_TRY(c->recvPeek(&p, &n));
    if (n == 0) break;
    size_t take;
    if (st.done < op.bytes) {
      size_t rem = op.bytes - st.done;
      take = rem < n ? rem : n;
      char* dst = addr(op.dst) + st.done;
      if (op.type != OpType::kRecv) {
        if (take < rem) take -= take % elemSize_;
        if (take == 0) break;  // less than one element has arrived
      }
      if (corruptNext_) {  // fault injection: as if the bytes changed on the wire
        const_cast<char*>(static_cast<const char*>(p))[take / 2] ^= 0x5a;
        corruptNext_ = false;
      }
      if (streams_->checksum) st.crc = crc32c(st.crc, p, take);
      if (op.type == OpType::kRecv)
        hostCopyParallel(dst, p, take, streams_->reduceThreads);
      else if (op.peerFirst)
        hostCombineParallel(spec_, dst, p, addr(op.src) + st.done, take / elemSize_,
                            streams_->reduceThreads);
      else
        hostCombineParallel(spec_, dst, addr(op.src) + st.done, p, take / elemSize_,
                            streams_->reduceThreads);
    } else {
      take = padded - st.done < n ? padded - st.done : n;
    }
    TUTTI_TRY(c->recvRelease(take));
    st.done += take;
    *progressed = true;
  }
  if (streams_->checksum && st.done == padded && !st.trailerDone)
    TUTTI_TRY(checkTrailer(op, c, st, progressed));
  st.complete = st.done == padded && (st.trailerDone || !streams_->checksum);
  return tuttiSuccess;
}

Result PlanRun::advance(bool* progressed) {
  if (faultArmed() && hung_) return tuttiSuccess;
  while (!done()) {
    if (!stepStarted_) startStep();
    const PlanStep& s = plan_->steps[step_];
    ++pass_;
    bool allComplete = true;
    for (uint32_t i = 0; i < s.numOps; ++i) {
      OpState& st = states_[i];
      if (st.complete) continue;
      const PlanOp& op = plan_->ops[s.firstOp + i];
      if (op.afterPrev && i > 0 && !states_[i - 1].complete) {
        allComplete = false;
        continue;
      }
      switch (op.type) {
        case OpType::kSend:
          if (sendBusy_[op.peer] != pass_) TUTTI_TRY(advanceSend(op, st, progressed));
          if (!st.complete) sendBusy_[op.peer] = pass_;  // later sends to this peer wait
          break;
        case OpType::kRecv:
        case OpType::kRecvReduce:
          if (recvBusy_[op.peer] != pass_) TUTTI_TRY(advanceRecv(op, st, progressed));
          if (!st.complete) recvBusy_[op.peer] = pass_;
          break;
        default:
          runLocal(op);
          st.complete = true;
          *progressed = true;
          break;
      }
      allComplete &= st.complete;
    }
    if (allComplete) {
      for (uint32_t i = 0; i < s.numOps; ++i) {
        const PlanOp& op = plan_->ops[s.firstOp + i];
        if (op.type != OpType::kSend) continue;
        Connection* c = streams_->transports->to(op.peer);
        TUTTI_TRY(c->progress());
        if (!c->flushed()) allComplete = false;
      }
    }
    if (!allComplete) return tuttiSuccess;
    ++step_;
    stepStarted_ = false;
  }
  return tuttiSuccess;
}

namespace {

Result runQueuesUntilError(std::vector<CommQueue>& queues) {
  using Clock = std::chrono::steady_clock;
  bool crowded = false;
  for (CommQueue& q : queues)
    for (PlanRun& run : q.runs) crowded |= run.yieldsAtOnce();
  Waiter waiter(crowded ? 0 : 63);
  auto lastProgress = Clock::now();
  auto lastCheck = lastProgress;
  for (;;) {
    bool progressed = false, allDone = true;
    for (CommQueue& q : queues) {
      while (q.next < q.runs.size()) {
        PlanRun& run = q.runs[q.next];
        if (!run.flightNoted()) run.noteStarted();
        Result r = run.advance(&progressed);
        if (r != tuttiSuccess) {
          addErrorContext("%s", run.where().c_str());
          run.noteFinished(false);
          return q.comm->fail(r);
        }
        if (!run.done()) break;
        run.noteFinished(true);
        ++q.next;
      }
      allDone &= q.next == q.runs.size();
    }
    if (allDone) return tuttiSuccess;
    if (progressed) {
      waiter.reset();
      lastProgress = Clock::now();
      continue;
    }
    waiter.wait();
    if ((waiter.idle() & 63) != 0) continue;
    auto now = Clock::now();
    if (now - lastCheck < std::chrono::milliseconds(5)) continue;
    lastCheck = now;
    auto idleMs = std::chrono::duration_cast<std::chrono::milliseconds>(now - lastProgress).count();
    for (CommQueue& q : queues) {
      if (q.next == q.runs.size()) continue;
      PlanRun& run = q.runs[q.next];
      if (q.comm->errors.abortFlag.load(std::memory_order_relaxed)) {
        run.noteFinished(false);
        return setError(tuttiAborted, "%s: communicator aborted", run.where().c_str());
      }
      Result r = run.checkPeers();
      if (r != tuttiSuccess) {
        // The peer may have written its last bytes and left after our previous pass: only
        // a departed peer whose data we still lack is a failure.
        std::string why = lastError();
        bool moved = false;
        Result again = run.advance(&moved);
        if (again == tuttiSuccess && moved) {
          lastProgress = Clock::now();
          continue;
        }
        if (again != tuttiSuccess)
          r = again;
        else
          setError(r, "%s", why.c_str());
        addErrorContext("%s while %s", run.where().c_str(), run.waitingOn().c_str());
        run.noteFinished(false);
        return q.comm->fail(r);
      }
      if (idleMs > q.comm->config.timeoutMs) {
        setError(tuttiTimeout, "%s: no progress for %lld ms while %s (TUTTI_TIMEOUT_MS=%d)",
                 run.where().c_str(), (long long)idleMs, run.waitingOn().c_str(),
                 q.comm->config.timeoutMs);
        run.noteFinished(false);
        return q.comm->fail(tuttiTimeout);
      }
    }
  }
}

}  // namespace

Result runQueues(std::vector<CommQueue>& queues) {
  const Result r = runQueuesUntilError(queues);
  if (r == tuttiSuccess) return r;
  // A run cut short may have handed its buffers to transport threads (striped sockets).
  for (CommQueue& q : queues)
    if (q.next < q.runs.size()) q.runs[q.next].abandon();
  return r;
}

}  // namespace tutti

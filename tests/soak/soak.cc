// The soak loop: draw a step (a call, a group of calls, or a communicator change) from the
// shared random stream, run it, check every output element against the reference.
#include "soak/soak.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <sstream>
#include <vector>

#include "kernels/dtype_dispatch.h"
#include "testing/random.h"
#include "testing/reference.h"

namespace tutti::testing {
namespace {

constexpr unsigned char kPoison = 0xA5;
constexpr int kSlots = 3;  // 0: the world; 1, 2: communicators made by split or dup

// splitmix64: the same stream on every rank.
struct Rng {
  uint64_t s;
  uint64_t next() {
    uint64_t x = (s += 0x9e3779b97f4a7c15ull);
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
  }
  uint64_t below(uint64_t n) { return n ? next() % n : 0; }
  bool chance(double p) { return static_cast<double>(next() >> 11) * 0x1.0p-53 < p; }
};

enum class Kind {
  kAllReduce,
  kAllGather,
  kReduceScatter,
  kAllToAll,
  kAllToAllv,
  kBroadcast,
  kReduce,
  kSendRecv,
  kCount
};
const char* kindName(Kind k) {
  static const char* names[] = {"AllReduce", "AllGather", "ReduceScatter", "AllToAll",
                                "AllToAllv", "Broadcast", "Reduce",        "SendRecv"};
  return names[static_cast<int>(k)];
}
bool reduces(Kind k) {
  return k == Kind::kAllReduce || k == Kind::kReduceScatter || k == Kind::kReduce;
}

// One call as drawn: the same on every rank; rank-dependent parts are derived from it.
struct Call {
  long index;
  int slot;
  Kind kind;
  tuttiDataType_t dtype;
  tuttiRedOp_t op;  // kTestPreMulSum for PreMulSum
  size_t bytes;     // of the largest buffer
  bool inPlace;
  uint64_t rootDraw, shiftDraw, dataSeed;
};

// Sizes 0..maxBytes, mostly small: most calls exercise setup and synchronisation, a few move
// megabytes through every algorithm's pipelining.
size_t drawBytes(Rng& rng, size_t maxBytes) {
  const uint64_t u = rng.below(1000);
  size_t hi = u < 3 ? maxBytes : u < 30 ? maxBytes / 4 : u < 330 ? 64 << 10 : 1024;
  hi = std::min(hi, maxBytes);
  return rng.below(hi + 1);
}

Call drawCall(Rng& rng, long index, size_t maxBytes, int slot) {
  Call c;
  c.index = index;
  c.slot = slot;
  c.kind = static_cast<Kind>(rng.below(static_cast<int>(Kind::kCount)));
  c.dtype = allTypes()[rng.below(allTypes().size())];
  c.op = allOps()[rng.below(allOps().size())];
  c.bytes = drawBytes(rng, maxBytes);
  c.inPlace = rng.chance(0.5);
  c.rootDraw = rng.next();
  c.shiftDraw = rng.next();
  c.dataSeed = rng.next();
  return c;
}

std::string describe(const Call& c, size_t count, int n) {
  std::ostringstream os;
  os << "call #" << c.index << ": " << kindName(c.kind) << " " << typeName(c.dtype);
  if (reduces(c.kind)) os << " " << redOpName(c.op);
  os << " count=" << count << " on comm slot " << c.slot << " of " << n << " ranks"
     << (c.inPlace ? " in place" : " out of place");
  return os.str();
}

// AllToAllv: rank `from` sends vCount(from, to) elements to `to`.
size_t vCount(const Call& c, int from, int to, size_t count) {
  return (from * 7 + to * 3 + c.dataSeed) % 5 + count;
}

// One call prepared on one rank: its buffers (host, and device mirrors), then checked.
class Op {
 public:
  Op(const Call& c, tuttiComm_t comm, const SoakOptions& o) : c_(c), comm_(comm), o_(o) {
    tuttiCommCount(comm, &n_);
    tuttiCommUserRank(comm, &rank_);
    es_ = dtypeSize(c.dtype);
    const bool perRank = c.kind == Kind::kAllGather || c.kind == Kind::kReduceScatter ||
                         c.kind == Kind::kAllToAll || c.kind == Kind::kAllToAllv;
    count_ = c.bytes / es_ / (perRank ? n_ : 1);
    root_ = static_cast<int>(c.rootDraw % n_);
    shift_ = n_ > 1 ? 1 + static_cast<int>(c.shiftDraw % (n_ - 1)) : 0;
    genOp_ = reduces(c.kind) ? c.op : tuttiSum;
  }
  ~Op() {
    if (o_.memory) {
      if (devIn_) o_.memory->release(devIn_);
      if (devOut_) o_.memory->release(devOut_);
    }
    if (op_ != c_.op) tuttiRedOpDestroy(op_, comm_);
  }

  bool skipped() const { return c_.kind == Kind::kSendRecv && n_ == 1; }

  // Fills the input, poisons the output, creates PreMulSum; "" or an error.
  std::string prepare() {
    size_t inCount = count_, outCount = count_;
    switch (c_.kind) {
      case Kind::kAllGather: outCount = count_ * n_; break;
      case Kind::kReduceScatter: inCount = count_ * n_; break;
      case Kind::kAllToAll: inCount = outCount = count_ * n_; break;
      case Kind::kAllToAllv: {
        sc_.resize(n_), sd_.resize(n_), rc_.resize(n_), rd_.resize(n_);
        size_t s = 0, r = 0;
        for (int p = 0; p < n_; ++p) {
          sc_[p] = vCount(c_, rank_, p, count_);
          sd_[p] = s;
          s += sc_[p] + 1;  // gaps: displacements must be honoured
          rc_[p] = vCount(c_, p, rank_, count_);
          rd_[p] = r;
          r += rc_[p] + 2;
        }
        inCount = s;
        outCount = r;
        break;
      }
      default: break;
    }
    in_.assign(std::max<size_t>(inCount, 1) * es_, 0);
    out_.assign(std::max<size_t>(outCount, 1) * es_, kPoison);
    fillInput(in_.data(), inCount, c_.dataSeed, rank_, c_.dtype, genOp_, n_);
    send_ = in_.data();
    recv_ = out_.data();
    if (c_.inPlace) {
      switch (c_.kind) {
        case Kind::kAllGather:
          memcpy(out_.data() + rank_ * count_ * es_, in_.data(), count_ * es_);
          send_ = out_.data() + rank_ * count_ * es_;
          break;
        case Kind::kReduceScatter: recv_ = in_.data() + rank_ * count_ * es_; break;
        case Kind::kAllToAllv:
        case Kind::kSendRecv: break;  // not in place by contract
        default:
          memcpy(out_.data(), in_.data(), std::min(in_.size(), out_.size()));
          send_ = out_.data();
          break;
      }
    }
    result_ = recv_;
    if (o_.memory) {
      devIn_ = static_cast<char*>(o_.memory->alloc(in_.size()));
      devOut_ = static_cast<char*>(o_.memory->alloc(out_.size()));
      if (!devIn_ || !devOut_) return "device allocation failed";
      o_.memory->toDevice(devIn_, in_.data(), in_.size());
      o_.memory->toDevice(devOut_, out_.data(), out_.size());
      auto map = [&](const char* h) {
        return h >= in_.data() && h < in_.data() + in_.size() ? devIn_ + (h - in_.data())
                                                              : devOut_ + (h - out_.data());
      };
      send_ = map(static_cast<const char*>(send_));
      recv_ = map(static_cast<char*>(recv_));
    }
    op_ = c_.op;
    if (reduces(c_.kind) && c_.op == kTestPreMulSum) {
      uint64_t scalar = 0;
      storeValue(&scalar, 0, c_.dtype, premulTestScalar(c_.dtype, rank_));
      if (tuttiRedOpCreatePreMulSum(&op_, &scalar, c_.dtype, comm_) != tuttiSuccess) {
        op_ = c_.op;
        return std::string("tuttiRedOpCreatePreMulSum: ") + tuttiGetLastError(comm_);
      }
    }
    return "";
  }

  tuttiResult_t issue() {
    const tuttiDataType_t t = c_.dtype;
    tuttiStream_t s = o_.stream;
    switch (c_.kind) {
      case Kind::kAllReduce: return tuttiAllReduce(send_, recv_, count_, t, op_, comm_, s);
      case Kind::kAllGather: return tuttiAllGather(send_, recv_, count_, t, comm_, s);
      case Kind::kReduceScatter: return tuttiReduceScatter(send_, recv_, count_, t, op_, comm_, s);
      case Kind::kAllToAll: return tuttiAllToAll(send_, recv_, count_, t, comm_, s);
      case Kind::kAllToAllv:
        return tuttiAllToAllv(send_, sc_.data(), sd_.data(), recv_, rc_.data(), rd_.data(), t,
                              comm_, s);
      case Kind::kBroadcast: return tuttiBroadcast(send_, recv_, count_, t, root_, comm_, s);
      case Kind::kReduce: return tuttiReduce(send_, recv_, count_, t, op_, root_, comm_, s);
      case Kind::kSendRecv: {
        // A shift: everyone sends to rank + shift and receives from rank - shift.
        tuttiResult_t r = tuttiGroupStart();
        if (r == tuttiSuccess) r = tuttiSend(send_, count_, t, (rank_ + shift_) % n_, comm_, s);
        if (r == tuttiSuccess)
          r = tuttiRecv(recv_, count_, t, (rank_ - shift_ + n_) % n_, comm_, s);
        tuttiResult_t e = tuttiGroupEnd();
        return r != tuttiSuccess ? r : e;
      }
      default: return tuttiInternalError;
    }
  }

  // After completion: copies device results back, then compares; "" when all match.
  std::string check(uint64_t* bytesChecked) {
    if (o_.memory) {
      o_.memory->toHost(in_.data(), devIn_, in_.size());
      o_.memory->toHost(out_.data(), devOut_, out_.size());
    }
    const char* res = static_cast<const char*>(result_);
    int bad = 0;
    std::string first;
    auto expect = [&](double got, double want, double tol, size_t i) {
      std::string e = checkElement(got, want, tol, i);
      if (!e.empty() && bad++ == 0) first = e;
    };
    auto input = [&](int r, size_t j) {
      return inputValue(c_.dataSeed, r, j, c_.dtype, genOp_, n_);
    };
    std::vector<double> vals(n_);
    auto reduced = [&](size_t j, double* tol) {
      for (int r = 0; r < n_; ++r)
        vals[r] = input(r, j) * (c_.op == kTestPreMulSum ? premulTestScalar(c_.dtype, r) : 1.0);
      *tol = tolerance(vals, c_.dtype, c_.op);
      return referenceReduce(vals, c_.dtype, c_.op);
    };
    size_t checked = 0;
    switch (c_.kind) {
      case Kind::kAllReduce:
      case Kind::kReduce:
        if (c_.kind == Kind::kReduce && rank_ != root_) {
          if (!c_.inPlace)
            for (size_t b = 0; b < count_ * es_; ++b)
              if (static_cast<unsigned char>(out_[b]) != kPoison) {
                if (bad++ == 0)
                  first = "non-root receive buffer written at byte " + std::to_string(b);
                break;
              }
          break;
        }
        for (size_t i = 0; i < count_; ++i) {
          double tol, ref = reduced(i, &tol);
          expect(loadValue(res, i, c_.dtype), ref, tol, i);
        }
        checked = count_;
        break;
      case Kind::kReduceScatter:
        for (size_t i = 0; i < count_; ++i) {
          double tol, ref = reduced(rank_ * count_ + i, &tol);
          expect(loadValue(res, i, c_.dtype), ref, tol, i);
        }
        checked = count_;
        break;
      case Kind::kAllGather:
        for (int r = 0; r < n_; ++r)
          for (size_t i = 0; i < count_; ++i)
            expect(loadValue(res, r * count_ + i, c_.dtype), input(r, i), 0, r * count_ + i);
        checked = count_ * n_;
        break;
      case Kind::kAllToAll:
        for (int p = 0; p < n_; ++p)
          for (size_t i = 0; i < count_; ++i)
            expect(loadValue(res, p * count_ + i, c_.dtype), input(p, rank_ * count_ + i), 0,
                   p * count_ + i);
        checked = count_ * n_;
        break;
      case Kind::kAllToAllv:
        for (int p = 0; p < n_; ++p) {
          size_t pdisp = 0;
          for (int q = 0; q < rank_; ++q) pdisp += vCount(c_, p, q, count_) + 1;
          for (size_t i = 0; i < rc_[p]; ++i)
            expect(loadValue(res, rd_[p] + i, c_.dtype), input(p, pdisp + i), 0, rd_[p] + i);
          const unsigned char* gap =
              reinterpret_cast<const unsigned char*>(res) + (rd_[p] + rc_[p]) * es_;
          if (gap[0] != kPoison && bad++ == 0)
            first = "wrote into the gap after block " + std::to_string(p);
          checked += rc_[p];
        }
        break;
      case Kind::kBroadcast:
        for (size_t i = 0; i < count_; ++i)
          expect(loadValue(res, i, c_.dtype), input(root_, i), 0, i);
        checked = count_;
        break;
      case Kind::kSendRecv: {
        const int from = (rank_ - shift_ + n_) % n_;
        for (size_t i = 0; i < count_; ++i)
          expect(loadValue(res, i, c_.dtype), input(from, i), 0, i);
        checked = count_;
        break;
      }
      default: break;
    }
    *bytesChecked += checked * es_;
    if (!bad) return "";
    return describe(c_, count_, n_) + " (data seed " + std::to_string(c_.dataSeed) + ", root " +
           std::to_string(root_) + "): " + std::to_string(bad) + " wrong element(s), first " +
           first;
  }

  const Call& call() const { return c_; }
  size_t count() const { return count_; }
  int nranks() const { return n_; }

 private:
  Call c_;
  tuttiComm_t comm_;
  const SoakOptions& o_;
  int n_ = 1, rank_ = 0, root_ = 0, shift_ = 0;
  size_t es_ = 1, count_ = 0;
  tuttiRedOp_t genOp_ = tuttiSum, op_ = tuttiSum;
  std::vector<char> in_, out_;
  std::vector<size_t> sc_, sd_, rc_, rd_;
  const void* send_ = nullptr;
  void* recv_ = nullptr;
  const void* result_ = nullptr;
  char* devIn_ = nullptr;
  char* devOut_ = nullptr;
};

void closeComm(tuttiComm_t* c) {
  if (!*c) return;
  tuttiCommFinalize(*c);
  tuttiCommDestroy(*c);
  *c = nullptr;
}

}  // namespace

uint64_t soakSeed() {
  const char* s = getenv("TUTTI_SOAK_SEED");
  if (s && !strcmp(s, "random"))
    return static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  return s && *s ? strtoull(s, nullptr, 0) : 20261213ull;
}

long soakCalls(long def) {
  const char* s = getenv("TUTTI_SOAK_CALLS");
  return s && *s ? strtol(s, nullptr, 0) : def;
}

SoakStats runSoak(tuttiComm_t world, const SoakOptions& o) {
  SoakStats st;
  Rng rng{o.seed};
  int worldRank = 0, worldSize = 1;
  tuttiCommUserRank(world, &worldRank);
  tuttiCommCount(world, &worldSize);
  tuttiComm_t slots[kSlots] = {world, nullptr, nullptr};
  auto fail = [&](const std::string& what) {
    if (st.firstError.empty()) st.firstError = "seed " + std::to_string(o.seed) + ": " + what;
  };
  long index = 0;
  while (index < o.calls && st.firstError.empty()) {
    const uint64_t step = rng.below(1000);
    if (step < 4) {
      // Split the world by colors drawn for every rank (some sit out), or dup it with a
      // shuffled rank order; the new communicator replaces slot 1 or 2.
      const int slot = 1 + static_cast<int>(rng.below(2));
      const bool dup = step < 2;
      std::vector<int> color(worldSize), key(worldSize);
      for (int r = 0; r < worldSize; ++r) {
        const uint64_t c = rng.below(4);
        color[r] = dup ? 0 : c == 3 ? TUTTI_SPLIT_NOCOLOR : static_cast<int>(c % 2);
        key[r] = static_cast<int>(rng.below(1000));
      }
      if (o.commBarrier) o.commBarrier();
      closeComm(&slots[slot]);
      tuttiComm_t made = nullptr;
      if (tuttiCommSplit(world, color[worldRank], key[worldRank], &made, nullptr) != tuttiSuccess) {
        fail(std::string("tuttiCommSplit: ") + tuttiGetLastError(world));
        break;
      }
      slots[slot] = made;
      ++st.comms;
      if (o.commBarrier) o.commBarrier();
      continue;
    }
    if (step < 6) {
      if (o.commBarrier) o.commBarrier();
      closeComm(&slots[1 + rng.below(2)]);
      if (o.commBarrier) o.commBarrier();
      continue;
    }
    // One call, or a group of 2 to 4 on one communicator.
    const int slot = rng.chance(0.8) ? 0 : 1 + static_cast<int>(rng.below(2));
    const int ops = rng.chance(0.1) ? 2 + static_cast<int>(rng.below(3)) : 1;
    std::vector<Call> calls;
    for (int i = 0; i < ops; ++i) calls.push_back(drawCall(rng, index++, o.maxBytes, slot));
    tuttiComm_t comm = slots[slot];
    if (!comm) continue;  // this rank is not in that communicator (or it was closed)
    std::vector<std::unique_ptr<Op>> prepared;
    for (const Call& c : calls) {
      auto op = std::make_unique<Op>(c, comm, o);
      if (op->skipped()) continue;
      std::string e = op->prepare();
      if (!e.empty()) {
        fail(describe(c, op->count(), op->nranks()) + ": " + e);
        break;
      }
      prepared.push_back(std::move(op));
    }
    if (!st.firstError.empty()) break;
    tuttiResult_t r = tuttiSuccess;
    const bool group = prepared.size() > 1;
    if (group) r = tuttiGroupStart();
    std::string failed;
    for (auto& op : prepared) {
      if (r != tuttiSuccess) break;
      r = op->issue();
      if (r != tuttiSuccess) failed = describe(op->call(), op->count(), op->nranks());
    }
    if (group) {
      tuttiResult_t e = tuttiGroupEnd();
      if (r == tuttiSuccess && e != tuttiSuccess) failed = "group end";
      if (r == tuttiSuccess) r = e;
      ++st.groups;
    }
    if (r == tuttiSuccess && o.memory) o.memory->sync(o.stream);
    if (r == tuttiSuccess && o.memory) {
      tuttiResult_t async = tuttiSuccess;
      tuttiCommGetAsyncError(comm, &async);
      if (async != tuttiSuccess) r = async;
    }
    if (r != tuttiSuccess) {
      fail(failed + ": " + tuttiGetErrorString(r) + ": " + tuttiGetLastError(comm));
      break;
    }
    for (auto& op : prepared) {
      std::string e = op->check(&st.bytes);
      ++st.calls;
      if (!e.empty()) {
        ++st.wrong;
        if (st.wrong <= 5)
          fprintf(stderr, "soak rank %d: seed %llu: %s\n", worldRank, (unsigned long long)o.seed,
                  e.c_str());
      }
    }
  }
  if (o.commBarrier && st.firstError.empty()) o.commBarrier();
  for (int s = 1; s < kSlots; ++s) closeComm(&slots[s]);
  return st;
}

}  // namespace tutti::testing

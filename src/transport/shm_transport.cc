// Shared-memory FIFO connection. The receiver creates each FIFO; the sender maps it. Counters
// live in the segment, so every value read from it is checked: a peer cannot make us read or
// write outside the mapping.
#include "transport/shm_transport.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>

#include "base/env.h"
#include "base/logging.h"
#include "bootstrap/bootstrap.h"

namespace tutti {
namespace {

constexpr uint32_t kFifoMagic = 0x54754649u;  // "TuFI"
constexpr size_t kHeaderBytes = 256;
constexpr size_t kMaxFifoBytes = size_t{1} << 30;  // bounds what a peer's segment may claim

struct FifoHeader {
  alignas(64) std::atomic<uint64_t> head;  // total bytes produced (sender writes)
  alignas(64) std::atomic<uint64_t> tail;  // total bytes consumed (receiver writes)
  alignas(64) std::atomic<uint32_t> senderFailed;
  std::atomic<uint32_t> receiverFailed;
  uint32_t magic;
  uint64_t capacity;
};
static_assert(sizeof(FifoHeader) <= kHeaderBytes, "header must fit");

std::string fifoName(const ShmFifoOptions& opt, int from, int to) {
  return opt.baseName + "-" + std::to_string(from) + "-" + std::to_string(to);
}

struct Mapping {
  void* base = nullptr;
  size_t bytes = 0;
  size_t capacity = 0;  // data bytes after the header
  ~Mapping() {
    if (base) munmap(base, bytes);
  }
  FifoHeader* header() const { return static_cast<FifoHeader*>(base); }
  char* data() const { return static_cast<char*>(base) + kHeaderBytes; }
};

// The receiver creates its FIFO with the capacity it chose (`capacity`, read only when
// `create`); the sender takes it from the segment's size, so the two sides of a pair need not
// agree beforehand.
Result mapFifo(const std::string& name, bool create, size_t capacity, Mapping* m) {
  int fd = shm_open(name.c_str(), create ? (O_RDWR | O_CREAT | O_EXCL) : O_RDWR, 0600);
  if (fd < 0)
    return setError(tuttiSystemError, "shm_open(%s) failed: %s", name.c_str(), strerror(errno));
  size_t bytes = kHeaderBytes + capacity;
  if (create) {
    if (ftruncate(fd, static_cast<off_t>(bytes)) != 0) {
      int e = errno;
      close(fd);
      shm_unlink(name.c_str());
      return setError(tuttiSystemError,
                      "cannot size shared memory %s to %zu bytes: %s (is /dev/shm full?)",
                      name.c_str(), bytes, strerror(e));
    }
  } else {
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size < static_cast<off_t>(kHeaderBytes + 4096) ||
        (static_cast<size_t>(st.st_size) - kHeaderBytes) % 4096 != 0 ||
        static_cast<size_t>(st.st_size) > kHeaderBytes + kMaxFifoBytes) {
      close(fd);
      return setError(tuttiRemoteError,
                      "shared memory %s has size %lld: not a header and whole pages up to %zu",
                      name.c_str(), (long long)st.st_size, kMaxFifoBytes);
    }
    bytes = static_cast<size_t>(st.st_size);
    capacity = bytes - kHeaderBytes;
  }
  // Populated now: otherwise each 4 KiB page faults (in both processes) the first time the ring
  // reaches it, ~2 us per page under a hypervisor, which small messages pay for a whole first
  // lap of the ring (every 8th 512 B message, every other 2 KiB one).
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
  close(fd);
  if (p == MAP_FAILED)
    return setError(tuttiSystemError, "mmap of %s failed: %s", name.c_str(), strerror(errno));
  m->base = p;
  m->bytes = bytes;
  m->capacity = capacity;
  if (create) {
    FifoHeader* h = new (p) FifoHeader();
    h->capacity = capacity;
    h->magic = kFifoMagic;
  } else if (m->header()->magic != kFifoMagic || m->header()->capacity != capacity) {
    return setError(tuttiRemoteError, "shared memory %s has a foreign header", name.c_str());
  }
  return tuttiSuccess;
}

class ShmConnection : public Connection {
 public:
  ShmConnection(int peer, int peerPid, std::unique_ptr<Mapping> out, std::unique_ptr<Mapping> in)
      : peer_(peer),
        peerPid_(peerPid),
        out_(std::move(out)),
        in_(std::move(in)),
        sendCap_(out_->capacity),
        recvCap_(in_->capacity) {}

  ~ShmConnection() override = default;

  // The receiver writes its tail for every message it consumes, so reading it costs a cache
  // line transfer on every send's critical path. The last value read is a lower bound of the
  // credits: the tail is read again only when that bound no longer covers the contiguous
  // region up to the end of the buffer (about once per lap of the ring when the peer keeps up).
  Result sendSpace(void** ptr, size_t* bytes) override {
    size_t offset = static_cast<size_t>(sendHead_ % sendCap_);
    size_t contiguous = sendCap_ - offset;
    size_t free = sendCap_ - static_cast<size_t>(sendHead_ - knownTail_);
    if (free < contiguous) {
      uint64_t tail = out_->header()->tail.load(std::memory_order_acquire);
      if (tail > sendHead_ || sendHead_ - tail > sendCap_ || tail < knownTail_)
        return setError(tuttiRemoteError, "rank %d corrupted our send FIFO (tail %llu, head %llu)",
                        peer_, (unsigned long long)tail, (unsigned long long)sendHead_);
      knownTail_ = tail;
      free = sendCap_ - static_cast<size_t>(sendHead_ - tail);
    }
    *ptr = out_->data() + offset;
    *bytes = free < contiguous ? free : contiguous;
    return tuttiSuccess;
  }

  Result sendCommit(size_t bytes) override {
    sendHead_ += bytes;
    out_->header()->head.store(sendHead_, std::memory_order_release);
    return tuttiSuccess;
  }

  Result recvPeek(const void** ptr, size_t* bytes) override {
    FifoHeader* h = in_->header();
    uint64_t head = h->head.load(std::memory_order_acquire);
    if (head < recvTail_ || head - recvTail_ > recvCap_)
      return setError(tuttiRemoteError, "rank %d corrupted our receive FIFO (head %llu, tail %llu)",
                      peer_, (unsigned long long)head, (unsigned long long)recvTail_);
    size_t avail = static_cast<size_t>(head - recvTail_);
    size_t offset = static_cast<size_t>(recvTail_ % recvCap_);
    size_t contiguous = recvCap_ - offset;
    *ptr = in_->data() + offset;
    *bytes = avail < contiguous ? avail : contiguous;
    return tuttiSuccess;
  }

  Result recvRelease(size_t bytes) override {
    recvTail_ += bytes;
    in_->header()->tail.store(recvTail_, std::memory_order_release);
    return tuttiSuccess;
  }

  Result checkPeer() override {
    if (out_->header()->receiverFailed.load(std::memory_order_relaxed) ||
        in_->header()->senderFailed.load(std::memory_order_relaxed))
      return setError(tuttiRemoteError, "rank %d reported a failure and stopped", peer_);
    if (kill(peerPid_, 0) != 0 && errno == ESRCH)
      return setError(tuttiRemoteError, "rank %d (pid %d) has died", peer_, peerPid_);
    return tuttiSuccess;
  }

  void markFailed() override {
    out_->header()->senderFailed.store(1, std::memory_order_relaxed);
    in_->header()->receiverFailed.store(1, std::memory_order_relaxed);
  }

  const char* kind() const override { return "shm"; }

 private:
  int peer_;
  int peerPid_;
  std::unique_ptr<Mapping> out_;  // FIFO to the peer (created by the peer)
  std::unique_ptr<Mapping> in_;   // FIFO from the peer (created by us)
  size_t sendCap_;                // the peer's receive FIFO, as it sized it
  size_t recvCap_;                // ours
  uint64_t sendHead_ = 0;
  uint64_t knownTail_ = 0;  // the peer's tail when last read (sendSpace)
  uint64_t recvTail_ = 0;
};

}  // namespace

Result createShmReceiveFifo(const ShmFifoOptions& opt, int self, int peer, void** handle) {
  auto m = std::make_unique<Mapping>();
  std::string name = fifoName(opt, peer, self);
  shm_unlink(name.c_str());  // a stale segment of a crashed run with the same nonce
  TUTTI_CHECK(mapFifo(name, true, opt.capacity, m.get()), "creating FIFO from rank %d", peer);
  *handle = m.release();
  return tuttiSuccess;
}

Result openShmConnection(const ShmFifoOptions& opt, int self, int peer, int peerPid,
                         void* recvHandle, std::unique_ptr<Connection>* out) {
  std::unique_ptr<Mapping> in(static_cast<Mapping*>(recvHandle));
  auto sendMap = std::make_unique<Mapping>();
  TUTTI_CHECK(mapFifo(fifoName(opt, self, peer), false, 0, sendMap.get()),
              "opening FIFO to rank %d", peer);
  *out = std::make_unique<ShmConnection>(peer, peerPid, std::move(sendMap), std::move(in));
  return tuttiSuccess;
}

void releaseShmReceiveFifo(void* handle) { delete static_cast<Mapping*>(handle); }

void unlinkShmName(const ShmFifoOptions& opt, int from, int to) {
  shm_unlink(fifoName(opt, from, to).c_str());
}

namespace {

constexpr size_t kAutoFifoMin = size_t{1} << 20, kAutoFifoMax = size_t{4} << 20;
constexpr size_t kAutoFifoFootprint = size_t{8} << 20;  // both directions, all local peers

// The FIFO size when TUTTI_SHM_FIFO_BYTES is unset (perf/results/2026-12-04-h200x1-shm-fifo.md).
// - Larger FIFOs move a large message in pieces big enough to split over the reduce threads:
//   4 MiB instead of 1 MiB ran a 64 MiB AllReduce of two ranks 1.2-1.6x faster.
// - But every FIFO a rank writes or reads cycles through the caches: with four ranks, 4 MiB
//   FIFOs (24 MiB per rank) cost 1 MiB AllReduces a quarter of their rate.
// So the FIFOs of one rank stay within 8 MiB: 4 MiB for one local peer, 2 MiB for two, the
// 1 MiB of before from three on. /dev/shm must also hold every local pair's FIFOs four times
// over (containers often get 64 MiB); 1 MiB is the floor either way.
size_t autoFifoBytes(size_t localRanks) {
  const size_t peers = localRanks > 1 ? localRanks - 1 : 1;
  size_t each = kAutoFifoFootprint / (2 * peers);
  struct statvfs v;
  if (statvfs("/dev/shm", &v) == 0) {
    const size_t room = static_cast<size_t>(v.f_bavail) * v.f_frsize;
    each = std::min(each, room / 4 / (peers * (peers + 1)));
  }
  each = each / 4096 * 4096;
  return std::min(kAutoFifoMax, std::max(kAutoFifoMin, each));
}

class ShmTransport : public Transport {
 public:
  const char* name() const override { return "shm"; }
  bool canConnect(const TransportContext& ctx, int a, int b) const override {
    return ctx.sameHost(a, b);
  }
  Result connect(const TransportContext& ctx, const std::vector<int>& peers,
                 std::vector<std::unique_ptr<Connection>>* conns) override;
};

// TUTTI_SHM_FIFO_BYTES, or the automatic size when it is unset.
Result fifoBytes(size_t localRanks, size_t* out) {
  const std::string set = envString("TUTTI_SHM_FIFO_BYTES");
  if (set.empty()) {
    *out = autoFifoBytes(localRanks);
    return tuttiSuccess;
  }
  const uint64_t b = envBytes("TUTTI_SHM_FIFO_BYTES", 0);  // 0 also when not a byte count
  if (b < 4096 || b > kMaxFifoBytes)
    return setError(tuttiInvalidArgument,
                    "TUTTI_SHM_FIFO_BYTES=%s: expected 4096 bytes to 1 GiB (unset: automatic)",
                    set.c_str());
  *out = (static_cast<size_t>(b) + 4095) / 4096 * 4096;
  return tuttiSuccess;
}

// Every rank creates its receive FIFOs, a barrier, every rank maps its peers' FIFOs, a second
// barrier, then the names are unlinked (nothing leaks if a process dies later). A rank that
// fails still joins both barriers so that the others fail cleanly rather than time out.
Result ShmTransport::connect(const TransportContext& ctx, const std::vector<int>& peers,
                             std::vector<std::unique_ptr<Connection>>* conns) {
  ShmFifoOptions opt;
  Result r = fifoBytes(peers.size() + 1, &opt.capacity);
  if (r == tuttiSuccess)
    TUTTI_INFO("rank %d: shared-memory FIFOs of %zu bytes from each of %zu local peer(s)", ctx.rank,
               opt.capacity, peers.size());
  char name[64];
  snprintf(name, sizeof(name), "/tutti-%016llx", (unsigned long long)ctx.peer(0).commNonce);
  opt.baseName = name;
  std::vector<void*> handles(ctx.nranks, nullptr);
  for (int p : peers)
    if (r != tuttiSuccess ||
        (r = createShmReceiveFifo(opt, ctx.rank, p, &handles[p])) != tuttiSuccess)
      break;
  int ok = r == tuttiSuccess, allOk = 1;
  const Result failed = r;  // its code survives the barriers below
  std::string err = ok ? "" : lastError();
  std::vector<int> oks(ctx.nranks);
  oks[ctx.rank] = ok;
  TUTTI_CHECK(ctx.bootstrap->allGather(oks.data(), sizeof(int)), "shm setup barrier");
  for (int v : oks) allOk &= v;
  for (int p : peers) {
    if (!allOk || r != tuttiSuccess) break;
    r = openShmConnection(opt, ctx.rank, p, ctx.peer(p).pid, handles[p], &(*conns)[p]);
    handles[p] = nullptr;
  }
  TUTTI_CHECK(ctx.bootstrap->barrier(), "shm setup barrier");
  for (int p : peers) unlinkShmName(opt, p, ctx.rank);
  for (int p : peers) releaseShmReceiveFifo(handles[p]);
  if (!ok) return setError(failed, "%s", err.c_str());
  if (!allOk) return setError(tuttiRemoteError, "a peer could not create its shared memory FIFOs");
  return r;
}

}  // namespace

std::unique_ptr<Transport> makeShmTransport() { return std::make_unique<ShmTransport>(); }

}  // namespace tutti

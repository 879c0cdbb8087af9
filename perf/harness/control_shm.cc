// ShmControl: barriers and reductions among forked ranks through shared memory (no spinning:
// waits are futex-backed pthread barrier waits).
#include <pthread.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstring>

#include "harness/control.h"

namespace tutti::perf {

struct ShmControl::Shared {
  pthread_barrier_t barrier;
  // Followed by nprocs slots of kSlotBytes each.
};

namespace {

constexpr size_t kSlotBytes = Control::kMaxText + 16;
constexpr size_t kHeaderBytes = 256;

}  // namespace

Status ShmControl::create(int nprocs, std::unique_ptr<ShmControl>* out) {
  static_assert(sizeof(Shared) <= kHeaderBytes, "header");
  std::unique_ptr<ShmControl> c(new ShmControl());
  c->nprocs_ = nprocs;
  c->mapBytes_ = kHeaderBytes + kSlotBytes * static_cast<size_t>(nprocs);
  void* p = mmap(nullptr, c->mapBytes_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return Status::error("mmap of %zu shared bytes failed", c->mapBytes_);
  c->shared_ = static_cast<Shared*>(p);
  pthread_barrierattr_t attr;
  pthread_barrierattr_init(&attr);
  pthread_barrierattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
  int rc = pthread_barrier_init(&c->shared_->barrier, &attr, static_cast<unsigned>(nprocs));
  pthread_barrierattr_destroy(&attr);
  if (rc != 0) return Status::error("pthread_barrier_init failed (%d)", rc);
  *out = std::move(c);
  return Status::ok();
}

ShmControl::~ShmControl() {
  // The barrier is not destroyed: other processes may still be inside it when one exits.
  if (shared_) munmap(shared_, mapBytes_);
}

Status ShmControl::barrier() {
  int rc = pthread_barrier_wait(&shared_->barrier);
  if (rc != 0 && rc != PTHREAD_BARRIER_SERIAL_THREAD)
    return Status::error("pthread_barrier_wait failed (%d)", rc);
  return Status::ok();
}

namespace {

char* slot(void* shared, int rank) {
  return static_cast<char*>(shared) + kHeaderBytes + kSlotBytes * static_cast<size_t>(rank);
}

}  // namespace

Status ShmControl::allReduce(double* values, int n, ReduceKind kind) {
  if (n > kMaxReduce) return Status::error("allReduce of %d values (max %d)", n, kMaxReduce);
  memcpy(slot(shared_, rank_), values, sizeof(double) * n);
  PERF_TRY(barrier());
  // Every process combines the slots in process order, so all get bit-identical results.
  std::vector<double> acc(n);
  for (int p = 0; p < nprocs_; ++p) {
    const double* other = reinterpret_cast<const double*>(slot(shared_, p));
    for (int i = 0; i < n; ++i) {
      if (p == 0) {
        acc[i] = other[i];
        continue;
      }
      switch (kind) {
        case ReduceKind::kSum: acc[i] += other[i]; break;
        case ReduceKind::kMin: acc[i] = std::min(acc[i], other[i]); break;
        case ReduceKind::kMax: acc[i] = std::max(acc[i], other[i]); break;
      }
    }
  }
  PERF_TRY(barrier());  // nobody overwrites a slot before everyone has read it
  std::copy(acc.begin(), acc.end(), values);
  return Status::ok();
}

Status ShmControl::gather(const std::string& mine, std::vector<std::string>* atRoot) {
  size_t len = std::min(mine.size(), kMaxText);
  char* s = slot(shared_, rank_);
  memcpy(s, &len, sizeof(len));
  memcpy(s + sizeof(len), mine.data(), len);
  PERF_TRY(barrier());
  if (rank_ == 0) {
    atRoot->clear();
    for (int p = 0; p < nprocs_; ++p) {
      const char* o = slot(shared_, p);
      size_t l;
      memcpy(&l, o, sizeof(l));
      atRoot->emplace_back(o + sizeof(l), l);
    }
  }
  return barrier();
}

}  // namespace tutti::perf

// CommControl: the Control channel built on the backend's own AllReduce/AllGather, for launches
// without MPI. Only used with one rank per process.
#include <cstring>
#include <vector>

#include "harness/backend.h"
#include "harness/control.h"
#include "harness/memory.h"

namespace tutti::perf {
namespace {

class CommControl : public Control {
 public:
  CommControl(Backend* backend, Memory* memory, void* comm, int rank, int nranks)
      : backend_(backend), memory_(memory), comm_(comm), rank_(rank), nranks_(nranks) {}
  ~CommControl() override {
    if (buf_) memory_->release(buf_);
  }
  int rank() const override { return rank_; }
  int size() const override { return nranks_; }

  Status barrier() override {
    double one = 1;
    return allReduce(&one, 1, ReduceKind::kSum);
  }
  Status allReduce(double* values, int n, ReduceKind kind) override {
    PERF_TRY(ensure(sizeof(double) * n));
    RedOp op = kind == ReduceKind::kSum   ? RedOp::kSum
               : kind == ReduceKind::kMin ? RedOp::kMin
                                          : RedOp::kMax;
    PERF_TRY(memory_->upload(buf_, values, sizeof(double) * n));
    PERF_TRY(backend_->allReduce(buf_, buf_, n, DataType::kDouble, op, comm_, memory_->stream()));
    PERF_TRY(memory_->synchronize());
    return memory_->download(values, buf_, sizeof(double) * n);
  }
  Status gather(const std::string& mine, std::vector<std::string>* atRoot) override {
    const size_t slot = kMaxText;
    PERF_TRY(ensure(slot * (nranks_ + 1)));
    std::string padded = mine.substr(0, slot);
    padded.resize(slot, '\0');
    char* send = static_cast<char*>(buf_) + slot * nranks_;
    PERF_TRY(memory_->upload(send, padded.data(), slot));
    PERF_TRY(backend_->allGather(send, buf_, slot, DataType::kUint8, comm_, memory_->stream()));
    PERF_TRY(memory_->synchronize());
    std::vector<char> all(slot * nranks_);
    PERF_TRY(memory_->download(all.data(), buf_, all.size()));
    if (rank_ == 0) {
      atRoot->clear();
      for (int p = 0; p < nranks_; ++p) {
        const char* text = all.data() + slot * p;
        atRoot->emplace_back(text, strnlen(text, slot));
      }
    }
    return Status::ok();
  }

 private:
  Status ensure(size_t bytes) {
    if (bytes <= bytes_) return Status::ok();
    if (buf_) memory_->release(buf_);
    buf_ = nullptr;
    PERF_TRY(memory_->alloc(bytes, &buf_));
    bytes_ = bytes;
    return Status::ok();
  }

  Backend* backend_;
  Memory* memory_;
  void* comm_;
  int rank_;
  int nranks_;
  void* buf_ = nullptr;
  size_t bytes_ = 0;
};

}  // namespace

std::unique_ptr<Control> makeCommControl(Backend* backend, Memory* memory, void* comm, int rank,
                                         int nranks) {
  return std::make_unique<CommControl>(backend, memory, comm, rank, nranks);
}

}  // namespace tutti::perf

// MpiControl: the Control channel over MPI_COMM_WORLD, for runs under mpirun.
#include <mpi.h>

#include <cstring>

#include "harness/control.h"

namespace tutti::perf {
namespace {

class MpiControl : public Control {
 public:
  MpiControl() {
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  Status barrier() override {
    return MPI_Barrier(MPI_COMM_WORLD) == MPI_SUCCESS ? Status::ok()
                                                      : Status::error("MPI_Barrier failed");
  }
  Status allReduce(double* values, int n, ReduceKind kind) override {
    MPI_Op op = kind == ReduceKind::kSum ? MPI_SUM : kind == ReduceKind::kMin ? MPI_MIN : MPI_MAX;
    if (MPI_Allreduce(MPI_IN_PLACE, values, n, MPI_DOUBLE, op, MPI_COMM_WORLD) != MPI_SUCCESS)
      return Status::error("MPI_Allreduce failed");
    return Status::ok();
  }
  Status gather(const std::string& mine, std::vector<std::string>* atRoot) override {
    std::string padded = mine.substr(0, kMaxText);
    padded.resize(kMaxText, '\0');
    std::vector<char> all(rank_ == 0 ? kMaxText * size_ : 1);
    if (MPI_Gather(padded.data(), static_cast<int>(kMaxText), MPI_CHAR, all.data(),
                   static_cast<int>(kMaxText), MPI_CHAR, 0, MPI_COMM_WORLD) != MPI_SUCCESS)
      return Status::error("MPI_Gather failed");
    if (rank_ == 0) {
      atRoot->clear();
      for (int p = 0; p < size_; ++p) {
        const char* text = all.data() + kMaxText * p;
        atRoot->emplace_back(text, strnlen(text, kMaxText));
      }
    }
    return Status::ok();
  }

 private:
  int rank_ = 0;
  int size_ = 1;
};

}  // namespace

std::unique_ptr<Control> makeMpiControl() { return std::make_unique<MpiControl>(); }

}  // namespace tutti::perf

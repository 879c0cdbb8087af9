// Control: the out-of-band channel between the processes of a run (not the library under test):
// barriers, reductions of times and error counts, and gathering rank descriptions for the header.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "harness/status.h"

namespace tutti::perf {

enum class ReduceKind { kSum, kMin, kMax };

class Control {
 public:
  virtual ~Control() = default;
  virtual int rank() const = 0;  // process index
  virtual int size() const = 0;  // number of processes
  virtual Status barrier() = 0;
  // Element-wise over processes, result on every process. n <= kMaxReduce.
  virtual Status allReduce(double* values, int n, ReduceKind kind) = 0;
  // Text of every process, in process order, on process 0 (each at most kMaxText bytes).
  virtual Status gather(const std::string& mine, std::vector<std::string>* atRoot) = 0;

  static constexpr int kMaxReduce = 64;
  static constexpr size_t kMaxText = 8192;
};

// Forked ranks: a process-shared pthread barrier and slots in an anonymous shared mapping,
// created by the parent before fork(); each child then calls setRank().
class ShmControl : public Control {
 public:
  static Status create(int nprocs, std::unique_ptr<ShmControl>* out);
  ~ShmControl() override;
  void setRank(int rank) { rank_ = rank; }

  int rank() const override { return rank_; }
  int size() const override { return nprocs_; }
  Status barrier() override;
  Status allReduce(double* values, int n, ReduceKind kind) override;
  Status gather(const std::string& mine, std::vector<std::string>* atRoot) override;

 private:
  struct Shared;
  ShmControl() = default;
  Shared* shared_ = nullptr;
  size_t mapBytes_ = 0;
  int nprocs_ = 0;
  int rank_ = 0;
};

class Backend;
class Memory;
// Launched without MPI (the ranks found each other through TUTTI_COMM_ID/NCCL_COMM_ID): the
// channel is the library under test itself, one rank per process, on small buffers.
std::unique_ptr<Control> makeCommControl(Backend* backend, Memory* memory, void* comm, int rank,
                                         int nranks);

#ifdef TUTTI_PERF_HAVE_MPI
// Under mpirun with MPI: MPI_COMM_WORLD.
std::unique_ptr<Control> makeMpiControl();
#endif

}  // namespace tutti::perf

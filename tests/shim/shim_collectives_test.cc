// Every NCCL collective through libnccl.so.2 on host buffers, 2 and 3 ranks, every data type
// and reduction (PreMulSum and Avg included), in and out of place, against the CPU reference.
#include <gtest/gtest.h>
#include <nccl.h>

#include <cstring>
#include <vector>

#include "nccl_ranks.h"
#include "nccl_reference.h"

using namespace shimtest;

namespace {

constexpr int kPreMulSum = ncclNumOps;  // marker for the reference: a PreMulSum op
constexpr int kOps[] = {ncclSum, ncclProd, ncclMax, ncclMin, ncclAvg, kPreMulSum};
constexpr size_t kCount = 1031;  // odd, so no algorithm divides it evenly
constexpr uint64_t kSeed = 20240611;

const char* opName(int op) {
  static const char* names[] = {"sum", "prod", "max", "min", "avg", "premulsum"};
  return names[op];
}

double premulScalar(ncclDataType_t t) { return isFloat(t) ? 0.5 : 3; }

// The op to pass to NCCL: built-in, or a PreMulSum created on `comm` (destroyed by caller).
ncclRedOp_t makeOp(int op, ncclDataType_t t, ncclComm_t comm) {
  if (op != kPreMulSum) return static_cast<ncclRedOp_t>(op);
  std::vector<char> scalar(typeSize(t));
  store(t, scalar.data(), 0, premulScalar(t));
  ncclRedOp_t out;
  EXPECT_EQ(ncclRedOpCreatePreMulSum(&out, scalar.data(), t, ncclScalarHostImmediate, comm),
            ncclSuccess)
      << ncclGetLastError(comm);
  return out;
}

void dropOp(ncclRedOp_t op, ncclComm_t comm) {
  if (op >= ncclNumOps) {
    EXPECT_EQ(ncclRedOpDestroy(op, comm), ncclSuccess);
  }
}

std::vector<std::vector<char>> allInputs(ncclDataType_t t, size_t count, uint64_t seed, int n,
                                         bool forProd) {
  std::vector<std::vector<char>> in;
  for (int r = 0; r < n; ++r) in.push_back(makeInput(t, count, seed, r, forProd));
  return in;
}

#define SHIM_OK(call, comm) \
  ASSERT_EQ((call), ncclSuccess) << #call << ": " << ncclGetLastError(comm)

void allReduce(ncclComm_t comm, int rank, int n, ncclDataType_t t, int op, size_t count,
               bool inPlace) {
  SCOPED_TRACE(std::string("AllReduce ") + typeName(t) + " " + opName(op) + " count " +
               std::to_string(count) + (inPlace ? " in place" : ""));
  auto in = allInputs(t, count, kSeed + count, n, op == ncclProd);
  std::vector<char> send = in[rank], recv(send.size(), 0x5a);
  ncclRedOp_t o = makeOp(op, t, comm);
  void* out = inPlace ? send.data() : recv.data();
  SHIM_OK(ncclAllReduce(send.data(), out, count, t, o, comm, nullptr), comm);
  dropOp(o, comm);
  std::vector<double> want(count);
  for (size_t i = 0; i < count; ++i) want[i] = reduceRef(t, op, in, i, premulScalar(t));
  EXPECT_EQ(compare(t, out, want, count, op == ncclAvg && isFloat(t)), "");
}

void reduce(ncclComm_t comm, int rank, int n, ncclDataType_t t, int op, int root, bool inPlace) {
  SCOPED_TRACE(std::string("Reduce ") + typeName(t) + " " + opName(op) + " root " +
               std::to_string(root));
  auto in = allInputs(t, kCount, kSeed + 1, n, op == ncclProd);
  std::vector<char> send = in[rank], recv(send.size(), 0x5a);
  ncclRedOp_t o = makeOp(op, t, comm);
  void* out = rank != root ? nullptr : inPlace ? send.data() : recv.data();
  SHIM_OK(ncclReduce(send.data(), out, kCount, t, o, root, comm, nullptr), comm);
  dropOp(o, comm);
  if (rank != root) {
    EXPECT_EQ(send, in[rank]) << "a non-root rank's input changed";
    return;
  }
  std::vector<double> want(kCount);
  for (size_t i = 0; i < kCount; ++i) want[i] = reduceRef(t, op, in, i, premulScalar(t));
  EXPECT_EQ(compare(t, out, want, kCount, op == ncclAvg && isFloat(t)), "");
}

void reduceScatter(ncclComm_t comm, int rank, int n, ncclDataType_t t, int op, size_t count,
                   bool inPlace) {
  SCOPED_TRACE(std::string("ReduceScatter ") + typeName(t) + " " + opName(op) + " count " +
               std::to_string(count) + (inPlace ? " in place" : ""));
  auto in = allInputs(t, count * n, kSeed + 2 + count, n, op == ncclProd);
  const size_t es = typeSize(t);
  std::vector<char> send = in[rank], recv(count * es, 0x5a);
  ncclRedOp_t o = makeOp(op, t, comm);
  void* out = inPlace ? send.data() + rank * count * es : recv.data();
  SHIM_OK(ncclReduceScatter(send.data(), out, count, t, o, comm, nullptr), comm);
  dropOp(o, comm);
  std::vector<double> want(count);
  for (size_t i = 0; i < count; ++i)
    want[i] = reduceRef(t, op, in, rank * count + i, premulScalar(t));
  EXPECT_EQ(compare(t, out, want, count, op == ncclAvg && isFloat(t)), "");
}

void allGather(ncclComm_t comm, int rank, int n, ncclDataType_t t, size_t count, bool inPlace) {
  SCOPED_TRACE(std::string("AllGather ") + typeName(t) + " count " + std::to_string(count) +
               (inPlace ? " in place" : ""));
  auto in = allInputs(t, count, kSeed + 3 + count, n, false);
  const size_t bytes = count * typeSize(t);
  std::vector<char> recv(bytes * n, 0x5a);
  const void* send = in[rank].data();
  if (inPlace) {
    memcpy(recv.data() + rank * bytes, in[rank].data(), bytes);
    send = recv.data() + rank * bytes;
  }
  SHIM_OK(ncclAllGather(send, recv.data(), count, t, comm, nullptr), comm);
  std::vector<char> want;
  for (int q = 0; q < n; ++q) want.insert(want.end(), in[q].begin(), in[q].end());
  EXPECT_TRUE(recv == want);
}

void alltoAll(ncclComm_t comm, int rank, int n, ncclDataType_t t, bool inPlace) {
  SCOPED_TRACE(std::string("AlltoAll ") + typeName(t) + (inPlace ? " in place" : ""));
  auto in = allInputs(t, kCount * n, kSeed + 4, n, false);
  const size_t bytes = kCount * typeSize(t);
  std::vector<char> send = in[rank], recv(bytes * n, 0x5a);
  void* out = inPlace ? send.data() : recv.data();
  SHIM_OK(ncclAlltoAll(send.data(), out, kCount, t, comm, nullptr), comm);
  std::vector<char> want;
  for (int q = 0; q < n; ++q)
    want.insert(want.end(), in[q].begin() + rank * bytes, in[q].begin() + (rank + 1) * bytes);
  EXPECT_TRUE(memcmp(out, want.data(), want.size()) == 0);
}

class ShimCollectives : public ::testing::TestWithParam<int> {};

TEST_P(ShimCollectives, AllReduceEveryTypeAndOp) {
  runNcclRanks(GetParam(), [](ncclComm_t comm, int rank, int n) {
    for (ncclDataType_t t : kAllTypes)
      for (int op : kOps) allReduce(comm, rank, n, t, op, kCount, (t + op) % 2 == 1);
    // Sizes past the direct/ring switch points of Tutti's tuner.
    allReduce(comm, rank, n, ncclFloat32, ncclSum, 300000, false);
    allReduce(comm, rank, n, ncclBfloat16, ncclAvg, 200000, true);
    allReduce(comm, rank, n, ncclInt32, kPreMulSum, 100000, false);
  });
}

TEST_P(ShimCollectives, ReduceEveryTypeOpAndRoot) {
  runNcclRanks(GetParam(), [](ncclComm_t comm, int rank, int n) {
    for (ncclDataType_t t : kAllTypes)
      for (int op : kOps) reduce(comm, rank, n, t, op, (t + op) % n, op % 2 == 0);
  });
}

TEST_P(ShimCollectives, ReduceScatterEveryTypeAndOp) {
  runNcclRanks(GetParam(), [](ncclComm_t comm, int rank, int n) {
    for (ncclDataType_t t : kAllTypes)
      for (int op : kOps) reduceScatter(comm, rank, n, t, op, kCount, (t + op) % 2 == 0);
    reduceScatter(comm, rank, n, ncclFloat32, ncclSum, 50000, false);
    reduceScatter(comm, rank, n, ncclFloat16, ncclAvg, 50000, true);
  });
}

TEST_P(ShimCollectives, AllGatherEveryType) {
  runNcclRanks(GetParam(), [](ncclComm_t comm, int rank, int n) {
    for (ncclDataType_t t : kAllTypes) allGather(comm, rank, n, t, kCount, t % 2 == 0);
    allGather(comm, rank, n, ncclFloat32, 40000, false);
    allGather(comm, rank, n, ncclUint8, 100000, true);
  });
}

TEST_P(ShimCollectives, BroadcastAndBcastEveryRoot) {
  runNcclRanks(GetParam(), [](ncclComm_t comm, int rank, int n) {
    for (ncclDataType_t t : kAllTypes) {
      for (int root = 0; root < n; ++root) {
        SCOPED_TRACE(std::string("Broadcast ") + typeName(t) + " root " + std::to_string(root));
        auto in = allInputs(t, kCount, kSeed + 5 + root, n, false);
        std::vector<char> buf = in[rank], recv(buf.size(), 0x5a);
        SHIM_OK(ncclBroadcast(buf.data(), recv.data(), kCount, t, root, comm, nullptr), comm);
        EXPECT_TRUE(recv == in[root]);
        SHIM_OK(ncclBcast(buf.data(), kCount, t, root, comm, nullptr), comm);
        EXPECT_TRUE(buf == in[root]);
      }
    }
  });
}

TEST_P(ShimCollectives, AlltoAllEveryType) {
  runNcclRanks(GetParam(), [](ncclComm_t comm, int rank, int n) {
    for (ncclDataType_t t : kAllTypes) alltoAll(comm, rank, n, t, t % 3 == 0);
  });
}

TEST_P(ShimCollectives, GatherEveryRootInAndOutOfPlace) {
  runNcclRanks(GetParam(), [](ncclComm_t comm, int rank, int n) {
    for (ncclDataType_t t : {ncclInt8, ncclFloat32, ncclBfloat16, ncclUint64}) {
      for (int root = 0; root < n; ++root) {
        for (bool inPlace : {false, true}) {
          SCOPED_TRACE(std::string("Gather ") + typeName(t) + " root " + std::to_string(root) +
                       (inPlace ? " in place" : ""));
          auto in = allInputs(t, kCount, kSeed + 6 + root, n, false);
          const size_t bytes = kCount * typeSize(t);
          std::vector<char> recv(bytes * n, 0x5a);
          const void* send = in[rank].data();
          if (inPlace && rank == root) {
            memcpy(recv.data() + root * bytes, in[rank].data(), bytes);
            send = recv.data() + root * bytes;
          }
          void* out = rank == root ? recv.data() : nullptr;
          SHIM_OK(ncclGather(send, out, kCount, t, root, comm, nullptr), comm);
          if (rank != root) continue;
          std::vector<char> want;
          for (int q = 0; q < n; ++q) want.insert(want.end(), in[q].begin(), in[q].end());
          EXPECT_TRUE(recv == want);
        }
      }
    }
  });
}

TEST_P(ShimCollectives, ScatterEveryRootInAndOutOfPlace) {
  runNcclRanks(GetParam(), [](ncclComm_t comm, int rank, int n) {
    for (ncclDataType_t t : {ncclUint8, ncclFloat64, ncclFloat16, ncclInt32}) {
      for (int root = 0; root < n; ++root) {
        for (bool inPlace : {false, true}) {
          SCOPED_TRACE(std::string("Scatter ") + typeName(t) + " root " + std::to_string(root) +
                       (inPlace ? " in place" : ""));
          auto in = allInputs(t, kCount * n, kSeed + 7 + root, n, false);
          const size_t bytes = kCount * typeSize(t);
          std::vector<char> send = in[rank], recv(bytes, 0x5a);
          void* out = inPlace && rank == root ? send.data() + root * bytes : recv.data();
          const void* src = rank == root ? send.data() : nullptr;
          SHIM_OK(ncclScatter(src, out, kCount, t, root, comm, nullptr), comm);
          EXPECT_EQ(memcmp(out, in[root].data() + rank * bytes, bytes), 0);
        }
      }
    }
  });
}

// Every rank sends to and receives from every rank (itself included) in one group: NCCL
// promises no deadlock whatever the order of the calls.
TEST_P(ShimCollectives, GroupedSendRecvAllPairs) {
  runNcclRanks(GetParam(), [](ncclComm_t comm, int rank, int n) {
    const ncclDataType_t t = ncclFloat32;
    auto in = allInputs(t, kCount * n, kSeed + 8, n, false);
    const size_t bytes = kCount * typeSize(t);
    std::vector<char> recv(bytes * n, 0x5a);
    SHIM_OK(ncclGroupStart(), comm);
    // Receives first on even ranks, sends first on odd ones.
    for (int k = 0; k < 2; ++k) {
      for (int p = 0; p < n; ++p) {
        if ((k == 0) == (rank % 2 == 0))
          SHIM_OK(ncclRecv(recv.data() + p * bytes, kCount, t, p, comm, nullptr), comm);
        else
          SHIM_OK(ncclSend(in[rank].data() + p * bytes, kCount, t, p, comm, nullptr), comm);
      }
    }
    SHIM_OK(ncclGroupEnd(), comm);
    for (int p = 0; p < n; ++p)
      EXPECT_EQ(memcmp(recv.data() + p * bytes, in[p].data() + rank * bytes, bytes), 0)
          << "block from rank " << p;
  });
}

TEST_P(ShimCollectives, SendRecvRingAndUngroupedPair) {
  runNcclRanks(GetParam(), [](ncclComm_t comm, int rank, int n) {
    const ncclDataType_t t = ncclInt64;
    auto in = allInputs(t, kCount, kSeed + 9, n, false);
    std::vector<char> recv(in[0].size(), 0x5a);
    const int next = (rank + 1) % n, prev = (rank + n - 1) % n;
    SHIM_OK(ncclGroupStart(), comm);
    SHIM_OK(ncclSend(in[rank].data(), kCount, t, next, comm, nullptr), comm);
    SHIM_OK(ncclRecv(recv.data(), kCount, t, prev, comm, nullptr), comm);
    SHIM_OK(ncclGroupEnd(), comm);
    EXPECT_TRUE(recv == in[prev]);
    // Ungrouped pairs in a matching order: rank 0 sends first, the last rank receives first.
    std::vector<char> back(in[0].size(), 0);
    if (rank == 0) {
      SHIM_OK(ncclSend(in[0].data(), kCount, t, n - 1, comm, nullptr), comm);
    } else if (rank == n - 1) {
      SHIM_OK(ncclRecv(back.data(), kCount, t, 0, comm, nullptr), comm);
      EXPECT_TRUE(back == in[0]);
    }
  });
}

// Different collectives fused in one group keep their per-communicator order.
TEST_P(ShimCollectives, MixedGroup) {
  runNcclRanks(GetParam(), [](ncclComm_t comm, int rank, int n) {
    const ncclDataType_t t = ncclFloat32;
    auto in = allInputs(t, kCount, kSeed + 10, n, false);
    std::vector<char> sum(in[0].size()), gathered(in[0].size() * n);
    SHIM_OK(ncclGroupStart(), comm);
    SHIM_OK(ncclAllReduce(in[rank].data(), sum.data(), kCount, t, ncclSum, comm, nullptr), comm);
    // Reads the AllReduce's output: must run after it.
    SHIM_OK(ncclAllGather(sum.data(), gathered.data(), kCount, t, comm, nullptr), comm);
    SHIM_OK(ncclGroupEnd(), comm);
    std::vector<double> want(kCount);
    for (size_t i = 0; i < kCount; ++i) want[i] = reduceRef(t, ncclSum, in, i, 1);
    for (int q = 0; q < n; ++q)
      EXPECT_EQ(compare(t, gathered.data() + q * sum.size(), want, kCount, false), "");
  });
}

INSTANTIATE_TEST_SUITE_P(Ranks, ShimCollectives, ::testing::Values(2, 3),
                         [](const ::testing::TestParamInfo<int>& p) {
                           return std::to_string(p.param) + "ranks";
                         });

}  // namespace

// Point-to-point in groups: a ring exchange where every rank sends before it receives, all
// pairs at once, self send/receive, and several communicators driven by one thread.
#include <gtest/gtest.h>

#include <vector>

#include "testing/random.h"
#include "testing/run_ranks.h"

namespace tutti::testing {
namespace {

TEST(P2pGroup, RingSendFirstDoesNotDeadlock) {
  runRanks(3, [](tuttiComm_t comm, int rank, int n) {
    const size_t count = (3 << 20) + 5;  // past the FIFO: both directions must progress
    std::vector<float> out(count), in(count, -1);
    fillInput(out.data(), count, 1, rank, tuttiFloat32, tuttiSum, n);
    ASSERT_EQ(tuttiGroupStart(), tuttiSuccess);
    ASSERT_EQ(tuttiSend(out.data(), count, tuttiFloat32, (rank + 1) % n, comm, nullptr),
              tuttiSuccess);
    ASSERT_EQ(tuttiRecv(in.data(), count, tuttiFloat32, (rank + n - 1) % n, comm, nullptr),
              tuttiSuccess);
    ASSERT_EQ(tuttiGroupEnd(), tuttiSuccess) << tuttiGetLastError(comm);
    std::vector<float> expect(count);
    fillInput(expect.data(), count, 1, (rank + n - 1) % n, tuttiFloat32, tuttiSum, n);
    EXPECT_EQ(in, expect);
  });
}

TEST(P2pGroup, AllPairsAndSelf) {
  runRanks(4, [](tuttiComm_t comm, int rank, int n) {
    const size_t count = 1001;
    std::vector<std::vector<int32_t>> out(n, std::vector<int32_t>(count)),
        in(n, std::vector<int32_t>(count, -1));
    for (int p = 0; p < n; ++p)
      for (size_t i = 0; i < count; ++i)
        out[p][i] = rank * 100000 + p * 1000 + static_cast<int32_t>(i);
    ASSERT_EQ(tuttiGroupStart(), tuttiSuccess);
    for (int p = n - 1; p >= 0; --p)  // receives first, in a different order on each rank
      ASSERT_EQ(tuttiRecv(in[p].data(), count, tuttiInt32, p, comm, nullptr), tuttiSuccess);
    for (int p = 0; p < n; ++p)
      ASSERT_EQ(tuttiSend(out[p].data(), count, tuttiInt32, p, comm, nullptr), tuttiSuccess);
    ASSERT_EQ(tuttiGroupEnd(), tuttiSuccess) << tuttiGetLastError(comm);
    for (int p = 0; p < n; ++p)
      for (size_t i = 0; i < count; ++i)
        ASSERT_EQ(in[p][i], p * 100000 + rank * 1000 + static_cast<int32_t>(i)) << "from " << p;
  });
}

TEST(P2pGroup, BlockingSendRecvOutsideGroup) {
  runRanks(2, [](tuttiComm_t comm, int rank, int) {
    std::vector<double> buf(77, rank);
    if (rank == 0) {
      ASSERT_EQ(tuttiSend(buf.data(), 77, tuttiFloat64, 1, comm, nullptr), tuttiSuccess);
    } else {
      ASSERT_EQ(tuttiRecv(buf.data(), 77, tuttiFloat64, 0, comm, nullptr), tuttiSuccess);
      EXPECT_EQ(buf[76], 0.0);
    }
  });
}

TEST(P2pGroup, MismatchedSizeIsAnErrorNotACorruption) {
  runRanks(2, [](tuttiComm_t comm, int rank, int) {
    std::vector<float> buf(100, 5.0f);
    tuttiResult_t r = rank == 0 ? tuttiSend(buf.data(), 100, tuttiFloat32, 1, comm, nullptr)
                                : tuttiRecv(buf.data(), 50, tuttiFloat32, 0, comm, nullptr);
    if (rank == 1) {
      EXPECT_EQ(r, tuttiRemoteError);
      EXPECT_NE(std::string(tuttiGetLastError(comm)).find("400 bytes"), std::string::npos)
          << tuttiGetLastError(comm);
    }
  });
}

TEST(ThreadRanks, InitAllHostRanksRunCollectives) {
  runThreadRanks(3, [](tuttiComm_t comm, int rank, int n) {
    std::vector<int64_t> in(10, rank + 1), out(10);
    ASSERT_EQ(tuttiAllReduce(in.data(), out.data(), 10, tuttiInt64, tuttiSum, comm, nullptr),
              tuttiSuccess);
    EXPECT_EQ(out[9], 6);
  });
}

TEST(ThreadRanks, OneThreadDrivesEveryCommInAGroup) {
  const int n = 3;
  std::vector<tuttiComm_t> comms(n);
  ASSERT_EQ(tuttiCommInitAll(comms.data(), n, nullptr), tuttiSuccess) << tuttiGetLastError(nullptr);
  std::vector<std::vector<float>> in(n, std::vector<float>(5000)),
      out(n, std::vector<float>(5000 * n));
  for (int r = 0; r < n; ++r) fillInput(in[r].data(), 5000, 3, r, tuttiFloat32, tuttiSum, n);
  ASSERT_EQ(tuttiGroupStart(), tuttiSuccess);
  for (int r = 0; r < n; ++r)
    ASSERT_EQ(tuttiAllGather(in[r].data(), out[r].data(), 5000, tuttiFloat32, comms[r], nullptr),
              tuttiSuccess);
  ASSERT_EQ(tuttiGroupEnd(), tuttiSuccess) << tuttiGetLastError(nullptr);
  for (int r = 0; r < n; ++r)
    for (int p = 0; p < n; ++p)
      EXPECT_EQ(std::vector<float>(out[r].begin() + p * 5000, out[r].begin() + (p + 1) * 5000),
                in[p]);
  for (auto c : comms) tuttiCommDestroy(c);
}

}  // namespace
}  // namespace tutti::testing

// Bad arguments get a clear error that names the argument, never a crash, and no user memory
// changes.
#include <gtest/gtest.h>

#include <climits>
#include <cstdint>
#include <string>
#include <vector>

#include "testing/run_ranks.h"

namespace tutti::testing {
namespace {

// Expects `res` to be tuttiInvalidArgument with a message containing `word`.
void expectError(tuttiResult_t res, tuttiComm_t comm, const char* word) {
  EXPECT_EQ(res, tuttiInvalidArgument);
  std::string msg = tuttiGetLastError(comm);
  EXPECT_NE(msg.find(word), std::string::npos) << "message '" << msg << "' should name " << word;
}

TEST(Errors, WithoutACommunicator) {
  float x = 0;
  expectError(tuttiAllReduce(&x, &x, 1, tuttiFloat32, tuttiSum, nullptr, nullptr), nullptr, "comm");
  expectError(tuttiGetUniqueId(nullptr), nullptr, "uniqueId");
  tuttiUniqueId id{};
  tuttiComm_t c;
  expectError(tuttiCommInitRank(&c, 2, id, 5), nullptr, "rank 5");
  expectError(tuttiCommInitRank(&c, 0, id, 0), nullptr, "nranks");
  expectError(tuttiCommInitRank(nullptr, 2, id, 0), nullptr, "comm");
  expectError(tuttiCommInitRank(&c, 1, id, 0), nullptr, "unique id");  // zeros: bad magic
  tuttiConfig_t cfg = TUTTI_CONFIG_INITIALIZER;
  cfg.magic = 0;
  expectError(tuttiCommInitRankConfig(&c, 1, id, 0, &cfg), nullptr, "config");
  EXPECT_EQ(tuttiGroupEnd(), tuttiInvalidUsage);
  EXPECT_STRNE(tuttiGetErrorString(tuttiRemoteError), "");
}

TEST(Errors, BadArgumentsLeaveMemoryUntouched) {
  runRanks(2, [](tuttiComm_t comm, int rank, int n) {
    std::vector<float> send(64, 1.0f), recv(64 * n, 7.0f);
    const std::vector<float> before = recv;
    expectError(tuttiAllReduce(nullptr, recv.data(), 64, tuttiFloat32, tuttiSum, comm, nullptr),
                comm, "sendbuff");
    expectError(tuttiAllReduce(send.data(), nullptr, 64, tuttiFloat32, tuttiSum, comm, nullptr),
                comm, "recvbuff");
    expectError(tuttiAllReduce(send.data(), recv.data(), 64, static_cast<tuttiDataType_t>(42),
                               tuttiSum, comm, nullptr),
                comm, "datatype 42");
    expectError(tuttiAllReduce(send.data(), recv.data(), 64, tuttiFloat32,
                               static_cast<tuttiRedOp_t>(17), comm, nullptr),
                comm, "op 17");
    expectError(
        tuttiAllReduce(recv.data(), recv.data() + 1, 64, tuttiFloat32, tuttiSum, comm, nullptr),
        comm, "overlap");
    expectError(tuttiAllReduce(send.data(), recv.data(), SIZE_MAX / 2, tuttiFloat32, tuttiSum, comm,
                               nullptr),
                comm, "overflow");
    expectError(tuttiAllGather(send.data(), recv.data(), SIZE_MAX / 4, tuttiFloat32, comm, nullptr),
                comm, "overflow");
    expectError(tuttiAllGather(recv.data() + 1, recv.data(), 32, tuttiFloat32, comm, nullptr), comm,
                "in place");
    expectError(
        tuttiReduceScatter(recv.data(), recv.data() + 3, 32, tuttiFloat32, tuttiSum, comm, nullptr),
        comm, "in place");
    expectError(tuttiBroadcast(send.data(), recv.data(), 64, tuttiFloat32, n, comm, nullptr), comm,
                "root");
    expectError(
        tuttiReduce(send.data(), recv.data(), 64, tuttiFloat32, tuttiSum, -1, comm, nullptr), comm,
        "root");
    expectError(tuttiSend(send.data(), 64, tuttiFloat32, 9, comm, nullptr), comm, "peer 9");
    expectError(tuttiRecv(nullptr, 64, tuttiFloat32, 0, comm, nullptr), comm, "recvbuff");
    expectError(tuttiAllToAllv(send.data(), nullptr, nullptr, recv.data(), nullptr, nullptr,
                               tuttiFloat32, comm, nullptr),
                comm, "sendcounts");
    int count = 0;
    expectError(tuttiCommCount(comm, nullptr), comm, "count");
    EXPECT_EQ(tuttiCommCount(comm, &count), tuttiSuccess);
    EXPECT_EQ(count, n);
    EXPECT_EQ(recv, before) << "a rejected call wrote into recvbuff";
    // The communicator still works afterwards, on every rank.
    ASSERT_EQ(tuttiAllReduce(send.data(), recv.data(), 64, tuttiFloat32, tuttiSum, comm, nullptr),
              tuttiSuccess);
    EXPECT_EQ(recv[0], static_cast<float>(n));
    // A bad call inside a group fails the group at GroupEnd, nothing runs.
    ASSERT_EQ(tuttiGroupStart(), tuttiSuccess);
    EXPECT_EQ(tuttiAllReduce(nullptr, recv.data(), 64, tuttiFloat32, tuttiSum, comm, nullptr),
              tuttiInvalidArgument);
    EXPECT_EQ(tuttiGroupEnd(), tuttiInvalidArgument);
    (void)rank;
  });
}

TEST(Errors, MismatchedCollectivesAreReported) {
  runRanks(2, [](tuttiComm_t comm, int rank, int) {
    std::vector<float> a(100, 1.0f), b(200, 0.0f);
    tuttiResult_t r =
        rank == 0 ? tuttiAllReduce(a.data(), b.data(), 100, tuttiFloat32, tuttiSum, comm, nullptr)
                  : tuttiAllGather(a.data(), b.data(), 100, tuttiFloat32, comm, nullptr);
    EXPECT_EQ(r, tuttiRemoteError);
    std::string msg = tuttiGetLastError(comm);
    EXPECT_TRUE((msg.find("call mismatch") != std::string::npos &&
                 msg.find("AllReduce(float32, sum, count 100, seq 0)") != std::string::npos &&
                 msg.find("AllGather(float32, count 100, seq 0)") != std::string::npos) ||
                msg.find("reported a failure") != std::string::npos)
        << msg;
  });
}

}  // namespace
}  // namespace tutti::testing

// The rendezvous refuses strangers: a process with a wrong secret cannot join (and is told
// so), and the legitimate ranks still form their communicator.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "bootstrap/unique_id.h"
#include "testing/run_ranks.h"

namespace tutti::testing {
namespace {

TEST(BootstrapAuth, WrongSecretIsRefusedAndRanksStillJoin) {
  RankOptions opt;
  opt.createComm = false;
  opt.env = {{"TUTTI_TIMEOUT_MS", "15000"}};
  runRanks(
      3,
      [](tuttiComm_t, int proc, int) {
        tuttiUniqueId id = currentUniqueId();
        if (proc == 2) {
          // An intruder: same address, one bit of the secret flipped, claiming rank 0.
          UniqueIdData d;
          memcpy(&d, id.internal, sizeof(d));
          d.secret[0] ^= 1;
          memcpy(id.internal, &d, sizeof(d));
          tuttiConfig_t cfg = TUTTI_CONFIG_INITIALIZER;
          cfg.timeoutMs = 3000;
          tuttiComm_t comm = nullptr;
          tuttiResult_t r = tuttiCommInitRankConfig(&comm, 2, id, 0, &cfg);
          EXPECT_NE(r, tuttiSuccess);
          EXPECT_EQ(comm, nullptr);
          EXPECT_NE(std::string(tuttiGetLastError(nullptr))
                        .find("could not prove the unique id's secret"),
                    std::string::npos)
              << tuttiGetLastError(nullptr);
          return;
        }
        // Rank 1 arrives late, so the root is still accepting when the intruder knocks.
        if (proc == 1) sleep(1);
        tuttiComm_t comm = nullptr;
        ASSERT_EQ(tuttiCommInitRank(&comm, 2, id, proc), tuttiSuccess)
            << tuttiGetLastError(nullptr);
        int v = proc + 1, out = 0;
        ASSERT_EQ(tuttiAllReduce(&v, &out, 1, tuttiInt32, tuttiSum, comm, nullptr), tuttiSuccess);
        EXPECT_EQ(out, 3);
        tuttiCommDestroy(comm);
      },
      opt);
}

TEST(BootstrapAuth, CommIdFromEnvironment) {
  RankOptions opt;
  opt.createComm = false;
  opt.env = {{"TUTTI_COMM_ID", "127.0.0.1:29517"},
             {"TUTTI_COMM_SECRET", "00112233445566778899aabbccddeeff"}};
  runRanks(
      3,
      [](tuttiComm_t, int rank, int n) {
        tuttiUniqueId id;
        ASSERT_EQ(tuttiGetUniqueId(&id), tuttiSuccess);  // every process derives the same id
        tuttiComm_t comm = nullptr;
        ASSERT_EQ(tuttiCommInitRank(&comm, n, id, rank), tuttiSuccess)
            << tuttiGetLastError(nullptr);
        int v = 1, out = 0;
        ASSERT_EQ(tuttiAllReduce(&v, &out, 1, tuttiInt32, tuttiSum, comm, nullptr), tuttiSuccess);
        EXPECT_EQ(out, n);
        tuttiCommDestroy(comm);
      },
      opt);
}

}  // namespace
}  // namespace tutti::testing

// Every rank of an AllReduce ends with the same bits, also where the order of the operands
// shows: max/min of -0 and +0 and of NaNs with different payloads (sums: the same values). The
// direct and two-shot plans fold in rank order (acc = x0; acc = f(acc, x1); ...) on every rank;
// these inputs make any other order visible.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "cpu/parallel_combine.h"
#include "testing/random.h"
#include "testing/run_ranks.h"

namespace tutti::testing {
namespace {

float bitsToFloat(uint32_t b) {
  float f;
  memcpy(&f, &b, sizeof(f));
  return f;
}

// Rank r's input: mostly signed zeros (sign drawn per rank), some NaNs whose payload names the
// rank, some ordinary random values. Any rank can regenerate any other's.
std::vector<float> inputOf(int rank, size_t count) {
  std::mt19937_64 gen(testSeed() * 1000003 + static_cast<uint64_t>(rank));
  std::vector<float> v(count);
  for (size_t i = 0; i < count; ++i) {
    switch (gen() % 4) {
      case 0:
      case 1: v[i] = (gen() & 1) ? -0.0f : 0.0f; break;
      case 2: v[i] = bitsToFloat(0x7fc00000u | (static_cast<uint32_t>(rank) + 1)); break;
      default: v[i] = static_cast<float>(static_cast<int>(gen() % 2001) - 1000) / 8; break;
    }
  }
  return v;
}

float combine(tuttiRedOp_t op, float a, float b) {
  switch (op) {
    case tuttiMax: return a < b ? b : a;
    case tuttiMin: return b < a ? b : a;
    default: return a + b;
  }
}

// `rankOrder`: the result must also be the rank-order fold (direct, two-shot); recursive
// doubling folds in pairs, so only the same bits on every rank are its promise.
// `splitEnv`: settings under which large combines are split over threads; the run must then
// split at least one (parallel_combine.h).
void checkFoldBits(int n, tuttiRedOp_t op, bool inPlace, const char* algo = "direct",
                   bool rankOrder = true, size_t count = 1001,
                   const std::vector<std::pair<std::string, std::string>>& splitEnv = {}) {
  RankOptions opts;
  opts.env = {{"TUTTI_ALGO", std::string("allreduce:") + algo}};
  opts.env.insert(opts.env.end(), splitEnv.begin(), splitEnv.end());
  const bool mustSplit = !splitEnv.empty();
  runRanks(
      n,
      [op, inPlace, rankOrder, count, mustSplit](tuttiComm_t comm, int rank, int nranks) {
        std::vector<float> in = inputOf(rank, count), out(count, 7.0f);
        float* recv = inPlace ? in.data() : out.data();
        // A combine is split only when a large span of the peer's bytes is there at once; on a
        // loaded machine one call may see them arrive in small pieces (a full local run did
        // once), so a split run makes three calls, the same number on every rank. Max and min
        // give the same result again in place.
        const bool idempotent = op == tuttiMax || op == tuttiMin;
        const int calls = mustSplit && idempotent ? 3 : 1;
        for (int c = 0; c < calls; ++c)
          ASSERT_EQ(tuttiAllReduce(in.data(), recv, count, tuttiFloat32, op, comm, nullptr),
                    tuttiSuccess)
              << tuttiGetLastError(comm);
        if (mustSplit) EXPECT_GT(parallelCombineJobs(), 0u) << "rank " << rank << " split nothing";
        std::vector<float> want = inputOf(0, count);
        for (int p = 1; p < nranks; ++p) {
          std::vector<float> x = inputOf(p, count);
          for (size_t i = 0; i < count; ++i) want[i] = combine(op, want[i], x[i]);
        }
        // Every rank holds the same bits as rank 0 (for sums, any NaN payload: which operand's
        // payload an addition keeps is the compiler's choice, C++ fixes no operand order).
        std::vector<float> all(count * nranks);
        ASSERT_EQ(tuttiAllGather(recv, all.data(), count, tuttiFloat32, comm, nullptr),
                  tuttiSuccess);
        for (int p = 1; p < nranks; ++p)
          for (size_t i = 0; i < count; ++i) {
            const float a = all[p * count + i], b = all[i];
            if (op == tuttiSum && a != a && b != b) continue;
            ASSERT_EQ(memcmp(&a, &b, sizeof(float)), 0)
                << "element " << i << " of rank " << p << " and rank 0 differ (seed " << testSeed()
                << ")";
          }
        // And they are the rank-order fold: bit for bit for max and min, whose operand order
        // C++ fixes; for sums the compiler may swap operands, so a NaN's payload is free.
        for (size_t i = 0; rankOrder && i < count; ++i) {
          uint32_t got, exp;
          memcpy(&got, &recv[i], 4);
          memcpy(&exp, &want[i], 4);
          if (op == tuttiSum && want[i] != want[i]) {
            ASSERT_NE(recv[i], recv[i]) << "element " << i << " should be NaN";
            continue;
          }
          ASSERT_EQ(got, exp) << "element " << i << " on rank " << rank << " (seed " << testSeed()
                              << "): not the rank-order fold";
        }
      },
      opts);
}

TEST(AllReduceBits, DirectMaxOfSignedZerosAndNaNs) {
  for (int n : {2, 3, 4}) {
    checkFoldBits(n, tuttiMax, false);
    checkFoldBits(n, tuttiMax, true);
  }
}

TEST(AllReduceBits, TwoShotMaxOfSignedZerosAndNaNs) {
  for (int n : {2, 3, 4}) {
    checkFoldBits(n, tuttiMax, false, "two_shot");
    checkFoldBits(n, tuttiMax, true, "two_shot");
  }
}

TEST(AllReduceBits, RecursiveDoublingGivesEveryRankTheSameBits) {
  for (int n : {2, 3, 4, 5}) {
    checkFoldBits(n, tuttiMax, n % 2 == 0, "recursive_doubling", false);
    checkFoldBits(n, tuttiMin, n % 2 == 1, "recursive_doubling", false);
  }
}

TEST(AllReduceBits, DirectMinAndSumOfNaNPayloads) {
  for (int n : {2, 3}) {
    checkFoldBits(n, tuttiMin, false);
    checkFoldBits(n, tuttiSum, true);
  }
}

// Combines split over threads (big regions: the socket ring holds 4 MiB) keep the fold's bits.
TEST(AllReduceBits, SplitCombinesKeepTheFold) {
  const std::vector<std::pair<std::string, std::string>> env = {{"TUTTI_REDUCE_THREADS", "4"},
                                                                {"TUTTI_TRANSPORT", "socket"}};
  for (const char* algo : {"direct", "two_shot"}) {
    checkFoldBits(2, tuttiMax, false, algo, true, 4u << 20, env);
    checkFoldBits(3, tuttiMin, true, algo, true, 4u << 20, env);
  }
}

}  // namespace
}  // namespace tutti::testing

// TUTTI_SHIM_COMPRESS through libnccl.so.2 on CPU ranks, as an unchanged framework sees it:
// off by default; with it, qualifying ncclAllReduces are compressed (close to, not equal to,
// the exact sum, identical on every rank) with error feedback kept per buffer (the running sum
// of repeated calls on one buffer stays within one call's error); everything else (too small,
// integer, max, PreMulSum, grouped) stays exact, and a bad value is ignored with a warning.
#include <gtest/gtest.h>
#include <nccl.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "nccl_ranks.h"

using namespace shimtest;

namespace {

constexpr uint64_t kSeed = 20261202;

std::vector<float> gaussianInput(int rank, size_t count) {
  std::mt19937_64 rng(kSeed + rank);
  std::normal_distribution<float> g(0.0f, 1.0f);
  std::vector<float> v(count);
  for (float& x : v) x = g(rng);
  return v;
}

std::vector<double> exactSum(int n, size_t count) {
  std::vector<double> s(count, 0.0);
  for (int r = 0; r < n; ++r) {
    std::vector<float> in = gaussianInput(r, count);
    for (size_t i = 0; i < count; ++i) s[i] += in[i];
  }
  return s;
}

double relError(const float* got, const std::vector<double>& want) {
  double num = 0, den = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    num += (got[i] - want[i]) * (got[i] - want[i]);
    den += want[i] * want[i];
  }
  return std::sqrt(num / den);
}

uint64_t hashOf(const void* p, size_t n) {
  const unsigned char* b = static_cast<const unsigned char*>(p);
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 1099511628211ull;
  return h;
}

void expectSameOnEveryRank(ncclComm_t comm, int n, const void* p, size_t bytes) {
  uint64_t mine = hashOf(p, bytes);
  std::vector<uint64_t> all(n);
  ASSERT_EQ(ncclAllGather(&mine, all.data(), 1, ncclUint64, comm, nullptr), ncclSuccess);
  for (int r = 1; r < n; ++r) EXPECT_EQ(all[r], all[0]) << "rank " << r << " differs";
}

const size_t kCount = 1 << 16;  // 256 KiB of float32

TEST(ShimCompression, OffByDefault) {
  runNcclRanks(3, [](ncclComm_t comm, int rank, int n) {
    std::vector<float> in = gaussianInput(rank, kCount), out(kCount);
    ASSERT_EQ(ncclAllReduce(in.data(), out.data(), kCount, ncclFloat32, ncclSum, comm, nullptr),
              ncclSuccess);
    EXPECT_LT(relError(out.data(), exactSum(n, kCount)), 1e-6);
  });
}

TEST(ShimCompression, QualifyingAllReducesAreCompressedWithErrorFeedback) {
  RankOptions opt;
  opt.env = {{"TUTTI_SHIM_COMPRESS", "int8:32"}, {"TUTTI_SHIM_COMPRESS_MIN_BYTES", "65536"}};
  runNcclRanks(
      3,
      [](ncclComm_t comm, int rank, int n) {
        const std::vector<double> exact = exactSum(n, kCount);
        const std::vector<float> in = gaussianInput(rank, kCount);
        // Compressed: within int8's bound but not exact, the same bits on every rank.
        std::vector<float> out(kCount);
        ASSERT_EQ(ncclAllReduce(in.data(), out.data(), kCount, ncclFloat32, ncclSum, comm, nullptr),
                  ncclSuccess)
            << ncclGetLastError(comm);
        const double first = relError(out.data(), exact);
        EXPECT_GT(first, 1e-4) << "not compressed?";
        EXPECT_LT(first, 1e-2);
        expectSameOnEveryRank(comm, n, out.data(), kCount * sizeof(float));
        // Error feedback per buffer: in place on one bucket-like buffer, 20 times; the running
        // sum stays within one call's error of 20 exact sums.
        std::vector<float> bucket(kCount);
        std::vector<double> running(kCount, 0.0);
        double firstErr = 0;
        for (int t = 0; t < 20; ++t) {
          bucket = in;
          ASSERT_EQ(ncclAllReduce(bucket.data(), bucket.data(), kCount, ncclFloat32, ncclSum, comm,
                                  nullptr),
                    ncclSuccess);
          for (size_t i = 0; i < kCount; ++i) {
            running[i] += bucket[i];
            if (t == 0) firstErr += (bucket[i] - exact[i]) * (bucket[i] - exact[i]);
          }
        }
        double runErr = 0;
        for (size_t i = 0; i < kCount; ++i)
          runErr += (running[i] - 20 * exact[i]) * (running[i] - 20 * exact[i]);
        EXPECT_LE(std::sqrt(runErr), 1.25 * std::sqrt(firstErr));
        // Avg qualifies too (a new buffer: `in` now carries its residual, and one call's error
        // with a carried residual is up to twice the first's).
        const std::vector<float> fresh = in;
        ASSERT_EQ(
            ncclAllReduce(fresh.data(), out.data(), kCount, ncclFloat32, ncclAvg, comm, nullptr),
            ncclSuccess);
        std::vector<double> avg = exact;
        for (double& v : avg) v /= n;
        EXPECT_LT(relError(out.data(), avg), 1e-2);
        // Too small, integer, max: exact.
        std::vector<float> small(1000), smallOut(1000);
        for (size_t i = 0; i < small.size(); ++i) small[i] = in[i];
        ASSERT_EQ(
            ncclAllReduce(small.data(), smallOut.data(), 1000, ncclFloat32, ncclSum, comm, nullptr),
            ncclSuccess);
        for (size_t i = 0; i < 1000; ++i)
          EXPECT_NEAR(smallOut[i], exact[i], 1e-5 * (1 + std::fabs(exact[i]))) << i;
        ASSERT_EQ(ncclAllReduce(in.data(), out.data(), kCount, ncclFloat32, ncclMax, comm, nullptr),
                  ncclSuccess);
        std::vector<std::vector<float>> all;
        for (int r = 0; r < n; ++r) all.push_back(gaussianInput(r, kCount));
        for (size_t i = 0; i < kCount; ++i) {
          float m = -INFINITY;
          for (int r = 0; r < n; ++r) m = std::max(m, all[r][i]);
          ASSERT_EQ(out[i], m) << i;
        }
        std::vector<int32_t> ints(kCount, rank + 1), intsOut(kCount);
        ASSERT_EQ(
            ncclAllReduce(ints.data(), intsOut.data(), kCount, ncclInt32, ncclSum, comm, nullptr),
            ncclSuccess);
        for (int32_t v : intsOut) ASSERT_EQ(v, n * (n + 1) / 2);
        // Inside a group: exact.
        ASSERT_EQ(ncclGroupStart(), ncclSuccess);
        ASSERT_EQ(ncclAllReduce(in.data(), out.data(), kCount, ncclFloat32, ncclSum, comm, nullptr),
                  ncclSuccess);
        ASSERT_EQ(ncclGroupEnd(), ncclSuccess);
        EXPECT_LT(relError(out.data(), exact), 1e-6);
      },
      opt);
}

TEST(ShimCompression, TopKAndOneBitRunWithTheirState) {
  for (const char* codec : {"topk:0.1", "sign1:32", "fp8_e4m3:64", "bf16"}) {
    RankOptions opt;
    opt.env = {{"TUTTI_SHIM_COMPRESS", codec}, {"TUTTI_SHIM_COMPRESS_MIN_BYTES", "0"}};
    runNcclRanks(
        2,
        [&](ncclComm_t comm, int rank, int n) {
          const std::vector<float> in = gaussianInput(rank, kCount);
          std::vector<float> out(kCount);
          for (int t = 0; t < 3; ++t)
            ASSERT_EQ(
                ncclAllReduce(in.data(), out.data(), kCount, ncclFloat32, ncclAvg, comm, nullptr),
                ncclSuccess)
                << codec << ": " << ncclGetLastError(comm);
          expectSameOnEveryRank(comm, n, out.data(), kCount * sizeof(float));
          for (float v : out) ASSERT_TRUE(std::isfinite(v)) << codec;
        },
        opt);
  }
}

TEST(ShimCompression, BadValueIsIgnored) {
  RankOptions opt;
  opt.env = {{"TUTTI_SHIM_COMPRESS", "zip:9"}, {"TUTTI_SHIM_COMPRESS_MIN_BYTES", "0"}};
  runNcclRanks(
      2,
      [](ncclComm_t comm, int rank, int n) {
        std::vector<float> in = gaussianInput(rank, kCount), out(kCount);
        ASSERT_EQ(ncclAllReduce(in.data(), out.data(), kCount, ncclFloat32, ncclSum, comm, nullptr),
                  ncclSuccess);
        EXPECT_LT(relError(out.data(), exactSum(n, kCount)), 1e-6);
      },
      opt);
}

}  // namespace

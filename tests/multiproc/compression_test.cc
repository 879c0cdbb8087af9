// Compressed AllReduce, ReduceScatter and AllGather on CPU ranks against an fp64 reference on
// Gaussian data (fixed, printed seed): relative L2 error within each codec's bound and flat in
// the rank count, bit-identical outputs on every rank, error feedback keeping the running sum
// of 100 calls within one call's error, odd counts, in and out of place, emulated nodes with
// the inter-node-only flag, a dead, slow or lying peer, and every bad argument refused with a
// sentence.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <thread>
#include <vector>

#include "kernels/dtype_dispatch.h"
#include "multiproc/compression_check.h"
#include "testing/random.h"
#include "testing/run_ranks.h"

namespace tutti::testing {
namespace {

// Relative L2 error bounds of one compressed AllReduce of Gaussian data (the goals).
double boundFor(const std::string& codec) {
  if (codec == "bf16") return 5e-3;
  if (codec == "fp8_e4m3:32") return 5e-2;
  if (codec == "int8:32") return 1e-2;
  if (codec == "fp8_e4m3:128") return 6e-2;
  if (codec == "int8:128") return 1.5e-2;
  if (codec == "fp8_e5m2:64") return 1e-1;
  return -1;  // top-k and 1-bit: no single-call bound (they rely on error feedback)
}

bool needsState(const std::string& codec) {
  return codec.rfind("topk", 0) == 0 || codec.rfind("sign1", 0) == 0;
}

enum class Kind { kAllReduce, kReduceScatter, kAllGather };

struct Case {
  Kind kind;
  std::string codec;
  tuttiDataType_t dtype;
  tuttiRedOp_t op;
  size_t count;  // the API's count
  bool inPlace;
  bool interNodeOnly = false;
};

std::string describe(const Case& c, int n) {
  static const char* kinds[] = {"AllReduce", "ReduceScatter", "AllGather"};
  return std::string(kinds[static_cast<int>(c.kind)]) + " " + c.codec + " " + dtypeName(c.dtype) +
         " " + opName(c.op) + " count " + std::to_string(c.count) +
         (c.inPlace ? " in place" : " out of place") + (c.interNodeOnly ? " inter-node only" : "") +
         " on " + std::to_string(n) + " ranks";
}

// The fp64 result rank `rank` must approximate.
std::vector<double> reference(const Case& c, int rank, int n, uint64_t seed) {
  const size_t outCount = c.kind == Kind::kAllGather ? c.count * n : c.count;
  std::vector<double> want(outCount, 0.0);
  for (size_t i = 0; i < outCount; ++i) {
    if (c.kind == Kind::kAllGather) {
      want[i] = gaussianInput(seed, static_cast<int>(i / c.count), i % c.count, c.dtype);
      continue;
    }
    const size_t src = c.kind == Kind::kReduceScatter ? rank * c.count + i : i;
    for (int r = 0; r < n; ++r) want[i] += gaussianInput(seed, r, src, c.dtype);
    if (c.op == tuttiAvg) want[i] /= n;
  }
  return want;
}

// Runs one case on this rank; returns its relative L2 error (or -1 after a failure).
double runCase(tuttiComm_t comm, int rank, int n, const Case& c, uint64_t seed,
               tuttiCompressState_t state = nullptr) {
  const size_t es = dtypeSize(c.dtype);
  const size_t inCount = c.kind == Kind::kReduceScatter ? c.count * n : c.count;
  const size_t outCount = c.kind == Kind::kAllGather ? c.count * n : c.count;
  std::vector<char> sendBuf(inCount * es + 1), recvBuf(std::max(inCount, outCount) * es + 1);
  const char guard = 0x5a;
  sendBuf.back() = recvBuf.back() = guard;
  void* recv = recvBuf.data();
  void* send = sendBuf.data();
  if (c.inPlace) {
    send = c.kind == Kind::kAllGather ? recvBuf.data() + rank * c.count * es : recvBuf.data();
    if (c.kind == Kind::kReduceScatter) recv = recvBuf.data() + rank * c.count * es;
  }
  fillGaussian(send, c.kind == Kind::kAllGather ? c.count : inCount, seed, rank, c.dtype);
  tuttiCompression_t comp = compressionOf(c.codec);
  if (c.interNodeOnly) comp.flags |= TUTTI_COMPRESS_INTER_NODE_ONLY;
  tuttiCompressState_t own = nullptr;
  if (!state && needsState(c.codec)) {
    EXPECT_EQ(tuttiCompressStateCreate(&own, inCount, c.dtype, tuttiMemoryHost, comm),
              tuttiSuccess);
    state = own;
  }
  tuttiResult_t r;
  switch (c.kind) {
    case Kind::kAllReduce:
      r = tuttiAllReduceCompressed(send, recv, c.count, c.dtype, c.op, &comp, state, comm, nullptr);
      break;
    case Kind::kReduceScatter:
      r = tuttiReduceScatterCompressed(send, recv, c.count, c.dtype, c.op, &comp, state, comm,
                                       nullptr);
      break;
    default:
      r = tuttiAllGatherCompressed(send, recv, c.count, c.dtype, &comp, state, comm, nullptr);
      break;
  }
  tuttiCompressStateDestroy(own);
  if (r != tuttiSuccess) {
    ADD_FAILURE() << "rank " << rank << ": " << describe(c, n) << ": " << tuttiGetLastError(comm);
    return -1;
  }
  EXPECT_EQ(sendBuf.back(), guard) << describe(c, n);
  EXPECT_EQ(recvBuf.back(), guard) << describe(c, n);
  // ReduceScatter outputs differ by rank; AllReduce and AllGather must agree bit for bit.
  if (c.kind != Kind::kReduceScatter) {
    std::string diff = sameOnEveryRank(comm, recv, outCount * es);
    EXPECT_EQ(diff, "") << describe(c, n) << " seed " << seed;
  }
  return relativeL2(recv, c.dtype, reference(c, rank, n, seed));
}

void checkBound(const Case& c, int rank, int n, double err, uint64_t seed) {
  const double bound = boundFor(c.codec);
  if (bound > 0)
    EXPECT_LE(err, bound) << "rank " << rank << ": " << describe(c, n) << " seed " << seed;
  else
    EXPECT_TRUE(std::isfinite(err)) << "rank " << rank << ": " << describe(c, n);
}

const std::vector<std::string> kCodecs = {"bf16",    "fp8_e4m3:32", "fp8_e4m3:128", "fp8_e5m2:64",
                                          "int8:32", "int8:128",    "topk:0.01",    "sign1:32"};

class CompressionTest : public ::testing::TestWithParam<int> {};

TEST_P(CompressionTest, AllReduceWithinBoundsAndIdenticalEverywhere) {
  const uint64_t seed = testSeed();
  RecordProperty("seed", std::to_string(seed));
  runRanks(GetParam(), [&](tuttiComm_t comm, int rank, int n) {
    for (const std::string& codec : kCodecs)
      for (tuttiDataType_t dtype : {tuttiFloat32, tuttiBfloat16, tuttiFloat16})
        for (tuttiRedOp_t op : {tuttiSum, tuttiAvg})
          for (size_t count : {size_t{1}, size_t{7}, size_t{1001}, size_t{20011}})
            for (bool inPlace : {false, true}) {
              if (dtype != tuttiFloat32 && (count < 20011 || inPlace)) continue;
              Case c{Kind::kAllReduce, codec, dtype, op, count, inPlace};
              double err = runCase(comm, rank, n, c, seed);
              // Tiny counts are dominated by one block: only the large one is held to the bound.
              if (count == 20011) checkBound(c, rank, n, err, seed);
            }
  });
}

TEST_P(CompressionTest, ReduceScatterWithinBounds) {
  const uint64_t seed = testSeed();
  runRanks(GetParam(), [&](tuttiComm_t comm, int rank, int n) {
    for (const std::string& codec : kCodecs)
      for (tuttiRedOp_t op : {tuttiSum, tuttiAvg})
        for (size_t count : {size_t{1}, size_t{33}, size_t{5003}})
          for (bool inPlace : {false, true}) {
            Case c{Kind::kReduceScatter, codec, tuttiFloat32, op, count, inPlace};
            double err = runCase(comm, rank, n, c, seed);
            // One encoding per contribution, none of the result: within the AllReduce bounds.
            if (count == 5003) checkBound(c, rank, n, err, seed);
          }
    Case half{Kind::kReduceScatter, "int8:32", tuttiBfloat16, tuttiSum, 5003, false};
    checkBound(half, rank, n, runCase(comm, rank, n, half, seed), seed);
  });
}

TEST_P(CompressionTest, AllGatherWithinBoundsAndIdenticalEverywhere) {
  const uint64_t seed = testSeed();
  runRanks(GetParam(), [&](tuttiComm_t comm, int rank, int n) {
    for (const std::string& codec : kCodecs)
      for (size_t count : {size_t{1}, size_t{33}, size_t{5003}})
        for (bool inPlace : {false, true}) {
          Case c{Kind::kAllGather, codec, tuttiFloat32, tuttiSum, count, inPlace};
          double err = runCase(comm, rank, n, c, seed);
          if (count == 5003) checkBound(c, rank, n, err, seed);
        }
    Case half{Kind::kAllGather, "fp8_e4m3:32", tuttiFloat16, tuttiSum, 5003, true};
    checkBound(half, rank, n, runCase(comm, rank, n, half, seed), seed);
  });
}

INSTANTIATE_TEST_SUITE_P(Ranks, CompressionTest, ::testing::Values(2, 3, 4, 7),
                         [](const ::testing::TestParamInfo<int>& i) {
                           return std::to_string(i.param) + "ranks";
                         });

// Each contribution is encoded once and the sum once more, whatever the rank count: the error
// of 16 ranks stays within 1.5x that of 2 (a ring re-encoding at every hop would grow).
TEST(Compression, ErrorIsFlatInTheRankCount) {
  const uint64_t seed = testSeed();
  for (const std::string codec : {"int8:32", "fp8_e4m3:32", "bf16"}) {
    double err[2] = {0, 0};
    int i = 0;
    for (int n : {2, 16}) {
      RankOptions opt;
      opt.timeoutSec = 120;
      runRanks(
          n,
          [&](tuttiComm_t comm, int rank, int nr) {
            Case c{Kind::kAllReduce, codec, tuttiFloat32, tuttiSum, 16384, false};
            double e = runCase(comm, rank, nr, c, seed);
            if (rank == 0) publishValue("flat", e);
          },
          opt);
      err[i++] = readPublished("flat");
    }
    EXPECT_GT(err[0], 0) << codec;
    EXPECT_LE(err[1], 1.5 * err[0])
        << codec << ": 2 ranks " << err[0] << ", 16 ranks " << err[1] << " seed " << seed;
    printf("%s relative L2 error: 2 ranks %.3g, 16 ranks %.3g\n", codec.c_str(), err[0], err[1]);
  }
}

// Error feedback: the residual of every call returns in the next, so the running sum of 100
// AllReduces of one fixed input stays within one call's error of 100 times the exact sum
// (the error of the running sum is the residuals left after the last call, the error of one
// call the difference of two consecutive residuals); without it, the same rounding repeats
// and the running error grows a hundredfold. For int8, fp8 and bf16 every call's error is
// about the first one's and the running sum stays within it. Top-k and 1-bit send little per
// call: their residuals settle at a few calls' error (bounded, no longer growing after ~1/k
// calls for top-k), which is what is checked for them.
TEST(Compression, ErrorFeedbackKeepsTheRunningSumWithinOneStep) {
  const uint64_t seed = testSeed();
  runRanks(4, [&](tuttiComm_t comm, int rank, int n) {
    const size_t count = 4099;
    std::vector<double> exact(count, 0.0);
    for (size_t i = 0; i < count; ++i)
      for (int r = 0; r < n; ++r) exact[i] += gaussianInput(seed, r, i, tuttiFloat32);
    std::vector<float> in(count), out(count);
    fillGaussian(in.data(), count, seed, rank, tuttiFloat32);
    for (const std::string codec : {"int8:32", "fp8_e4m3:32", "bf16", "sign1:32", "topk:0.05"}) {
      for (bool feedback : {true, false}) {
        if (!feedback && needsState(codec)) continue;
        tuttiCompression_t comp = compressionOf(codec);
        tuttiCompressState_t state = nullptr;
        if (feedback) {
          ASSERT_EQ(tuttiCompressStateCreate(&state, count, tuttiFloat32, tuttiMemoryHost, comm),
                    tuttiSuccess);
        }
        std::vector<double> running(count, 0.0);
        double firstErr = 0, worstErr = 0, halfwayErr = 0;
        const int steps = 100;
        auto norm = [&](auto f) {
          double s2 = 0;
          for (size_t i = 0; i < count; ++i) s2 += f(i) * f(i);
          return std::sqrt(s2);
        };
        for (int t = 0; t < steps; ++t) {
          ASSERT_EQ(tuttiAllReduceCompressed(in.data(), out.data(), count, tuttiFloat32, tuttiSum,
                                             &comp, state, comm, nullptr),
                    tuttiSuccess)
              << tuttiGetLastError(comm);
          for (size_t i = 0; i < count; ++i) running[i] += out[i];
          const double e = norm([&](size_t i) { return out[i] - exact[i]; });
          if (t == 0) firstErr = e;
          worstErr = std::max(worstErr, e);
          if (t == steps / 2 - 1)
            halfwayErr = norm([&](size_t i) { return running[i] - (t + 1) * exact[i]; });
        }
        const double runErr = norm([&](size_t i) { return running[i] - steps * exact[i]; });
        tuttiCompressStateDestroy(state);
        if (rank == 0)
          printf(
              "%s%s: call errors first %.3g, largest %.3g; running sum after %d calls %.3g, "
              "after %d %.3g\n",
              codec.c_str(), feedback ? " + feedback" : "", firstErr, worstErr, steps / 2,
              halfwayErr, steps, runErr);
        const std::string what =
            codec + (feedback ? " + feedback" : "") + ", seed " + std::to_string(seed);
        if (!feedback) {
          EXPECT_GE(runErr, 10.0 * firstErr) << what;
        } else if (!needsState(codec)) {
          EXPECT_LE(runErr, 1.25 * firstErr) << what;
        } else {
          // Measured 2.5x to 3x (see docs/compression.md): bounded, not growing.
          EXPECT_LE(runErr, 4.0 * worstErr) << what;
          EXPECT_LE(runErr, 1.5 * halfwayErr) << what;
        }
      }
    }
  });
}

// With emulated nodes of 2 ranks the inter-node-only flag keeps intra-node traffic exact and
// encodes node sums across nodes: the result is within the codec's bound, about as accurate as
// the flat one (each encoded piece loses the same relative amount), and identical on every
// rank. On a single node nothing crosses a node and the result is the exact AllReduce.
TEST(Compression, InterNodeOnlyOnEmulatedNodes) {
  const uint64_t seed = testSeed();
  for (int n : {4, 6}) {
    RankOptions opt;
    opt.env = {{"TUTTI_RANKS_PER_NODE", "2"}};
    runRanks(
        n,
        [&](tuttiComm_t comm, int rank, int nr) {
          for (const std::string codec : {"int8:32", "fp8_e4m3:32", "sign1:32", "topk:0.1"})
            for (Kind kind : {Kind::kAllReduce, Kind::kReduceScatter})
              for (size_t count : {size_t{1}, size_t{999}, size_t{8191}})
                for (bool inPlace : {false, true}) {
                  Case c{kind, codec, tuttiFloat32, tuttiAvg, count, inPlace, true};
                  double hier = runCase(comm, rank, nr, c, seed);
                  c.interNodeOnly = false;
                  double flat = runCase(comm, rank, nr, c, seed);
                  if (count == 8191 && !needsState(codec)) {
                    checkBound(c, rank, nr, hier, seed);
                    EXPECT_LE(hier, flat * 1.25) << describe(c, nr);
                  }
                }
          Case half{Kind::kAllReduce, "int8:32", tuttiBfloat16, tuttiSum, 3001, false, true};
          checkBound(half, rank, nr, runCase(comm, rank, nr, half, seed), seed);
        },
        opt);
  }
  runRanks(3, [&](tuttiComm_t comm, int rank, int n) {
    const size_t count = 1003;
    std::vector<float> in(count), exact(count), out(count);
    fillGaussian(in.data(), count, seed, rank, tuttiFloat32);
    ASSERT_EQ(tuttiAllReduce(in.data(), exact.data(), count, tuttiFloat32, tuttiSum, comm, nullptr),
              tuttiSuccess);
    tuttiCompression_t comp = compressionOf("int8:32");
    comp.flags = TUTTI_COMPRESS_INTER_NODE_ONLY;
    ASSERT_EQ(tuttiAllReduceCompressed(in.data(), out.data(), count, tuttiFloat32, tuttiSum, &comp,
                                       nullptr, comm, nullptr),
              tuttiSuccess);
    EXPECT_EQ(memcmp(out.data(), exact.data(), count * sizeof(float)), 0);
  });
}

TEST(Compression, OneRankAndEmptyCalls) {
  const uint64_t seed = testSeed();
  runRanks(1, [&](tuttiComm_t comm, int rank, int n) {
    for (const std::string& codec : kCodecs) {
      Case c{Kind::kAllReduce, codec, tuttiFloat32, tuttiSum, 5000, false};
      checkBound(c, rank, n, runCase(comm, rank, n, c, seed), seed);
    }
  });
  runRanks(2, [&](tuttiComm_t comm, int, int) {
    tuttiCompression_t comp = compressionOf("int8");
    EXPECT_EQ(tuttiAllReduceCompressed(nullptr, nullptr, 0, tuttiFloat32, tuttiSum, &comp, nullptr,
                                       comm, nullptr),
              tuttiSuccess);
    EXPECT_EQ(
        tuttiAllGatherCompressed(nullptr, nullptr, 0, tuttiFloat32, &comp, nullptr, comm, nullptr),
        tuttiSuccess);
  });
}

// ---- Failures: a dead, slow or lying peer is an error on every rank, never a hang ---------

double secondsSince(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

TEST(CompressionFaults, KilledRankFailsEveryOtherRankFast) {
  RankOptions opt;
  opt.env = {{"TUTTI_TIMEOUT_MS", "20000"}};
  opt.expectKilled = {2};
  runRanks(
      4,
      [](tuttiComm_t comm, int rank, int) {
        const size_t count = 1 << 20;
        std::vector<float> buf(count, 1.0f);
        if (rank == 2) {
          std::thread([] {
            std::this_thread::sleep_for(std::chrono::milliseconds(300));
            raise(SIGKILL);
          }).detach();
        }
        tuttiCompression_t comp = compressionOf("int8:32");
        tuttiResult_t r = tuttiSuccess;
        auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < 10000 && r == tuttiSuccess; ++i) {
          t0 = std::chrono::steady_clock::now();
          r = tuttiAllReduceCompressed(buf.data(), buf.data(), count, tuttiFloat32, tuttiSum, &comp,
                                       nullptr, comm, nullptr);
        }
        EXPECT_TRUE(r == tuttiRemoteError || r == tuttiTimeout) << tuttiGetErrorString(r);
        EXPECT_LT(secondsSince(t0), 20.0) << "rank " << rank << " waited past the timeout";
      },
      opt);
}

TEST(CompressionFaults, SlowPeerTimesOut) {
  RankOptions opt;
  opt.env = {{"TUTTI_TIMEOUT_MS", "1500"}};
  runRanks(
      3,
      [](tuttiComm_t comm, int rank, int) {
        std::vector<float> buf(5000, 1.0f);
        if (rank == 2) sleep(4);
        tuttiCompression_t comp = compressionOf("fp8_e4m3:32");
        auto t0 = std::chrono::steady_clock::now();
        tuttiResult_t r = tuttiAllReduceCompressed(buf.data(), buf.data(), buf.size(), tuttiFloat32,
                                                   tuttiSum, &comp, nullptr, comm, nullptr);
        if (rank != 2) {
          EXPECT_TRUE(r == tuttiTimeout || r == tuttiRemoteError) << tuttiGetLastError(comm);
          EXPECT_LT(secondsSince(t0), 6.0);
        }
      },
      opt);
}

// A peer sending a top-k segment whose index is out of range: the receiver refuses it with
// tuttiRemoteError naming the peer and writes nothing past its shard.
TEST(CompressionFaults, MalformedTopKSegmentIsRefused) {
  runRanks(2, [](tuttiComm_t comm, int rank, int) {
    // 64 elements on 2 ranks: shards of 32, top-k 25% keeps 8: segments of 8 values and 8
    // indices, 64 bytes each.
    const size_t count = 64;
    tuttiCompression_t comp = compressionOf("topk:0.25");
    size_t segBytes = 0;
    ASSERT_EQ(tuttiCompressedSize(&comp, 32, &segBytes), tuttiSuccess);
    ASSERT_EQ(segBytes, 64u);
    if (rank == 1) {
      // What the compressed AllReduce's all-to-all carries, forged: index 1000 in a shard of 32.
      std::vector<uint8_t> send(2 * segBytes, 0), recv(2 * segBytes);
      for (int seg = 0; seg < 2; ++seg) {
        float* values = reinterpret_cast<float*>(send.data() + seg * segBytes);
        uint32_t* index = reinterpret_cast<uint32_t*>(send.data() + seg * segBytes + 32);
        for (int j = 0; j < 8; ++j) {
          values[j] = 1.0f;
          index[j] = j == 7 ? 1000u : static_cast<uint32_t>(j);
        }
      }
      EXPECT_EQ(tuttiAllToAll(send.data(), recv.data(), segBytes, tuttiUint8, comm, nullptr),
                tuttiSuccess);
      return;  // rank 0 fails its communicator; nothing more is exchanged
    }
    std::vector<float> in(count, 1.0f), out(count + 8, -3.0f);
    tuttiCompressState_t st = nullptr;
    ASSERT_EQ(tuttiCompressStateCreate(&st, count, tuttiFloat32, tuttiMemoryHost, comm),
              tuttiSuccess);
    EXPECT_EQ(tuttiAllReduceCompressed(in.data(), out.data(), count, tuttiFloat32, tuttiSum, &comp,
                                       st, comm, nullptr),
              tuttiRemoteError);
    const std::string msg = tuttiGetLastError(comm);
    EXPECT_NE(msg.find("rank 1 sent a top-k segment"), std::string::npos) << msg;
    for (size_t i = count; i < out.size(); ++i) EXPECT_EQ(out[i], -3.0f);
    tuttiCompressStateDestroy(st);
  });
}

// ---- Bad arguments: each refused before any memory is touched, with a sentence -----------

struct Refusal {
  tuttiResult_t code;
  std::string mentions;  // a phrase the error sentence must contain
};

void expectRefusal(tuttiResult_t got, const Refusal& want, tuttiComm_t comm, const char* what) {
  EXPECT_EQ(got, want.code) << what;
  std::string msg = tuttiGetLastError(comm);
  EXPECT_NE(msg.find(want.mentions), std::string::npos) << what << ": '" << msg << "'";
}

TEST(Compression, BadArgumentsAreRefusedByName) {
  runRanks(2, [&](tuttiComm_t comm, int rank, int n) {
    std::vector<float> buf(64, 1.0f), out(64 * n, -7.0f);
    std::vector<int32_t> ints(64, 1);
    tuttiCompression_t ok = compressionOf("int8:32");
    auto ar = [&](const void* s, void* r, size_t count, tuttiDataType_t dt, tuttiRedOp_t op,
                  const tuttiCompression_t* c, tuttiCompressState_t st) {
      return tuttiAllReduceCompressed(s, r, count, dt, op, c, st, comm, nullptr);
    };
    expectRefusal(ar(ints.data(), ints.data(), 64, tuttiInt32, tuttiSum, &ok, nullptr),
                  {tuttiNotSupported, "float32, float16 or bfloat16"}, comm, "int32");
    expectRefusal(ar(buf.data(), buf.data(), 64, tuttiFloat64, tuttiSum, &ok, nullptr),
                  {tuttiNotSupported, "not float64"}, comm, "float64");
    expectRefusal(
        ar(buf.data(), buf.data(), 64, static_cast<tuttiDataType_t>(99), tuttiSum, &ok, nullptr),
        {tuttiInvalidArgument, "datatype 99"}, comm, "dtype 99");
    expectRefusal(ar(buf.data(), out.data(), 64, tuttiFloat32, tuttiMax, &ok, nullptr),
                  {tuttiNotSupported, "sum or avg, not max"}, comm, "max");
    expectRefusal(ar(buf.data(), out.data(), 64, tuttiFloat32, tuttiProd, &ok, nullptr),
                  {tuttiNotSupported, "sum or avg"}, comm, "prod");
    expectRefusal(
        ar(buf.data(), out.data(), 64, tuttiFloat32, static_cast<tuttiRedOp_t>(-3), &ok, nullptr),
        {tuttiInvalidArgument, "op -3"}, comm, "op -3");
    tuttiCompression_t bad = ok;
    bad.codec = static_cast<tuttiCodec_t>(17);
    expectRefusal(ar(buf.data(), out.data(), 64, tuttiFloat32, tuttiSum, &bad, nullptr),
                  {tuttiInvalidArgument, "codec 17"}, comm, "codec 17");
    for (int block : {0, 16, 48, 256}) {
      bad = ok;
      bad.blockSize = block;
      expectRefusal(ar(buf.data(), out.data(), 64, tuttiFloat32, tuttiSum, &bad, nullptr),
                    {tuttiInvalidArgument, "blockSize"}, comm, "block size");
    }
    bad = compressionOf("topk:0.1");
    bad.topkFraction = 0.0f;
    tuttiCompressState_t st = nullptr;
    ASSERT_EQ(tuttiCompressStateCreate(&st, 64, tuttiFloat32, tuttiMemoryHost, comm), tuttiSuccess);
    expectRefusal(ar(buf.data(), out.data(), 64, tuttiFloat32, tuttiSum, &bad, st),
                  {tuttiInvalidArgument, "topkFraction"}, comm, "top-k fraction 0");
    bad = ok;
    bad.magic = 0;
    expectRefusal(ar(buf.data(), out.data(), 64, tuttiFloat32, tuttiSum, &bad, nullptr),
                  {tuttiInvalidArgument, "TUTTI_COMPRESSION_INITIALIZER"}, comm, "magic");
    bad = ok;
    bad.flags = 0x10;
    expectRefusal(ar(buf.data(), out.data(), 64, tuttiFloat32, tuttiSum, &bad, nullptr),
                  {tuttiInvalidArgument, "flags"}, comm, "flags");
    expectRefusal(ar(buf.data(), out.data(), 64, tuttiFloat32, tuttiSum, nullptr, nullptr),
                  {tuttiInvalidArgument, "compression is NULL"}, comm, "NULL compression");
    for (const char* codec : {"topk:0.01", "sign1:32"}) {
      tuttiCompression_t c = compressionOf(codec);
      expectRefusal(ar(buf.data(), out.data(), 64, tuttiFloat32, tuttiSum, &c, nullptr),
                    {tuttiInvalidArgument, "needs an error-feedback state"}, comm, codec);
    }
    tuttiCompressState_t wrongCount = nullptr, wrongType = nullptr;
    ASSERT_EQ(tuttiCompressStateCreate(&wrongCount, 63, tuttiFloat32, tuttiMemoryHost, comm),
              tuttiSuccess);
    expectRefusal(ar(buf.data(), out.data(), 64, tuttiFloat32, tuttiSum, &ok, wrongCount),
                  {tuttiInvalidArgument, "created for 63 elements"}, comm, "EF count");
    // ReduceScatter's state covers its whole input: nranks * recvcount.
    expectRefusal(tuttiReduceScatterCompressed(buf.data(), out.data(), 64, tuttiFloat32, tuttiSum,
                                               &ok, st, comm, nullptr),
                  {tuttiInvalidArgument, "holds " + std::to_string(64 * n)}, comm, "RS EF count");
    ASSERT_EQ(tuttiCompressStateCreate(&wrongType, 64, tuttiBfloat16, tuttiMemoryHost, comm),
              tuttiSuccess);
    expectRefusal(ar(buf.data(), out.data(), 64, tuttiFloat32, tuttiSum, &ok, wrongType),
                  {tuttiInvalidArgument, "created for bfloat16"}, comm, "EF dtype");
    expectRefusal(ar(nullptr, out.data(), 64, tuttiFloat32, tuttiSum, &ok, nullptr),
                  {tuttiInvalidArgument, "sendbuff is NULL"}, comm, "NULL send");
    expectRefusal(ar(buf.data(), buf.data() + 1, 32, tuttiFloat32, tuttiSum, &ok, nullptr),
                  {tuttiInvalidArgument, "overlap"}, comm, "overlap");
    ASSERT_EQ(tuttiGroupStart(), tuttiSuccess);
    expectRefusal(ar(buf.data(), out.data(), 64, tuttiFloat32, tuttiSum, &ok, nullptr),
                  {tuttiInvalidUsage, "tuttiGroupStart"}, comm, "in a group");
    ASSERT_EQ(tuttiGroupEnd(), tuttiSuccess);
    // States: creation arguments, and one destroyed state reused.
    tuttiCompressState_t s2 = nullptr;
    expectRefusal(tuttiCompressStateCreate(&s2, 8, tuttiInt8, tuttiMemoryHost, comm),
                  {tuttiNotSupported, "not int8"}, nullptr, "state int8");
    expectRefusal(
        tuttiCompressStateCreate(&s2, 8, tuttiFloat32, static_cast<tuttiMemoryKind_t>(5), comm),
        {tuttiInvalidArgument, "memory 5"}, nullptr, "state memory");
    expectRefusal(tuttiCompressStateCreate(&s2, 8, tuttiFloat32, tuttiMemoryDevice, comm),
                  {tuttiInvalidArgument, "host-only"}, nullptr, "device state on host comm");
    expectRefusal(tuttiCompressStateCreate(nullptr, 8, tuttiFloat32, tuttiMemoryHost, comm),
                  {tuttiInvalidArgument, "state"}, nullptr, "NULL state pointer");
    size_t bytes = 0;
    EXPECT_EQ(tuttiCompressedSize(&ok, 1024, &bytes), tuttiSuccess);
    EXPECT_EQ(bytes, 1024u + 128u);
    EXPECT_EQ(tuttiCompressStateReset(st), tuttiSuccess);
    tuttiCompressStateDestroy(wrongCount);
    tuttiCompressStateDestroy(wrongType);
    tuttiCompressStateDestroy(st);
    // Nothing above touched the output.
    for (float v : out) ASSERT_EQ(v, -7.0f);
    // The communicator still works after every refusal.
    Case c{Kind::kAllReduce, "int8:32", tuttiFloat32, tuttiSum, 100, false};
    checkBound(c, rank, n, runCase(comm, rank, n, c, testSeed()), testSeed());
  });
}

}  // namespace
}  // namespace tutti::testing

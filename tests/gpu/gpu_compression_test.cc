// Compressed collectives on device buffers of 1 to 4 ranks (ranks share GPUs where there are
// fewer): every codec against the fp64 reference within its bound, bit-identical on every rank,
// bit-identical to the CPU path on the same data (the codecs are the same functions), device
// error-feedback states, in place and out of place, odd counts, direct and host-staged paths;
// and the inter-node-only mode on GPU "nodes" (TUTTI_RANKS_PER_NODE), against the host path too.
#include <cuda_runtime.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "gpu/gpu_testing.h"
#include "kernels/dtype_dispatch.h"
#include "multiproc/compression_check.h"
#include "testing/random.h"
#include "testing/run_ranks.h"

namespace tutti::testing {
namespace {

double boundFor(const std::string& codec) {
  if (codec == "bf16") return 5e-3;
  if (codec == "fp8_e4m3:32") return 5e-2;
  if (codec == "int8:32") return 1e-2;
  if (codec == "fp8_e5m2:64") return 1e-1;
  return -1;
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
  size_t count;
  bool inPlace;
  bool interNode = false;  // TUTTI_COMPRESS_INTER_NODE_ONLY
};

std::string describe(const Case& c) {
  static const char* kinds[] = {"AllReduce", "ReduceScatter", "AllGather"};
  return std::string(kinds[static_cast<int>(c.kind)]) + " " + c.codec +
         (c.interNode ? ",internode " : " ") + dtypeName(c.dtype) + " " + opName(c.op) + " count " +
         std::to_string(c.count) + (c.inPlace ? " in place" : "");
}

size_t inCountOf(const Case& c, int n) {
  return c.kind == Kind::kReduceScatter ? c.count * n : c.count;
}

tuttiResult_t issue(const Case& c, const void* send, void* recv, const tuttiCompression_t* comp,
                    tuttiCompressState_t state, tuttiComm_t comm, cudaStream_t stream) {
  switch (c.kind) {
    case Kind::kAllReduce:
      return tuttiAllReduceCompressed(send, recv, c.count, c.dtype, c.op, comp, state, comm,
                                      stream);
    case Kind::kReduceScatter:
      return tuttiReduceScatterCompressed(send, recv, c.count, c.dtype, c.op, comp, state, comm,
                                          stream);
    default:
      return tuttiAllGatherCompressed(send, recv, c.count, c.dtype, comp, state, comm, stream);
  }
}

// Runs the case on `input` (this rank's, inCountOf elements of c.dtype) on device buffers and,
// when hostOut is not null, on host buffers of the same comm; returns the device output (host
// copy) and the host-path output.
void runOn(tuttiComm_t comm, int rank, int n, const Case& c, const std::vector<char>& input,
           cudaStream_t stream, std::vector<char>* devOut, std::vector<char>* hostOut) {
  const size_t es = dtypeSize(c.dtype);
  const size_t inCount = inCountOf(c, n);
  const size_t outCount = c.kind == Kind::kAllGather ? c.count * n : c.count;
  const size_t bufCount = std::max(inCount, outCount);
  const tuttiCompression_t comp = compressionOf(c.codec + (c.interNode ? ",internode" : ""));
  const size_t sendOff = c.inPlace && c.kind == Kind::kAllGather ? rank * c.count * es : 0;
  const size_t recvOff = c.inPlace && c.kind == Kind::kReduceScatter ? rank * c.count * es : 0;
  for (bool device : {true, false}) {
    if (!device && !hostOut) break;
    tuttiCompressState_t state = nullptr;
    if (needsState(c.codec)) {
      ASSERT_EQ(tuttiCompressStateCreate(&state, inCount, c.dtype,
                                         device ? tuttiMemoryDevice : tuttiMemoryHost, comm),
                tuttiSuccess)
          << tuttiGetLastError(comm);
    }
    std::vector<char>* out = device ? devOut : hostOut;
    out->assign(outCount * es, 0);
    if (device) {
      char *dsend = nullptr, *drecv = nullptr;
      CUDA_OK(cudaMalloc(&dsend, inCount * es + 16));
      CUDA_OK(cudaMalloc(&drecv, bufCount * es + 16));
      char* send = c.inPlace ? drecv + sendOff : dsend;
      CUDA_OK(cudaMemcpy(send, input.data(), inCount * es, cudaMemcpyHostToDevice));
      CUDA_OK(cudaDeviceSynchronize());
      ASSERT_EQ(issue(c, send, drecv + recvOff, &comp, state, comm, stream), tuttiSuccess)
          << describe(c) << ": " << tuttiGetLastError(comm);
      CUDA_OK(cudaStreamSynchronize(stream));
      CUDA_OK(cudaMemcpy(out->data(), drecv + recvOff, outCount * es, cudaMemcpyDeviceToHost));
      cudaFree(dsend);
      cudaFree(drecv);
    } else {
      std::vector<char> hsend(inCount * es), hrecv(bufCount * es);
      char* send = c.inPlace ? hrecv.data() + sendOff : hsend.data();
      memcpy(send, input.data(), inCount * es);
      ASSERT_EQ(issue(c, send, hrecv.data() + recvOff, &comp, state, comm, nullptr), tuttiSuccess)
          << describe(c) << ": " << tuttiGetLastError(comm);
      memcpy(out->data(), hrecv.data() + recvOff, outCount * es);
    }
    tuttiCompressStateDestroy(state);
  }
}

// runOn with this rank's Gaussian input.
void runBoth(tuttiComm_t comm, int rank, int n, const Case& c, uint64_t seed, cudaStream_t stream,
             std::vector<char>* devOut, std::vector<char>* hostOut) {
  std::vector<char> input(inCountOf(c, n) * dtypeSize(c.dtype));
  fillGaussian(input.data(), inCountOf(c, n), seed, rank, c.dtype);
  runOn(comm, rank, n, c, input, stream, devOut, hostOut);
}

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

void sweep(int nranks, bool staged) {
  SKIP_WITHOUT_GPUS(nranks);
  if (staged) setenv("TUTTI_P2P_DISABLE", "1", 1);
  const uint64_t seed = testSeed();
  RankOptions opt;
  opt.createComm = false;
  opt.timeoutSec = 600;
  runRanks(
      nranks,
      [&](tuttiComm_t, int rank, int n) {
        CUDA_OK(cudaSetDevice(gpuForRank(rank)));
        cudaStream_t stream;
        CUDA_OK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
        tuttiComm_t comm = nullptr;
        ASSERT_EQ(tuttiCommInitRank(&comm, n, currentUniqueId(), rank), tuttiSuccess)
            << tuttiGetLastError(nullptr);
        int failures = 0;
        for (const std::string codec :
             {"bf16", "fp8_e4m3:32", "fp8_e5m2:64", "int8:32", "int8:128", "sign1:32", "topk:0.01"})
          for (Kind kind : {Kind::kAllReduce, Kind::kReduceScatter, Kind::kAllGather})
            for (tuttiDataType_t dtype : {tuttiFloat32, tuttiBfloat16, tuttiFloat16})
              for (size_t count : {size_t{1}, size_t{1001}, size_t{300007}})
                for (bool inPlace : {false, true}) {
                  if (dtype != tuttiFloat32 && (count != 300007 || inPlace)) continue;
                  Case c{kind,  codec,  dtype, kind == Kind::kAllGather ? tuttiSum : tuttiAvg,
                         count, inPlace};
                  std::vector<char> dev, host;
                  runBoth(comm, rank, n, c, seed, stream, &dev, &host);
                  if (::testing::Test::HasFatalFailure()) return;
                  const std::string where = "rank " + std::to_string(rank) + ": " + describe(c) +
                                            " seed " + std::to_string(seed);
                  // The GPU kernels compute the CPU codecs' bits.
                  if (dev != host && failures++ < 6)
                    ADD_FAILURE() << where << ": device output differs from the host path's";
                  if (kind != Kind::kReduceScatter) {
                    std::string diff = sameOnEveryRank(comm, dev.data(), dev.size());
                    if (!diff.empty() && failures++ < 6) ADD_FAILURE() << where << ":" << diff;
                  }
                  const double err = relativeL2(dev.data(), dtype, reference(c, rank, n, seed));
                  const double bound = boundFor(codec);
                  if (count == 300007 && bound > 0 && !(err <= bound) && failures++ < 6)
                    ADD_FAILURE() << where << ": relative L2 error " << err << " > " << bound;
                }
        tuttiCommDestroy(comm);
        cudaStreamDestroy(stream);
      },
      opt);
  if (staged) unsetenv("TUTTI_P2P_DISABLE");
}

class GpuCompressionTest : public ::testing::TestWithParam<int> {};

TEST_P(GpuCompressionTest, EveryCodecMatchesTheCpuPath) { sweep(GetParam(), false); }

INSTANTIATE_TEST_SUITE_P(Gpus, GpuCompressionTest, ::testing::Values(1, 2, 3, 4),
                         [](const ::testing::TestParamInfo<int>& i) {
                           return std::to_string(i.param) + "ranks";
                         });

TEST(GpuCompressionStaged, TwoRanksThroughHostStaging) { sweep(2, true); }

// Device states: error feedback on device buffers keeps the running sum within one call's
// error (as on the CPU), and a state of the wrong memory kind is refused.
TEST(GpuCompression, DeviceErrorFeedbackAndStatePlacement) {
  SKIP_WITHOUT_GPUS(2);
  const uint64_t seed = testSeed();
  RankOptions opt;
  opt.createComm = false;
  runRanks(
      2,
      [&](tuttiComm_t, int rank, int n) {
        CUDA_OK(cudaSetDevice(gpuForRank(rank)));
        cudaStream_t stream;
        CUDA_OK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
        tuttiComm_t comm = nullptr;
        ASSERT_EQ(tuttiCommInitRank(&comm, n, currentUniqueId(), rank), tuttiSuccess);
        const size_t count = 65537;
        std::vector<float> in(count), out(count);
        fillGaussian(in.data(), count, seed, rank, tuttiFloat32);
        std::vector<double> exact(count, 0.0);
        for (size_t i = 0; i < count; ++i)
          for (int r = 0; r < n; ++r) exact[i] += gaussianInput(seed, r, i, tuttiFloat32);
        float *din = nullptr, *dout = nullptr;
        CUDA_OK(cudaMalloc(&din, count * 4));
        CUDA_OK(cudaMalloc(&dout, count * 4));
        CUDA_OK(cudaMemcpy(din, in.data(), count * 4, cudaMemcpyHostToDevice));
        tuttiCompression_t comp = compressionOf("int8:32");
        tuttiCompressState_t hostState = nullptr, devState = nullptr;
        ASSERT_EQ(tuttiCompressStateCreate(&hostState, count, tuttiFloat32, tuttiMemoryHost, comm),
                  tuttiSuccess);
        EXPECT_EQ(tuttiAllReduceCompressed(din, dout, count, tuttiFloat32, tuttiSum, &comp,
                                           hostState, comm, stream),
                  tuttiInvalidArgument);
        ASSERT_EQ(tuttiCompressStateCreate(&devState, count, tuttiFloat32, tuttiMemoryDevice, comm),
                  tuttiSuccess)
            << tuttiGetLastError(comm);
        std::vector<double> running(count, 0.0);
        double first = 0, run = 0;
        for (int t = 0; t < 100; ++t) {
          ASSERT_EQ(tuttiAllReduceCompressed(din, dout, count, tuttiFloat32, tuttiSum, &comp,
                                             devState, comm, stream),
                    tuttiSuccess)
              << tuttiGetLastError(comm);
          CUDA_OK(cudaStreamSynchronize(stream));
          CUDA_OK(cudaMemcpy(out.data(), dout, count * 4, cudaMemcpyDeviceToHost));
          for (size_t i = 0; i < count; ++i) {
            running[i] += out[i];
            if (t == 0) first += (out[i] - exact[i]) * (out[i] - exact[i]);
          }
        }
        for (size_t i = 0; i < count; ++i)
          run += (running[i] - 100 * exact[i]) * (running[i] - 100 * exact[i]);
        EXPECT_LE(std::sqrt(run), 1.25 * std::sqrt(first)) << "seed " << seed;
        tuttiCompressStateDestroy(hostState);
        tuttiCompressStateDestroy(devState);
        cudaFree(din);
        cudaFree(dout);
        tuttiCommDestroy(comm);
        cudaStreamDestroy(stream);
      },
      opt);
}

// ---- Inter-node-only mode on GPU "nodes" ------------------------------------------------

// TUTTI_RANKS_PER_NODE=perNode makes nodes of consecutive ranks. With the inter-node-only flag
// the device path runs phases A-D (exact inside a node, encoded across nodes): it must give the
// host path's bits on the same communicator, the same bits on every rank (AllReduce) and the
// codec's accuracy. And about the accuracy of encoding every exchange (fp32 data): each element
// then carries N encoding errors of node sums (about sqrt(L) times larger) instead of N L of
// single inputs, the same error energy.
void sweepNodes(int nranks, int perNode, const std::vector<std::string>& codecs,
                const std::vector<size_t>& counts) {
  SKIP_WITHOUT_GPUS(nranks);
  const uint64_t seed = testSeed();
  RankOptions opt;
  opt.createComm = false;
  opt.timeoutSec = 300;
  opt.env = {{"TUTTI_RANKS_PER_NODE", std::to_string(perNode)}};
  runRanks(
      nranks,
      [&](tuttiComm_t, int rank, int n) {
        CUDA_OK(cudaSetDevice(gpuForRank(rank)));
        cudaStream_t stream;
        CUDA_OK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
        tuttiComm_t comm = nullptr;
        ASSERT_EQ(tuttiCommInitRank(&comm, n, currentUniqueId(), rank), tuttiSuccess)
            << tuttiGetLastError(nullptr);
        int failures = 0;
        for (const std::string& codec : codecs)
          for (Kind kind : {Kind::kAllReduce, Kind::kReduceScatter})
            for (tuttiDataType_t dtype : {tuttiFloat32, tuttiBfloat16})
              for (size_t count : counts)
                for (bool inPlace : {false, true})
                  for (tuttiRedOp_t op : {tuttiSum, tuttiAvg}) {
                    if (dtype != tuttiFloat32 && (count != counts.back() || inPlace)) continue;
                    const Case c{kind, codec, dtype, op, count, inPlace, true};
                    std::vector<char> dev, host;
                    runBoth(comm, rank, n, c, seed, stream, &dev, &host);
                    if (::testing::Test::HasFatalFailure()) return;
                    const std::string where = "rank " + std::to_string(rank) + ": " + describe(c) +
                                              " seed " + std::to_string(seed);
                    if (dev != host && failures++ < 6)
                      ADD_FAILURE() << where << ": device output differs from the host path's";
                    if (kind == Kind::kAllReduce) {
                      std::string diff = sameOnEveryRank(comm, dev.data(), dev.size());
                      if (!diff.empty() && failures++ < 6) ADD_FAILURE() << where << ":" << diff;
                    }
                    if (count != counts.back()) continue;
                    const std::vector<double> want = reference(c, rank, n, seed);
                    const double err = relativeL2(dev.data(), dtype, want);
                    const double bound = boundFor(codec);
                    if (bound > 0 && !(err <= bound) && failures++ < 6)
                      ADD_FAILURE() << where << ": relative L2 error " << err << " > " << bound;
                    if (dtype != tuttiFloat32 || inPlace) continue;
                    Case flat = c;
                    flat.interNode = false;
                    std::vector<char> flatOut;
                    runBoth(comm, rank, n, flat, seed, stream, &flatOut, nullptr);
                    if (::testing::Test::HasFatalFailure()) return;
                    const double flatErr = relativeL2(flatOut.data(), dtype, want);
                    if (!(err <= 1.25 * flatErr) && failures++ < 6)
                      ADD_FAILURE() << where << ": relative L2 error " << err << " with the flag, "
                                    << flatErr << " without";
                  }
        tuttiCommDestroy(comm);
        cudaStreamDestroy(stream);
      },
      opt);
}

TEST(GpuCompressionNodes, TwoNodesOfTwoRanksMatchTheHostPath) {
  sweepNodes(4, 2, {"bf16", "fp8_e4m3:32", "int8:32", "sign1:32"}, {1, 1001, 300007});
}

TEST(GpuCompressionNodes, TwoNodesOfThreeRanksMatchTheHostPath) {
  sweepNodes(6, 3, {"int8:32", "sign1:32"}, {1001, 300007});
}

// The intra-node exchanges carry exact values: on each node the local index 0 holds x, the local
// index 1 holds 1 - x (x in [0, 1)) and the others 0, so every node sum is 1 to within an ulp,
// which every codec encodes almost exactly. Encoding every exchange loses a fraction of x
// instead with fp8 and int8 (bf16 and 1-bit happen to be exact flat on these inputs too). One
// node's x differs from another's.
TEST(GpuCompressionNodes, IntraNodeExchangesStayExact) {
  SKIP_WITHOUT_GPUS(4);
  const int perNode = 2;
  const uint64_t seed = testSeed();
  RankOptions opt;
  opt.createComm = false;
  opt.env = {{"TUTTI_RANKS_PER_NODE", std::to_string(perNode)}};
  runRanks(
      4,
      [&](tuttiComm_t, int rank, int n) {
        CUDA_OK(cudaSetDevice(gpuForRank(rank)));
        cudaStream_t stream;
        CUDA_OK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
        tuttiComm_t comm = nullptr;
        ASSERT_EQ(tuttiCommInitRank(&comm, n, currentUniqueId(), rank), tuttiSuccess)
            << tuttiGetLastError(nullptr);
        auto x = [&](int node, size_t i) {
          const uint64_t h =
              (seed + 0x9e3779b97f4a7c15ull * (node + 1)) ^ (i * 0xbf58476d1ce4e5b9ull);
          return static_cast<float>((h >> 11) % 1000003) / 1000003.0f;
        };
        auto inputOf = [&](int r, size_t i) {
          const int local = r % perNode, node = r / perNode;
          return local == 0 ? x(node, i) : local == 1 ? 1.0f - x(node, i) : 0.0f;
        };
        const size_t count = 65537;
        for (const std::string codec : {"bf16", "fp8_e4m3:32", "int8:32", "sign1:32"})
          for (Kind kind : {Kind::kAllReduce, Kind::kReduceScatter}) {
            Case c{kind, codec, tuttiFloat32, tuttiSum, count, false, true};
            const size_t inCount = inCountOf(c, n);
            std::vector<char> input(inCount * sizeof(float));
            for (size_t i = 0; i < inCount; ++i)
              reinterpret_cast<float*>(input.data())[i] = inputOf(rank, i);
            std::vector<double> want(count, 0.0);
            for (size_t i = 0; i < count; ++i)
              for (int r = 0; r < n; ++r)
                want[i] += inputOf(r, kind == Kind::kReduceScatter ? rank * count + i : i);
            std::vector<char> exact, flat;
            runOn(comm, rank, n, c, input, stream, &exact, nullptr);
            c.interNode = false;
            runOn(comm, rank, n, c, input, stream, &flat, nullptr);
            if (::testing::Test::HasFatalFailure()) return;
            const double errExact = relativeL2(exact.data(), tuttiFloat32, want);
            const double errFlat = relativeL2(flat.data(), tuttiFloat32, want);
            EXPECT_LT(errExact, 1e-5) << "rank " << rank << ": " << describe(c) << " seed " << seed
                                      << ": the flag's node sums were not exact";
            // bf16 and 1-bit lose nothing flat on this data either: bf16(x) + bf16(1 - x)
            // mostly rounds back to 1, and 1-bit's block means of x and 1 - x add to 1.
            if (codec == "fp8_e4m3:32" || codec == "int8:32") {
              EXPECT_GT(errFlat, 1e-4) << "rank " << rank << ": " << describe(c) << " seed " << seed
                                       << ": encoding every exchange should lose more";
            }
          }
        tuttiCommDestroy(comm);
        cudaStreamDestroy(stream);
      },
      opt);
}

}  // namespace
}  // namespace tutti::testing

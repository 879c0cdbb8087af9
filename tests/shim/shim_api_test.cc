// Single-process tests of libnccl.so.2: the library loaded is Tutti's, every entry point's
// argument checks and error sentences, config versioning, one-thread multi-rank use (InitAll,
// grouped init, grouped split and finalize), memory and registration calls, unsupported
// features, and the NCCL_* environment mapping.
#include <gtest/gtest.h>
#include <limits.h>
#include <nccl.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "nccl_ranks.h"
#include "nccl_reference.h"

// The device API is declared in nccl_device/*.h; only its host entry points matter here.
extern "C" ncclResult_t ncclDevCommCreate(ncclComm_t, const void*, void*);

using namespace shimtest;

namespace {

#define SHIM_OK(call, comm) \
  ASSERT_EQ((call), ncclSuccess) << #call << ": " << ncclGetLastError(comm)

std::string lastError() { return ncclGetLastError(nullptr); }

// A one-rank communicator of this process: argument checks need no peers.
class OneRank : public ::testing::Test {
 protected:
  void SetUp() override {
    ncclUniqueId id;
    SHIM_OK(ncclGetUniqueId(&id), nullptr);
    SHIM_OK(ncclCommInitRank(&comm_, 1, id, 0), nullptr);
  }
  void TearDown() override {
    if (comm_) {
      EXPECT_EQ(ncclCommDestroy(comm_), ncclSuccess) << lastError();
    }
  }
  ncclComm_t comm_ = nullptr;
};

TEST(ShimLibrary, LoadedLibncclIsTuttis) {
  char shim[PATH_MAX];
  ASSERT_NE(realpath(SHIM_LIBRARY_PATH, shim), nullptr) << SHIM_LIBRARY_PATH;
  std::ifstream maps("/proc/self/maps");
  std::set<std::string> loaded;
  for (std::string line; std::getline(maps, line);) {
    size_t slash = line.find('/');
    if (slash != std::string::npos && line.find("libnccl.so") != std::string::npos)
      loaded.insert(line.substr(slash));
  }
  ASSERT_EQ(loaded.size(), 1u) << "more than one libnccl mapped";
  char real[PATH_MAX];
  ASSERT_NE(realpath(loaded.begin()->c_str(), real), nullptr);
  EXPECT_STREQ(real, shim);
}

TEST(ShimLibrary, VersionIsTheHeaders) {
  int v = 0;
  SHIM_OK(ncclGetVersion(&v), nullptr);
  EXPECT_EQ(v, NCCL_VERSION_CODE);
  EXPECT_EQ(v, 22809);
  EXPECT_EQ(ncclGetVersion(nullptr), ncclInvalidArgument);
  EXPECT_NE(lastError().find("version"), std::string::npos) << lastError();
}

TEST(ShimLibrary, ErrorStrings) {
  std::set<std::string> seen;
  for (int r = ncclSuccess; r < ncclNumResults; ++r) {
    const char* s = ncclGetErrorString(static_cast<ncclResult_t>(r));
    ASSERT_NE(s, nullptr);
    EXPECT_NE(std::string(s), "");
    seen.insert(s);
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(ncclNumResults));
  EXPECT_STREQ(ncclGetErrorString(static_cast<ncclResult_t>(1234)), "unknown result code");
  EXPECT_STREQ(ncclGetErrorString(static_cast<ncclResult_t>(-1)), "unknown result code");
}

TEST(ShimLibrary, LastErrorIsStickyAndNamesTheArgument) {
  EXPECT_EQ(ncclGetUniqueId(nullptr), ncclInvalidArgument);
  EXPECT_NE(lastError().find("uniqueId"), std::string::npos) << lastError();
  int v;
  SHIM_OK(ncclGetVersion(&v), nullptr);
  EXPECT_NE(lastError().find("uniqueId"), std::string::npos) << "cleared by a successful call";
}

TEST(ShimLibrary, NullAndStaleCommunicatorsAreRefused) {
  int fake = 0;
  for (ncclComm_t c : {static_cast<ncclComm_t>(nullptr), reinterpret_cast<ncclComm_t>(&fake)}) {
    SCOPED_TRACE(c ? "foreign handle" : "NULL handle");
    float x = 0;
    int i = 0;
    void* h = nullptr;
    ncclResult_t a;
    ncclRedOp_t op;
    ncclWindow_t w;
    ncclComm_t out = nullptr;
    EXPECT_EQ(ncclAllReduce(&x, &x, 1, ncclFloat32, ncclSum, c, nullptr), ncclInvalidArgument);
    EXPECT_EQ(ncclBroadcast(&x, &x, 1, ncclFloat32, 0, c, nullptr), ncclInvalidArgument);
    EXPECT_EQ(ncclBcast(&x, 1, ncclFloat32, 0, c, nullptr), ncclInvalidArgument);
    EXPECT_EQ(ncclReduce(&x, &x, 1, ncclFloat32, ncclSum, 0, c, nullptr), ncclInvalidArgument);
    EXPECT_EQ(ncclAllGather(&x, &x, 1, ncclFloat32, c, nullptr), ncclInvalidArgument);
    EXPECT_EQ(ncclReduceScatter(&x, &x, 1, ncclFloat32, ncclSum, c, nullptr), ncclInvalidArgument);
    EXPECT_EQ(ncclAlltoAll(&x, &x, 1, ncclFloat32, c, nullptr), ncclInvalidArgument);
    EXPECT_EQ(ncclGather(&x, &x, 1, ncclFloat32, 0, c, nullptr), ncclInvalidArgument);
    EXPECT_EQ(ncclScatter(&x, &x, 1, ncclFloat32, 0, c, nullptr), ncclInvalidArgument);
    EXPECT_EQ(ncclSend(&x, 1, ncclFloat32, 0, c, nullptr), ncclInvalidArgument);
    EXPECT_EQ(ncclRecv(&x, 1, ncclFloat32, 0, c, nullptr), ncclInvalidArgument);
    EXPECT_EQ(ncclCommCount(c, &i), ncclInvalidArgument);
    EXPECT_EQ(ncclCommUserRank(c, &i), ncclInvalidArgument);
    EXPECT_EQ(ncclCommCuDevice(c, &i), ncclInvalidArgument);
    EXPECT_EQ(ncclCommGetAsyncError(c, &a), ncclInvalidArgument);
    EXPECT_EQ(ncclCommFinalize(c), ncclInvalidArgument);
    EXPECT_EQ(ncclCommRevoke(c, 0), ncclInvalidArgument);
    EXPECT_EQ(ncclCommSplit(c, 0, 0, &out, nullptr), ncclInvalidArgument);
    EXPECT_EQ(ncclCommShrink(c, nullptr, 0, &out, nullptr, 0), ncclInvalidArgument);
    EXPECT_EQ(ncclCommRegister(c, &x, 4, &h), ncclInvalidArgument);
    EXPECT_EQ(ncclCommDeregister(c, h), ncclInvalidArgument);
    EXPECT_EQ(ncclCommWindowRegister(c, &x, 4, &w, 0), ncclInvalidArgument);
    EXPECT_EQ(ncclCommWindowDeregister(c, nullptr), ncclInvalidArgument);
    EXPECT_EQ(ncclRedOpCreatePreMulSum(&op, &x, ncclFloat32, ncclScalarHostImmediate, c),
              ncclInvalidArgument);
    EXPECT_EQ(ncclRedOpDestroy(static_cast<ncclRedOp_t>(ncclNumOps), c), ncclInvalidArgument);
    EXPECT_NE(lastError(), "");
    // Destroy and abort accept NULL like free(NULL); a foreign handle is refused.
    EXPECT_EQ(ncclCommDestroy(c), c ? ncclInvalidArgument : ncclSuccess);
    EXPECT_EQ(ncclCommAbort(c), c ? ncclInvalidArgument : ncclSuccess);
  }
}

TEST(ShimLibrary, InitArgumentErrors) {
  ncclUniqueId id;
  SHIM_OK(ncclGetUniqueId(&id), nullptr);
  ncclComm_t c = nullptr;
  EXPECT_EQ(ncclCommInitRank(nullptr, 1, id, 0), ncclInvalidArgument);
  EXPECT_EQ(ncclCommInitRank(&c, 0, id, 0), ncclInvalidArgument);
  EXPECT_EQ(ncclCommInitRank(&c, 2, id, 2), ncclInvalidArgument);
  EXPECT_NE(lastError().find("rank 2"), std::string::npos) << lastError();
  EXPECT_EQ(ncclCommInitRank(&c, 2, id, -1), ncclInvalidArgument);
  ncclUniqueId garbage;
  memset(&garbage, 0x11, sizeof(garbage));
  EXPECT_EQ(ncclCommInitRank(&c, 1, garbage, 0), ncclInvalidArgument);
  EXPECT_EQ(c, nullptr);
  EXPECT_EQ(ncclCommInitRankScalable(&c, 1, 0, 0, &id, nullptr), ncclInvalidArgument);
  EXPECT_EQ(ncclCommInitRankScalable(&c, 1, 0, 1, nullptr, nullptr), ncclInvalidArgument);
  EXPECT_EQ(ncclCommInitAll(nullptr, 1, nullptr), ncclInvalidArgument);
  EXPECT_EQ(ncclCommInitAll(&c, 0, nullptr), ncclInvalidArgument);
}

TEST(ShimLibrary, ConfigVersioning) {
  ncclUniqueId id;
  ncclComm_t c = nullptr;
  ncclConfig_t bad = NCCL_CONFIG_INITIALIZER;
  bad.magic = 0;
  EXPECT_EQ(ncclCommInitRankConfig(&c, 1, id, 0, &bad), ncclInvalidArgument);
  EXPECT_NE(lastError().find("NCCL_CONFIG_INITIALIZER"), std::string::npos) << lastError();
  ncclConfig_t blocking = NCCL_CONFIG_INITIALIZER;
  blocking.blocking = 2;
  EXPECT_EQ(ncclCommInitRankConfig(&c, 1, id, 0, &blocking), ncclInvalidArgument);
  ncclConfig_t ctas = NCCL_CONFIG_INITIALIZER;
  ctas.minCTAs = 8;
  ctas.maxCTAs = 2;
  EXPECT_EQ(ncclCommInitRankConfig(&c, 1, id, 0, &ctas), ncclInvalidArgument);
  ncclConfig_t tiny = NCCL_CONFIG_INITIALIZER;
  tiny.size = 8;
  EXPECT_EQ(ncclCommInitRankConfig(&c, 1, id, 0, &tiny), ncclInvalidArgument);
  // A caller compiled against an older, shorter ncclConfig_t (2.17 ended after commName):
  // fields past its size are never read, however they are set here.
  ncclConfig_t older = NCCL_CONFIG_INITIALIZER;
  older.size = offsetof(ncclConfig_t, collnetEnable);
  older.commName = "older-caller";
  older.collnetEnable = 12345;
  older.nvlsCTAs = -7;
  SHIM_OK(ncclGetUniqueId(&id), nullptr);
  SHIM_OK(ncclCommInitRankConfig(&c, 1, id, 0, &older), nullptr);
  // Every current field set, hints included.
  ncclConfig_t full = NCCL_CONFIG_INITIALIZER;
  full.blocking = 1;
  full.cgaClusterSize = 2;
  full.minCTAs = 1;
  full.maxCTAs = 16;
  full.netName = "Socket";
  full.splitShare = 1;
  full.trafficClass = 3;
  full.commName = "full";
  full.collnetEnable = 0;
  full.CTAPolicy = NCCL_CTA_POLICY_EFFICIENCY;
  full.shrinkShare = 0;
  full.nvlsCTAs = 1;
  full.nChannelsPerNetPeer = 2;
  full.nvlinkCentricSched = 0;
  ncclComm_t child = nullptr;
  SHIM_OK(ncclCommSplit(c, 0, 0, &child, &full), c);
  SHIM_OK(ncclCommDestroy(child), child);
  SHIM_OK(ncclCommDestroy(c), c);
}

TEST_F(OneRank, Queries) {
  int n = 0, r = -1, dev = 99;
  SHIM_OK(ncclCommCount(comm_, &n), comm_);
  SHIM_OK(ncclCommUserRank(comm_, &r), comm_);
  SHIM_OK(ncclCommCuDevice(comm_, &dev), comm_);
  EXPECT_EQ(n, 1);
  EXPECT_EQ(r, 0);
  EXPECT_GE(dev, -1);
  ncclResult_t async = ncclInternalError;
  SHIM_OK(ncclCommGetAsyncError(comm_, &async), comm_);
  EXPECT_EQ(async, ncclSuccess);
  EXPECT_EQ(ncclCommCount(comm_, nullptr), ncclInvalidArgument);
  EXPECT_EQ(ncclCommUserRank(comm_, nullptr), ncclInvalidArgument);
  EXPECT_EQ(ncclCommCuDevice(comm_, nullptr), ncclInvalidArgument);
  EXPECT_EQ(ncclCommGetAsyncError(comm_, nullptr), ncclInvalidArgument);
}

TEST_F(OneRank, CollectiveArgumentErrors) {
  std::vector<float> x(16, 2.0f), y(16);
  auto expectInvalid = [&](ncclResult_t r, const char* word) {
    EXPECT_EQ(r, ncclInvalidArgument);
    EXPECT_NE(lastError().find(word), std::string::npos) << lastError();
    EXPECT_NE(std::string(ncclGetLastError(comm_)).find(word), std::string::npos);
  };
  for (int t : {-1, static_cast<int>(ncclNumTypes), 77})
    expectInvalid(ncclAllReduce(x.data(), y.data(), 4, static_cast<ncclDataType_t>(t), ncclSum,
                                comm_, nullptr),
                  "datatype");
  for (int op : {-1, static_cast<int>(ncclNumOps), ncclNumOps + 40})
    expectInvalid(ncclAllReduce(x.data(), y.data(), 4, ncclFloat32, static_cast<ncclRedOp_t>(op),
                                comm_, nullptr),
                  "op");
  expectInvalid(ncclReduceScatter(x.data(), y.data(), 4, ncclFloat32,
                                  static_cast<ncclRedOp_t>(ncclNumOps + 2), comm_, nullptr),
                "op");
  expectInvalid(ncclBroadcast(x.data(), y.data(), 4, ncclFloat32, 1, comm_, nullptr), "root 1");
  expectInvalid(ncclReduce(x.data(), y.data(), 4, ncclFloat32, ncclSum, -1, comm_, nullptr),
                "root -1");
  expectInvalid(ncclGather(x.data(), y.data(), 4, ncclFloat32, 3, comm_, nullptr), "root 3");
  expectInvalid(ncclScatter(x.data(), y.data(), 4, ncclFloat32, 3, comm_, nullptr), "root 3");
  expectInvalid(ncclSend(x.data(), 4, ncclFloat32, 1, comm_, nullptr), "peer 1");
  expectInvalid(ncclRecv(y.data(), 4, ncclFloat32, -2, comm_, nullptr), "peer -2");
  expectInvalid(ncclAllReduce(nullptr, y.data(), 4, ncclFloat32, ncclSum, comm_, nullptr),
                "sendbuff");
  expectInvalid(ncclAllReduce(x.data(), nullptr, 4, ncclFloat32, ncclSum, comm_, nullptr),
                "recvbuff");
  expectInvalid(ncclAllGather(x.data(), y.data(), SIZE_MAX / 2, ncclFloat32, comm_, nullptr),
                "overflow");
  expectInvalid(ncclAlltoAll(x.data(), y.data(), SIZE_MAX, ncclInt8, comm_, nullptr), "overflow");
  // Overlapping buffers that are not in place: Tutti's own check, reported through the shim.
  EXPECT_EQ(ncclAllReduce(x.data(), x.data() + 1, 8, ncclFloat32, ncclSum, comm_, nullptr),
            ncclInvalidArgument);
  EXPECT_NE(lastError().find("overlap"), std::string::npos) << lastError();
  // Zero counts are legal everywhere and touch nothing, NULL buffers included.
  SHIM_OK(ncclAllReduce(nullptr, nullptr, 0, ncclFloat32, ncclSum, comm_, nullptr), comm_);
  SHIM_OK(ncclGather(nullptr, nullptr, 0, ncclFloat32, 0, comm_, nullptr), comm_);
  EXPECT_EQ(x[0], 2.0f);
}

TEST_F(OneRank, EveryCollectiveOnOneRank) {
  std::vector<float> x(8), y(8, 0);
  for (int i = 0; i < 8; ++i) x[i] = static_cast<float>(i);
  SHIM_OK(ncclAllReduce(x.data(), y.data(), 8, ncclFloat32, ncclAvg, comm_, nullptr), comm_);
  EXPECT_EQ(y, x);
  SHIM_OK(ncclReduce(x.data(), y.data(), 8, ncclFloat32, ncclMax, 0, comm_, nullptr), comm_);
  SHIM_OK(ncclReduceScatter(x.data(), y.data(), 8, ncclFloat32, ncclMin, comm_, nullptr), comm_);
  SHIM_OK(ncclAllGather(x.data(), y.data(), 8, ncclFloat32, comm_, nullptr), comm_);
  SHIM_OK(ncclAlltoAll(x.data(), y.data(), 8, ncclFloat32, comm_, nullptr), comm_);
  SHIM_OK(ncclBroadcast(x.data(), y.data(), 8, ncclFloat32, 0, comm_, nullptr), comm_);
  SHIM_OK(ncclBcast(y.data(), 8, ncclFloat32, 0, comm_, nullptr), comm_);
  std::fill(y.begin(), y.end(), 0.0f);
  SHIM_OK(ncclGather(x.data(), y.data(), 8, ncclFloat32, 0, comm_, nullptr), comm_);
  EXPECT_EQ(y, x);
  std::fill(y.begin(), y.end(), 0.0f);
  SHIM_OK(ncclScatter(x.data(), y.data(), 8, ncclFloat32, 0, comm_, nullptr), comm_);
  EXPECT_EQ(y, x);
  SHIM_OK(ncclGroupStart(), comm_);
  SHIM_OK(ncclSend(x.data(), 8, ncclFloat32, 0, comm_, nullptr), comm_);
  SHIM_OK(ncclRecv(y.data(), 8, ncclFloat32, 0, comm_, nullptr), comm_);
  SHIM_OK(ncclGroupEnd(), comm_);
  EXPECT_EQ(y, x);
}

TEST_F(OneRank, PreMulSumArguments) {
  float s = 2;
  ncclRedOp_t op;
  EXPECT_EQ(ncclRedOpCreatePreMulSum(nullptr, &s, ncclFloat32, ncclScalarHostImmediate, comm_),
            ncclInvalidArgument);
  EXPECT_EQ(ncclRedOpCreatePreMulSum(&op, nullptr, ncclFloat32, ncclScalarHostImmediate, comm_),
            ncclInvalidArgument);
  EXPECT_EQ(ncclRedOpCreatePreMulSum(&op, &s, static_cast<ncclDataType_t>(12),
                                     ncclScalarHostImmediate, comm_),
            ncclInvalidArgument);
  EXPECT_EQ(
      ncclRedOpCreatePreMulSum(&op, &s, ncclFloat32, static_cast<ncclScalarResidence_t>(5), comm_),
      ncclInvalidArgument);
  EXPECT_EQ(ncclRedOpDestroy(ncclSum, comm_), ncclInvalidArgument);
  // Slots are reused after destroy; distinct live ops get distinct handles.
  ncclRedOp_t a, b;
  SHIM_OK(ncclRedOpCreatePreMulSum(&a, &s, ncclFloat32, ncclScalarHostImmediate, comm_), comm_);
  SHIM_OK(ncclRedOpCreatePreMulSum(&b, &s, ncclFloat32, ncclScalarHostImmediate, comm_), comm_);
  EXPECT_GE(static_cast<int>(a), static_cast<int>(ncclNumOps));
  EXPECT_NE(a, b);
  std::vector<float> x(4, 3.0f);
  SHIM_OK(ncclAllReduce(x.data(), x.data(), 4, ncclFloat32, b, comm_, nullptr), comm_);
  EXPECT_EQ(x[3], 6.0f);
  SHIM_OK(ncclRedOpDestroy(a, comm_), comm_);
  SHIM_OK(ncclRedOpDestroy(b, comm_), comm_);
}

TEST_F(OneRank, GroupErrors) {
  EXPECT_EQ(ncclGroupEnd(), ncclInvalidUsage);
  EXPECT_NE(lastError().find("ncclGroupStart"), std::string::npos) << lastError();
  ncclSimInfo_t sim = NCCL_SIM_INFO_INITIALIZER;
  EXPECT_EQ(ncclGroupSimulateEnd(&sim), ncclInvalidUsage);
  SHIM_OK(ncclGroupStart(), comm_);
  EXPECT_EQ(ncclGroupSimulateEnd(nullptr), ncclInvalidArgument);
  ncclSimInfo_t bad = NCCL_SIM_INFO_INITIALIZER;
  bad.magic = 1;
  EXPECT_EQ(ncclGroupSimulateEnd(&bad), ncclInvalidArgument);  // the group stays open
  SHIM_OK(ncclGroupStart(), comm_);                            // nested
  std::vector<float> x(4, 1.0f);
  SHIM_OK(ncclAllReduce(x.data(), x.data(), 4, ncclFloat32, ncclSum, comm_, nullptr), comm_);
  SHIM_OK(ncclGroupEnd(), comm_);              // inner: nothing launched yet
  SHIM_OK(ncclGroupSimulateEnd(&sim), comm_);  // outer: estimated, dropped
  EXPECT_GT(sim.estimatedTime, 0.0f);
  EXPECT_EQ(ncclGroupEnd(), ncclInvalidUsage);  // closed
}

TEST_F(OneRank, RegistrationAndWindows) {
  std::vector<char> buf(4096);
  void* h = nullptr;
  SHIM_OK(ncclCommRegister(comm_, buf.data(), buf.size(), &h), comm_);
  EXPECT_NE(h, nullptr);
  EXPECT_EQ(ncclCommRegister(comm_, nullptr, 4, &h), ncclInvalidArgument);
  EXPECT_EQ(ncclCommRegister(comm_, buf.data(), 0, &h), ncclInvalidArgument);
  EXPECT_EQ(ncclCommRegister(comm_, buf.data(), 4, nullptr), ncclInvalidArgument);
  void* h2 = nullptr;
  SHIM_OK(ncclCommRegister(comm_, buf.data(), 64, &h2), comm_);
  SHIM_OK(ncclCommDeregister(comm_, h2), comm_);
  EXPECT_EQ(ncclCommDeregister(comm_, h2), ncclInvalidArgument);
  SHIM_OK(ncclCommDeregister(comm_, nullptr), comm_);
  int local = 0;
  EXPECT_EQ(ncclCommDeregister(comm_, &local), ncclInvalidArgument);
  // h stays registered: destroying the communicator releases it.
  ncclWindow_t win = reinterpret_cast<ncclWindow_t>(0x1);
  EXPECT_EQ(ncclCommWindowRegister(comm_, buf.data(), buf.size(), &win, NCCL_WIN_COLL_SYMMETRIC),
            ncclInvalidUsage);
  EXPECT_EQ(win, nullptr);
  EXPECT_NE(lastError().find("not supported"), std::string::npos) << lastError();
  SHIM_OK(ncclCommWindowDeregister(comm_, nullptr), comm_);
  EXPECT_EQ(ncclCommWindowDeregister(comm_, reinterpret_cast<ncclWindow_t>(&local)),
            ncclInvalidArgument);
}

TEST_F(OneRank, DeviceApiIsRefused) {
  EXPECT_EQ(ncclDevCommCreate(comm_, nullptr, nullptr), ncclInvalidUsage);
  EXPECT_NE(lastError().find("device API"), std::string::npos) << lastError();
}

TEST(ShimLibrary, MemAllocWithoutAGpuFailsCleanly) {
  void* p = reinterpret_cast<void*>(0x1);
  EXPECT_EQ(ncclMemAlloc(nullptr, 64), ncclInvalidArgument);
  EXPECT_EQ(ncclMemAlloc(&p, 0), ncclInvalidArgument);
  EXPECT_EQ(p, nullptr);
  SHIM_OK(ncclMemFree(nullptr), nullptr);
  ncclResult_t r = ncclMemAlloc(&p, 1 << 20);
  if (r == ncclSuccess) {  // a machine with a GPU
    EXPECT_NE(p, nullptr);
    SHIM_OK(ncclMemFree(p), nullptr);
  } else {
    EXPECT_TRUE(r == ncclSystemError || r == ncclUnhandledCudaError) << ncclGetErrorString(r);
    EXPECT_EQ(p, nullptr);
    EXPECT_NE(lastError(), "");
  }
}

TEST(ShimLibrary, ResetDebugInitIsHarmless) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  ncclResetDebugInit();
  pncclResetDebugInit();
#pragma GCC diagnostic pop
  int v = 0;
  EXPECT_EQ(pncclGetVersion(&v), ncclSuccess);  // profiling twins are the same functions
  EXPECT_EQ(v, NCCL_VERSION_CODE);
}

// One thread drives several ranks: InitAll, then grouped collectives across them.
TEST(ShimOneThread, InitAllAndGroupedCollectives) {
  constexpr int n = 3;
  ncclComm_t comms[n];
  SHIM_OK(ncclCommInitAll(comms, n, nullptr), nullptr);
  std::vector<std::vector<int32_t>> bufs(n, std::vector<int32_t>(100));
  for (int r = 0; r < n; ++r) std::fill(bufs[r].begin(), bufs[r].end(), r + 1);
  SHIM_OK(ncclGroupStart(), nullptr);
  for (int r = 0; r < n; ++r)
    SHIM_OK(
        ncclAllReduce(bufs[r].data(), bufs[r].data(), 100, ncclInt32, ncclSum, comms[r], nullptr),
        comms[r]);
  SHIM_OK(ncclGroupEnd(), nullptr);
  for (int r = 0; r < n; ++r) EXPECT_EQ(bufs[r][99], 6) << "rank " << r;
  for (int r = 0; r < n; ++r) {
    int rank = -1;
    SHIM_OK(ncclCommUserRank(comms[r], &rank), comms[r]);
    EXPECT_EQ(rank, r);
  }
  // Grouped split (every rank of this thread at once), then grouped finalize.
  ncclComm_t subs[n];
  SHIM_OK(ncclGroupStart(), nullptr);
  for (int r = 0; r < n; ++r)
    SHIM_OK(ncclCommSplit(comms[r], r == 1 ? NCCL_SPLIT_NOCOLOR : 0, r, &subs[r], nullptr),
            comms[r]);
  int pending = 0;
  EXPECT_EQ(ncclCommCount(subs[0], &pending), ncclInvalidUsage);  // created at GroupEnd
  ncclResult_t state = ncclSuccess;
  SHIM_OK(ncclCommGetAsyncError(subs[0], &state), subs[0]);
  EXPECT_EQ(state, ncclInProgress);
  SHIM_OK(ncclGroupEnd(), nullptr);
  EXPECT_EQ(subs[1], nullptr);
  SHIM_OK(ncclCommGetAsyncError(subs[2], &state), subs[2]);
  EXPECT_EQ(state, ncclSuccess);
  int count = 0;
  SHIM_OK(ncclCommCount(subs[2], &count), subs[2]);
  EXPECT_EQ(count, 2);
  SHIM_OK(ncclGroupStart(), nullptr);
  for (int r : {0, 2}) SHIM_OK(ncclCommFinalize(subs[r]), subs[r]);
  SHIM_OK(ncclGroupEnd(), nullptr);
  for (int r : {0, 2}) SHIM_OK(ncclCommDestroy(subs[r]), subs[r]);
  for (int r = 0; r < n; ++r) SHIM_OK(ncclCommDestroy(comms[r]), comms[r]);
}

TEST(ShimOneThread, GroupedInitRank) {
  constexpr int n = 2;
  ncclUniqueId id;
  SHIM_OK(ncclGetUniqueId(&id), nullptr);
  ncclComm_t comms[n];
  SHIM_OK(ncclGroupStart(), nullptr);
  for (int r = 0; r < n; ++r) SHIM_OK(ncclCommInitRank(&comms[r], n, id, r), nullptr);
  SHIM_OK(ncclGroupEnd(), nullptr);
  std::vector<std::vector<float>> in(n, std::vector<float>(10)), out(n, std::vector<float>(10 * n));
  for (int r = 0; r < n; ++r) std::fill(in[r].begin(), in[r].end(), r + 0.5f);
  SHIM_OK(ncclGroupStart(), nullptr);
  for (int r = 0; r < n; ++r)
    SHIM_OK(ncclAllGather(in[r].data(), out[r].data(), 10, ncclFloat32, comms[r], nullptr),
            comms[r]);
  SHIM_OK(ncclGroupEnd(), nullptr);
  for (int r = 0; r < n; ++r) {
    EXPECT_EQ(out[r][0], 0.5f);
    EXPECT_EQ(out[r][19], 1.5f);
  }
  for (int r = 0; r < n; ++r) SHIM_OK(ncclCommDestroy(comms[r]), comms[r]);
}

// The reference itself: the formats' extremes and round-to-nearest-even.
TEST(ShimReference, FloatFormats) {
  char b[8];
  const std::pair<ncclDataType_t, double> exact[] = {
      {ncclFloat16, 65504},  {ncclFloat16, 6.103515625e-05}, {ncclBfloat16, 3.3895313892515355e38},
      {ncclFloat8e4m3, 448}, {ncclFloat8e4m3, 0.001953125},  {ncclFloat8e5m2, 57344},
      {ncclFloat8e5m2, -1.5}};
  for (auto [t, v] : exact) {
    store(t, b, 0, v);
    EXPECT_EQ(load(t, b, 0), v) << typeName(t);
  }
  store(ncclFloat16, b, 0, 1 + 1.0 / 2048);  // halfway between 1 and 1 + 2^-10: to even
  EXPECT_EQ(load(ncclFloat16, b, 0), 1.0);
  store(ncclFloat8e5m2, b, 0, 9);  // between 8 and 10: to even (8)
  EXPECT_EQ(load(ncclFloat8e5m2, b, 0), 8.0);
  store(ncclFloat8e4m3, b, 0, 17);  // between 16 and 18: to even (16)
  EXPECT_EQ(load(ncclFloat8e4m3, b, 0), 16.0);
  store(ncclInt8, b, 0, -130);  // wraps like NCCL's integer arithmetic
  EXPECT_EQ(load(ncclInt8, b, 0), 126.0);
}

// NCCL_* variables reach Tutti as TUTTI_* on first use; TUTTI_* set by the user win. Runs in
// a fresh process (the mapping happens once per process).
TEST(ShimEnvironment, NcclVariablesAreMapped) {
  if (getenv("SHIM_ENV_CHILD")) {
    int v;
    ASSERT_EQ(ncclGetVersion(&v), ncclSuccess);
    EXPECT_STREQ(getenv("TUTTI_TOPO_FILE"), "/nonexistent/topo.xml");
    EXPECT_STREQ(getenv("TUTTI_ALGO"), "auto");       // "^NVLS" has no Tutti equivalent
    EXPECT_STREQ(getenv("TUTTI_MAX_CHANNELS"), "7");  // user's own TUTTI_* kept
    EXPECT_STREQ(getenv("TUTTI_COMM_BLOCKING"), "1");
    EXPECT_STREQ(getenv("TUTTI_TRANSPORT"), "socket");
    EXPECT_STREQ(getenv("TUTTI_P2P_DISABLE"), "1");
    // Tutti initialises under these settings.
    ncclUniqueId id;
    ncclComm_t c;
    ASSERT_EQ(ncclGetUniqueId(&id), ncclSuccess) << lastError();
    ASSERT_EQ(ncclCommInitRank(&c, 1, id, 0), ncclSuccess) << lastError();
    float x = 1;
    EXPECT_EQ(ncclAllReduce(&x, &x, 1, ncclFloat32, ncclSum, c, nullptr), ncclSuccess);
    EXPECT_EQ(ncclCommDestroy(c), ncclSuccess);
    return;
  }
  fflush(stdout);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    setenv("SHIM_ENV_CHILD", "1", 1);
    setenv("NCCL_TOPO_FILE", "/nonexistent/topo.xml", 1);
    setenv("NCCL_ALGO", "^NVLS", 1);
    setenv("NCCL_MAX_CTAS", "3", 1);
    setenv("TUTTI_MAX_CHANNELS", "7", 1);
    setenv("NCCL_COMM_BLOCKING", "1", 1);
    setenv("NCCL_P2P_DISABLE", "1", 1);
    setenv("NCCL_SHM_DISABLE", "1", 1);
    unsetenv("TUTTI_TOPO_FILE");
    unsetenv("TUTTI_ALGO");
    unsetenv("TUTTI_COMM_BLOCKING");
    unsetenv("TUTTI_TRANSPORT");
    unsetenv("TUTTI_P2P_DISABLE");
    execl("/proc/self/exe", "shim_api_test",
          "--gtest_filter=ShimEnvironment.NcclVariablesAreMapped", static_cast<char*>(nullptr));
    _exit(127);
  }
  int st = 0;
  ASSERT_EQ(waitpid(pid, &st, 0), pid);
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << "the child's failures are above";
}

}  // namespace

// The Tutti backend: forwards harness calls to the tutti C API and turns result codes into
// Status messages carrying tuttiGetLastError().
#include <algorithm>
#include <cstdio>

#include "harness/backend.h"
#include "tutti/tutti.h"
#ifdef TUTTI_PERF_HAVE_MPI
#include "tutti/tutti_mpi.h"
#endif

namespace tutti::perf {
namespace {

static_assert(sizeof(tuttiUniqueId) == sizeof(UniqueId), "unique id size");
static_assert(static_cast<int>(tuttiFp8E5M2) == static_cast<int>(DataType::kFp8E5M2), "dtype");
static_assert(static_cast<int>(tuttiBfloat16) == static_cast<int>(DataType::kBfloat16), "dtype");
static_assert(static_cast<int>(tuttiFloat16) == static_cast<int>(DataType::kHalf), "dtype");
static_assert(static_cast<int>(tuttiFloat64) == static_cast<int>(DataType::kDouble), "dtype");
static_assert(static_cast<int>(tuttiAvg) == static_cast<int>(RedOp::kAvg), "op");
static_assert(static_cast<int>(tuttiMax) == static_cast<int>(RedOp::kMax), "op");
static_assert(static_cast<int>(tuttiMin) == static_cast<int>(RedOp::kMin), "op");

tuttiDataType_t toTutti(DataType t) { return static_cast<tuttiDataType_t>(static_cast<int>(t)); }
tuttiRedOp_t toTutti(RedOp op) { return static_cast<tuttiRedOp_t>(static_cast<int>(op)); }
tuttiComm_t asComm(CommHandle c) { return static_cast<tuttiComm_t>(c); }

tuttiCompression_t toTutti(const CompressSpec& s) {
  tuttiCompression_t c = TUTTI_COMPRESSION_INITIALIZER;
  c.codec = static_cast<tuttiCodec_t>(s.codec);
  c.blockSize = s.block;
  c.topkFraction = s.topkFraction;
  c.flags = s.interNodeOnly ? TUTTI_COMPRESS_INTER_NODE_ONLY : 0u;
  return c;
}
static_assert(static_cast<int>(tuttiCodecSign1) == 5 && static_cast<int>(tuttiCodecTopK) == 4,
              "codec numbering of CompressSpec");

Status check(tuttiResult_t r, const char* call, tuttiComm_t comm = nullptr) {
  if (r == tuttiSuccess) return Status::ok();
  const char* detail = tuttiGetLastError(comm);
  if ((!detail || !*detail) && comm) detail = tuttiGetLastError(nullptr);
  return Status::error("%s failed: %s (%d)%s%s", call, tuttiGetErrorString(r), static_cast<int>(r),
                       detail && *detail ? ": " : "", detail ? detail : "");
}

tuttiConfig_t configFor(int device) {
  tuttiConfig_t config = TUTTI_CONFIG_INITIALIZER;
  config.device = device >= 0 ? device : TUTTI_NO_DEVICE;
  config.commName = "perf";
  return config;
}

class TuttiBackend : public Backend {
 public:
  const char* name() const override { return "tutti"; }
  std::string version() const override {
    int v = 0;
    if (tuttiGetVersion(&v) != tuttiSuccess) return "unknown";
    char buf[32];
    snprintf(buf, sizeof(buf), "%d.%d.%d", v / 10000, v / 100 % 100, v % 100);
    return buf;
  }
  bool requiresDeviceMemory() const override { return false; }
  // tutti.h defines in place for every collective; send/recv on one buffer is a race.
  bool definesInPlace(const std::string& name) const override { return name != "sendrecv"; }

  Status getUniqueId(UniqueId* id) override {
    tuttiUniqueId uid;
    PERF_TRY(check(tuttiGetUniqueId(&uid), "tuttiGetUniqueId"));
    std::copy(uid.internal, uid.internal + sizeof(uid.internal), id->begin());
    return Status::ok();
  }
  Status commInitRank(CommHandle* comm, int nranks, const UniqueId& id, int rank,
                      int device) override {
    tuttiUniqueId uid;
    std::copy(id.begin(), id.end(), uid.internal);
    tuttiConfig_t config = configFor(device);
    tuttiComm_t c = nullptr;
    PERF_TRY(
        check(tuttiCommInitRankConfig(&c, nranks, uid, rank, &config), "tuttiCommInitRankConfig"));
    *comm = c;
    return Status::ok();
  }
  Status commInitMpiWorld(CommHandle* comm, int device, bool* used) override {
#ifdef TUTTI_PERF_HAVE_MPI
    tuttiConfig_t config = configFor(device);
    tuttiComm_t c = nullptr;
    *used = true;
    PERF_TRY(check(tuttiCommInitMpi(&c, MPI_COMM_WORLD, &config), "tuttiCommInitMpi"));
    *comm = c;
    return Status::ok();
#else
    *used = false;
    return Status::ok();
#endif
  }
  Status commDestroy(CommHandle comm) override {
    tuttiComm_t c = asComm(comm);
    Status s = check(tuttiCommFinalize(c), "tuttiCommFinalize", c);
    Status d = check(tuttiCommDestroy(c), "tuttiCommDestroy");
    return s.isOk() ? d : s;
  }

  Status allReduce(const void* send, void* recv, size_t count, DataType type, RedOp op,
                   CommHandle comm, void* stream) override {
    return check(
        tuttiAllReduce(send, recv, count, toTutti(type), toTutti(op), asComm(comm), stream),
        "tuttiAllReduce", asComm(comm));
  }
  Status allGather(const void* send, void* recv, size_t sendCount, DataType type, CommHandle comm,
                   void* stream) override {
    return check(tuttiAllGather(send, recv, sendCount, toTutti(type), asComm(comm), stream),
                 "tuttiAllGather", asComm(comm));
  }
  Status reduceScatter(const void* send, void* recv, size_t recvCount, DataType type, RedOp op,
                       CommHandle comm, void* stream) override {
    return check(
        tuttiReduceScatter(send, recv, recvCount, toTutti(type), toTutti(op), asComm(comm), stream),
        "tuttiReduceScatter", asComm(comm));
  }
  Status allToAll(const void* send, void* recv, size_t count, DataType type, CommHandle comm,
                  void* stream) override {
    return check(tuttiAllToAll(send, recv, count, toTutti(type), asComm(comm), stream),
                 "tuttiAllToAll", asComm(comm));
  }
  Status broadcast(const void* send, void* recv, size_t count, DataType type, int root,
                   CommHandle comm, void* stream) override {
    return check(tuttiBroadcast(send, recv, count, toTutti(type), root, asComm(comm), stream),
                 "tuttiBroadcast", asComm(comm));
  }
  Status reduce(const void* send, void* recv, size_t count, DataType type, RedOp op, int root,
                CommHandle comm, void* stream) override {
    return check(
        tuttiReduce(send, recv, count, toTutti(type), toTutti(op), root, asComm(comm), stream),
        "tuttiReduce", asComm(comm));
  }
  Status send(const void* buf, size_t count, DataType type, int peer, CommHandle comm,
              void* stream) override {
    return check(tuttiSend(buf, count, toTutti(type), peer, asComm(comm), stream), "tuttiSend",
                 asComm(comm));
  }
  Status recv(void* buf, size_t count, DataType type, int peer, CommHandle comm,
              void* stream) override {
    return check(tuttiRecv(buf, count, toTutti(type), peer, asComm(comm), stream), "tuttiRecv",
                 asComm(comm));
  }
  Status groupStart() override { return check(tuttiGroupStart(), "tuttiGroupStart"); }
  Status groupEnd() override { return check(tuttiGroupEnd(), "tuttiGroupEnd"); }

  bool supportsCompression() const override { return true; }
  Status compressedSize(const CompressSpec& spec, size_t count, size_t* bytes) override {
    tuttiCompression_t c = toTutti(spec);
    return check(tuttiCompressedSize(&c, count, bytes), "tuttiCompressedSize");
  }
  Status compressStateCreate(size_t count, DataType type, bool device, CommHandle comm,
                             void** state) override {
    tuttiCompressState_t s = nullptr;
    PERF_TRY(
        check(tuttiCompressStateCreate(&s, count, toTutti(type),
                                       device ? tuttiMemoryDevice : tuttiMemoryHost, asComm(comm)),
              "tuttiCompressStateCreate", asComm(comm)));
    *state = s;
    return Status::ok();
  }
  void compressStateDestroy(void* state) override {
    tuttiCompressStateDestroy(static_cast<tuttiCompressState_t>(state));
  }
  Status allReduceCompressed(const void* send, void* recv, size_t count, DataType type, RedOp op,
                             const CompressSpec& spec, void* state, CommHandle comm,
                             void* stream) override {
    tuttiCompression_t c = toTutti(spec);
    return check(
        tuttiAllReduceCompressed(send, recv, count, toTutti(type), toTutti(op), &c,
                                 static_cast<tuttiCompressState_t>(state), asComm(comm), stream),
        "tuttiAllReduceCompressed", asComm(comm));
  }
  Status reduceScatterCompressed(const void* send, void* recv, size_t recvCount, DataType type,
                                 RedOp op, const CompressSpec& spec, void* state, CommHandle comm,
                                 void* stream) override {
    tuttiCompression_t c = toTutti(spec);
    return check(tuttiReduceScatterCompressed(send, recv, recvCount, toTutti(type), toTutti(op), &c,
                                              static_cast<tuttiCompressState_t>(state),
                                              asComm(comm), stream),
                 "tuttiReduceScatterCompressed", asComm(comm));
  }
  Status allGatherCompressed(const void* send, void* recv, size_t sendCount, DataType type,
                             const CompressSpec& spec, void* state, CommHandle comm,
                             void* stream) override {
    tuttiCompression_t c = toTutti(spec);
    return check(
        tuttiAllGatherCompressed(send, recv, sendCount, toTutti(type), &c,
                                 static_cast<tuttiCompressState_t>(state), asComm(comm), stream),
        "tuttiAllGatherCompressed", asComm(comm));
  }
};

}  // namespace

std::unique_ptr<Backend> makeTuttiBackend() { return std::make_unique<TuttiBackend>(); }

}  // namespace tutti::perf

// The NCCL backend: dlopen()s NVIDIA's libnccl.so.2 and drives it through function pointers
// obtained with dlsym, typed from NVIDIA's nccl.h. Device memory only.
#include <dlfcn.h>
#include <nccl.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "harness/backend.h"

namespace tutti::perf {
namespace {

static_assert(sizeof(ncclUniqueId) == sizeof(UniqueId), "unique id size");
static_assert(static_cast<int>(ncclFloat8e5m2) == static_cast<int>(DataType::kFp8E5M2), "dtype");
static_assert(static_cast<int>(ncclBfloat16) == static_cast<int>(DataType::kBfloat16), "dtype");
static_assert(static_cast<int>(ncclFloat16) == static_cast<int>(DataType::kHalf), "dtype");
static_assert(static_cast<int>(ncclUint64) == static_cast<int>(DataType::kUint64), "dtype");
static_assert(static_cast<int>(ncclAvg) == static_cast<int>(RedOp::kAvg), "op");
static_assert(static_cast<int>(ncclMax) == static_cast<int>(RedOp::kMax), "op");

ncclDataType_t toNccl(DataType t) { return static_cast<ncclDataType_t>(static_cast<int>(t)); }
ncclRedOp_t toNccl(RedOp op) { return static_cast<ncclRedOp_t>(static_cast<int>(op)); }
ncclComm_t asComm(CommHandle c) { return static_cast<ncclComm_t>(c); }
cudaStream_t asStream(void* s) { return static_cast<cudaStream_t>(s); }

// The entry points the harness uses, resolved by dlsym.
struct NcclApi {
  decltype(&ncclGetVersion) getVersion;
  decltype(&ncclGetErrorString) getErrorString;
  decltype(&ncclGetLastError) getLastError;
  decltype(&ncclGetUniqueId) getUniqueId;
  decltype(&ncclCommInitRank) commInitRank;
  decltype(&ncclCommFinalize) commFinalize;
  decltype(&ncclCommDestroy) commDestroy;
  decltype(&ncclAllReduce) allReduce;
  decltype(&ncclAllGather) allGather;
  decltype(&ncclReduceScatter) reduceScatter;
  decltype(&ncclAlltoAll) allToAll;  // NCCL >= 2.28; older libraries lack it
  decltype(&ncclBroadcast) broadcast;
  decltype(&ncclReduce) reduce;
  decltype(&ncclSend) send;
  decltype(&ncclRecv) recv;
  decltype(&ncclGroupStart) groupStart;
  decltype(&ncclGroupEnd) groupEnd;
};

class NcclBackend : public Backend {
 public:
  NcclBackend(void* lib, const NcclApi& api, std::string path)
      : lib_(lib), api_(api), path_(std::move(path)) {}
  // The library stays loaded until exit: NCCL's own threads may still run during teardown.
  ~NcclBackend() override = default;

  const char* name() const override { return "nccl"; }
  std::string version() const override {
    int v = 0;
    if (api_.getVersion(&v) != ncclSuccess) return "unknown";
    char buf[64];
    snprintf(buf, sizeof(buf), "%d.%d.%d", v / 10000, v / 100 % 100, v % 100);
    return buf;
  }
  bool requiresDeviceMemory() const override { return true; }
  // NCCL defines in place for AllReduce, Broadcast, Reduce, AllGather and ReduceScatter only.
  bool definesInPlace(const std::string& name) const override {
    return name != "alltoall" && name != "sendrecv";
  }

  Status getUniqueId(UniqueId* id) override {
    ncclUniqueId uid;
    PERF_TRY(check(api_.getUniqueId(&uid), "ncclGetUniqueId"));
    std::copy(uid.internal, uid.internal + sizeof(uid.internal), id->begin());
    return Status::ok();
  }
  Status commInitRank(CommHandle* comm, int nranks, const UniqueId& id, int rank,
                      int device) override {
    ncclUniqueId uid;
    std::copy(id.begin(), id.end(), uid.internal);
    ncclComm_t c = nullptr;
    PERF_TRY(check(api_.commInitRank(&c, nranks, uid, rank), "ncclCommInitRank"));
    *comm = c;
    return Status::ok();
  }
  Status commDestroy(CommHandle comm) override {
    Status s = check(api_.commFinalize(asComm(comm)), "ncclCommFinalize", asComm(comm));
    Status d = check(api_.commDestroy(asComm(comm)), "ncclCommDestroy");
    return s.isOk() ? d : s;
  }

  Status allReduce(const void* send, void* recv, size_t count, DataType type, RedOp op,
                   CommHandle comm, void* stream) override {
    return check(
        api_.allReduce(send, recv, count, toNccl(type), toNccl(op), asComm(comm), asStream(stream)),
        "ncclAllReduce", asComm(comm));
  }
  Status allGather(const void* send, void* recv, size_t sendCount, DataType type, CommHandle comm,
                   void* stream) override {
    return check(
        api_.allGather(send, recv, sendCount, toNccl(type), asComm(comm), asStream(stream)),
        "ncclAllGather", asComm(comm));
  }
  Status reduceScatter(const void* send, void* recv, size_t recvCount, DataType type, RedOp op,
                       CommHandle comm, void* stream) override {
    return check(api_.reduceScatter(send, recv, recvCount, toNccl(type), toNccl(op), asComm(comm),
                                    asStream(stream)),
                 "ncclReduceScatter", asComm(comm));
  }
  Status allToAll(const void* send, void* recv, size_t count, DataType type, CommHandle comm,
                  void* stream) override {
    if (!api_.allToAll) return Status::error("%s has no ncclAlltoAll (NCCL < 2.28)", path_.c_str());
    return check(api_.allToAll(send, recv, count, toNccl(type), asComm(comm), asStream(stream)),
                 "ncclAlltoAll", asComm(comm));
  }
  Status broadcast(const void* send, void* recv, size_t count, DataType type, int root,
                   CommHandle comm, void* stream) override {
    return check(
        api_.broadcast(send, recv, count, toNccl(type), root, asComm(comm), asStream(stream)),
        "ncclBroadcast", asComm(comm));
  }
  Status reduce(const void* send, void* recv, size_t count, DataType type, RedOp op, int root,
                CommHandle comm, void* stream) override {
    return check(api_.reduce(send, recv, count, toNccl(type), toNccl(op), root, asComm(comm),
                             asStream(stream)),
                 "ncclReduce", asComm(comm));
  }
  Status send(const void* buf, size_t count, DataType type, int peer, CommHandle comm,
              void* stream) override {
    return check(api_.send(buf, count, toNccl(type), peer, asComm(comm), asStream(stream)),
                 "ncclSend", asComm(comm));
  }
  Status recv(void* buf, size_t count, DataType type, int peer, CommHandle comm,
              void* stream) override {
    return check(api_.recv(buf, count, toNccl(type), peer, asComm(comm), asStream(stream)),
                 "ncclRecv", asComm(comm));
  }
  Status groupStart() override { return check(api_.groupStart(), "ncclGroupStart"); }
  Status groupEnd() override { return check(api_.groupEnd(), "ncclGroupEnd"); }

 private:
  Status check(ncclResult_t r, const char* call, ncclComm_t comm = nullptr) const {
    if (r == ncclSuccess) return Status::ok();
    const char* detail = api_.getLastError ? api_.getLastError(comm) : nullptr;
    return Status::error("%s failed: %s (%d)%s%s", call, api_.getErrorString(r),
                         static_cast<int>(r), detail && *detail ? ": " : "", detail ? detail : "");
  }

  void* lib_;
  NcclApi api_;
  std::string path_;
};

template <typename Fn>
bool resolve(void* lib, const char* symbol, Fn* out, bool required, std::string* missing) {
  *out = reinterpret_cast<Fn>(dlsym(lib, symbol));
  if (!*out && required) {
    *missing = symbol;
    return false;
  }
  return true;
}

}  // namespace

Status makeNcclBackend(const std::string& path, std::unique_ptr<Backend>* out) {
  std::string lib = path;
  if (lib.empty()) {
    const char* env = getenv("NCCL_LIB");
    lib = env && *env ? env : "libnccl.so.2";
  }
  // NVLink multicast (NVLS) stays off unless asked for: Tutti does not use it, and on shared
  // boxes it can take GPUs out of service.
  setenv("NCCL_NVLS_ENABLE", "0", 0);
  void* handle = dlopen(lib.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) return Status::error("cannot load NCCL from '%s': %s", lib.c_str(), dlerror());
  NcclApi api{};
  std::string missing;
  bool ok = resolve(handle, "ncclGetVersion", &api.getVersion, true, &missing) &&
            resolve(handle, "ncclGetErrorString", &api.getErrorString, true, &missing) &&
            resolve(handle, "ncclGetLastError", &api.getLastError, false, &missing) &&
            resolve(handle, "ncclGetUniqueId", &api.getUniqueId, true, &missing) &&
            resolve(handle, "ncclCommInitRank", &api.commInitRank, true, &missing) &&
            resolve(handle, "ncclCommFinalize", &api.commFinalize, true, &missing) &&
            resolve(handle, "ncclCommDestroy", &api.commDestroy, true, &missing) &&
            resolve(handle, "ncclAllReduce", &api.allReduce, true, &missing) &&
            resolve(handle, "ncclAllGather", &api.allGather, true, &missing) &&
            resolve(handle, "ncclReduceScatter", &api.reduceScatter, true, &missing) &&
            resolve(handle, "ncclAlltoAll", &api.allToAll, false, &missing) &&
            resolve(handle, "ncclBroadcast", &api.broadcast, true, &missing) &&
            resolve(handle, "ncclReduce", &api.reduce, true, &missing) &&
            resolve(handle, "ncclSend", &api.send, true, &missing) &&
            resolve(handle, "ncclRecv", &api.recv, true, &missing) &&
            resolve(handle, "ncclGroupStart", &api.groupStart, true, &missing) &&
            resolve(handle, "ncclGroupEnd", &api.groupEnd, true, &missing);
  if (!ok) {
    dlclose(handle);
    return Status::error("'%s' does not export %s: is it NVIDIA's NCCL?", lib.c_str(),
                         missing.c_str());
  }
  *out = std::make_unique<NcclBackend>(handle, api, lib);
  return Status::ok();
}

}  // namespace tutti::perf

// The part of the UCX 1.x C ABI (libucp.so.0) the UCX transport uses, loaded at run time with
// dlopen so that libtutti builds without UCX headers and runs where UCX is absent. The types
// below are our own declarations of UCX's public ABI; their layouts were checked field by field
// against the v1.13.1 and v1.16.0 headers, where they are identical, and up to v1.22.0, which
// only appends fields read under mask bits we never set (docs/multinode.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

namespace tutti {
namespace ucx {

// ucs_status_t: a packed enum (UCS_S_PACKED), one signed byte. Declared as int, its upper bytes
// would be whatever the callee left in the return register.
using Status = int8_t;
constexpr Status kOk = 0;
constexpr Status kInProgress = 1;
constexpr Status kErrBusy = -15;
constexpr Status kErrCanceled = -16;
constexpr Status kErrLast = -100;

using Context = struct ucp_context*;
using Worker = struct ucp_worker*;
using Ep = struct ucp_ep*;
using Config = struct ucp_config;
using Address = struct ucp_address;
using Tag = uint64_t;

// ucs_status_ptr_t: a request, NULL (done at once) or an error code cast to a pointer.
inline bool ptrIsError(void* p) {
  return reinterpret_cast<uintptr_t>(p) >= static_cast<uintptr_t>(static_cast<intptr_t>(kErrLast));
}
inline Status ptrStatus(void* p) { return static_cast<Status>(reinterpret_cast<intptr_t>(p)); }

// ucp_params_t (field order as in ucp.h of 1.13 and 1.16).
constexpr uint64_t kParamFieldFeatures = 1u << 0;
constexpr uint64_t kParamFieldEstimatedNumEps = 1u << 6;
constexpr uint64_t kFeatureTag = 1u << 0;
constexpr uint64_t kFeatureWakeup = 1u << 4;  // an event fd per worker (ucp_worker_get_efd)
struct Params {
  uint64_t fieldMask;
  uint64_t features;
  size_t requestSize;
  void (*requestInit)(void*);
  void (*requestCleanup)(void*);
  uint64_t tagSenderMask;
  int mtWorkersShared;
  size_t estimatedNumEps;
  size_t estimatedNumPpn;
  const char* name;
};

// ucp_worker_params_t: only the leading fields we set; UCX reads fields named by fieldMask.
constexpr uint64_t kWorkerParamFieldThreadMode = 1u << 0;
constexpr int kThreadModeSerialized = 1;  // UCS_THREAD_MODE_SERIALIZED
struct WorkerParams {
  uint64_t fieldMask;
  int threadMode;  // ucs_thread_mode_t (an enum: int-sized)
  char rest[256];  // cpu_mask, events, user_data, ... (never set; keeps the struct large enough)
};

// ucp_ep_params_t.
constexpr uint64_t kEpParamFieldRemoteAddress = 1u << 0;
constexpr uint64_t kEpParamFieldErrHandlingMode = 1u << 1;
constexpr uint64_t kEpParamFieldErrHandler = 1u << 2;
constexpr int kErrHandlingModePeer = 1;  // UCP_ERR_HANDLING_MODE_PEER
using ErrHandlerCb = void (*)(void* arg, Ep ep, Status status);
struct EpParams {
  uint64_t fieldMask;
  const Address* address;
  int errMode;  // ucp_err_handling_mode_t
  ErrHandlerCb errCb;
  void* errArg;
  void* userData;
  unsigned flags;
  char rest[512];  // sockaddr, conn_request, name, local_sockaddr (never set)
};

// ucp_request_param_t.
constexpr uint32_t kOpAttrFieldFlags = 1u << 4;
constexpr uint32_t kOpAttrFlagNoImmCmpl = 1u << 16;
constexpr uint32_t kEpCloseFlagForce = 1u << 0;
struct RequestParam {
  uint32_t opAttrMask;
  uint32_t flags;
  void* request;
  void* cb;
  uint64_t datatype;
  void* userData;
  void* replyBuffer;
  int memoryType;
  void* recvInfo;
  void* memh;
};

// ucp_tag_recv_info_t.
struct TagRecvInfo {
  Tag senderTag;
  size_t length;
};

// ucp_context_attr_t (ucp_context_query); UCX writes only the fields fieldMask names.
constexpr uint64_t kAttrFieldMemoryTypes = 1u << 2;
constexpr int kMemoryTypeHost = 0;  // ucs_memory_type_t: bit numbers in memoryTypes
constexpr int kMemoryTypeCuda = 1;
struct ContextAttr {
  uint64_t fieldMask;
  size_t requestSize;
  int threadMode;  // ucs_thread_mode_t
  uint64_t memoryTypes;
  char name[32];   // UCP_ENTITY_NAME_MAX
  char rest[256];  // fields a later UCX may add (never asked for)
};

// The functions, resolved from the library once per process.
struct Api {
  Status (*configRead)(const char* envPrefix, const char* filename, Config** config);
  void (*configRelease)(Config* config);
  Status (*configModify)(Config* config, const char* name, const char* value);
  void (*getVersion)(unsigned* major, unsigned* minor, unsigned* release);
  Status (*initVersion)(unsigned apiMajor, unsigned apiMinor, const Params* params,
                        const Config* config, Context* context);
  void (*cleanup)(Context context);
  Status (*workerCreate)(Context context, const WorkerParams* params, Worker* worker);
  void (*workerDestroy)(Worker worker);
  Status (*workerGetAddress)(Worker worker, Address** address, size_t* length);
  void (*workerReleaseAddress)(Worker worker, Address* address);
  unsigned (*workerProgress)(Worker worker);
  // The wakeup calls (a context with kFeatureWakeup): a thread that drives a worker sleeps in
  // poll() on its event fd instead of spinning.
  Status (*workerGetEfd)(Worker worker, int* fd);
  Status (*workerArm)(Worker worker);
  Status (*workerSignal)(Worker worker);
  Status (*epCreate)(Worker worker, const EpParams* params, Ep* ep);
  void* (*epCloseNbx)(Ep ep, const RequestParam* param);
  void* (*tagSendNbx)(Ep ep, const void* buffer, size_t count, Tag tag, const RequestParam* param);
  void* (*tagRecvNbx)(Worker worker, void* buffer, size_t count, Tag tag, Tag mask,
                      const RequestParam* param);
  Status (*requestCheckStatus)(void* request);
  Status (*tagRecvRequestTest)(void* request, TagRecvInfo* info);
  void (*requestCancel)(Worker worker, void* request);
  void (*requestFree)(void* request);
  const char* (*statusString)(Status status);
  void (*epPrintInfo)(Ep ep, FILE* stream);  // optional (null when missing): for the INFO line
  Status (*contextQuery)(Context context, ContextAttr* attr);  // optional: the memory types

  unsigned major = 0, minor = 0, release = 0;  // of the loaded library
};

// Loads the library named by TUTTI_UCX_LIB (default libucp.so.0) once per process. Null when it
// cannot be loaded; `why` then says what failed (the dlopen or dlsym message).
const Api* load(std::string* why);

// "Input/output error (-3)" for an error message.
std::string statusText(const Api* api, Status s);

// The transports and devices an endpoint's lanes use ("tcp/lo", "rc_mlx5/mlx5_0:1"), from
// ucp_ep_print_info; "" when UCX cannot say.
std::string epLanes(const Api* api, Ep ep);

// Settings for UCX over TCP alone (no RDMA), each applied only where its UCX_* variable is
// unset: no rendezvous (a round trip per message into receives already posted) and 256 KiB TCP
// segments instead of 8 KiB (fewer system calls per byte: one thread drives all of UCX, and it
// is the limit). Returns what was set, for the INFO line, e.g. "UCX_RNDV_THRESH=inf".
std::string applyTcpDefaults(const Api* api, Config* config);

}  // namespace ucx
}  // namespace tutti

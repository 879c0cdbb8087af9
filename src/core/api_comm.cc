// C API: versions, errors, unique ids and the communicator lifecycle.
#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "base/device.h"
#include "bootstrap/unique_id.h"
#include "core/api_guard.h"
#include "core/comm_init.h"
#include "core/executor.h"
#include "core/group.h"
#include "kernels/dtype_dispatch.h"

using namespace tutti;

namespace {

thread_local std::string tlsLastErrorCopy;

Result checkRankArgs(tuttiComm_t* comm, int nranks, int rank) {
  if (!comm) return setError(tuttiInvalidArgument, "comm (the output pointer) is NULL");
  if (nranks < 1) return setError(tuttiInvalidArgument, "nranks %d must be at least 1", nranks);
  if (rank < 0 || rank >= nranks)
    return setError(tuttiInvalidArgument, "rank %d is out of range 0..%d", rank, nranks - 1);
  return tuttiSuccess;
}

Comm* newComm(const CommConfig& opt) {
  Comm* c = new Comm();
  c->config = opt;
  return c;
}

void freeComm(Comm* c) {
  if (c->initThread.joinable()) c->initThread.join();
  c->magic = 0;
  delete c;
}

}  // namespace

extern "C" {

tuttiResult_t tuttiGetVersion(int* version) {
  return apiCall("tuttiGetVersion", nullptr, [&] {
    if (!version) return setError(tuttiInvalidArgument, "version is NULL");
    *version = TUTTI_VERSION_CODE;
    return tuttiSuccess;
  });
}

const char* tuttiGetErrorString(tuttiResult_t result) {
  switch (result) {
    case tuttiSuccess: return "no error";
    case tuttiInvalidArgument: return "invalid argument";
    case tuttiInvalidUsage: return "invalid usage";
    case tuttiSystemError: return "system error";
    case tuttiInternalError: return "internal error (please report)";
    case tuttiCudaError: return "CUDA error";
    case tuttiRemoteError: return "remote error: a peer failed, disconnected or sent bad data";
    case tuttiTimeout: return "timeout";
    case tuttiAborted: return "communicator aborted";
    case tuttiInProgress: return "operation in progress";
    case tuttiNotSupported: return "not supported";
    default: return "unknown result code";
  }
}

const char* tuttiGetLastError(tuttiComm_t comm) {
  if (comm && comm->magic == tuttiComm::kMagic) {
    tlsLastErrorCopy = comm->errors.last();
  } else {
    tlsLastErrorCopy = lastError();
  }
  return tlsLastErrorCopy.c_str();
}

tuttiResult_t tuttiGetUniqueId(tuttiUniqueId* uniqueId) {
  return apiCall("tuttiGetUniqueId", nullptr, [&] {
    if (!uniqueId) return setError(tuttiInvalidArgument, "uniqueId is NULL");
    return createUniqueId(uniqueId);
  });
}

tuttiResult_t tuttiCommInitRankConfig(tuttiComm_t* comm, int nranks, tuttiUniqueId commId, int rank,
                                      const tuttiConfig_t* config) {
  return apiCall("tuttiCommInitRank", nullptr, [&]() -> Result {
    TUTTI_TRY(checkRankArgs(comm, nranks, rank));
    *comm = nullptr;
    CommConfig opt;
    TUTTI_TRY(resolveOptions(config, &opt));
    Comm* c = newComm(opt);
    if (!opt.blocking) {
      // Non-blocking: init continues on a thread; tuttiCommGetAsyncError reports the outcome.
      c->errors.asyncError = tuttiInProgress;
      c->initThread = std::thread([c, nranks, commId, rank] {
        Result r = initComm(c, nranks, commId, rank);
        if (r != tuttiSuccess) c->recordError();
        c->errors.asyncError = r;
      });
      *comm = c;
      return tuttiInProgress;
    }
    Result r = initComm(c, nranks, commId, rank);
    if (r != tuttiSuccess) {
      std::string msg = lastError();
      freeComm(c);
      return setError(r, "%s", msg.c_str());
    }
    *comm = c;
    return tuttiSuccess;
  });
}

tuttiResult_t tuttiCommInitRank(tuttiComm_t* comm, int nranks, tuttiUniqueId commId, int rank) {
  return tuttiCommInitRankConfig(comm, nranks, commId, rank, nullptr);
}

tuttiResult_t tuttiCommInitAll(tuttiComm_t* comms, int ndev, const int* devlist) {
  return apiCall("tuttiCommInitAll", nullptr, [&]() -> Result {
    if (!comms) return setError(tuttiInvalidArgument, "comms is NULL");
    if (ndev < 1) return setError(tuttiInvalidArgument, "ndev %d must be at least 1", ndev);
    const int gpus = gpuDeviceCount();
    std::vector<int> devs(ndev);
    for (int i = 0; i < ndev; ++i) {
      devs[i] = devlist ? devlist[i] : (gpus > 0 ? i : TUTTI_NO_DEVICE);
      if (devs[i] != TUTTI_NO_DEVICE && (devs[i] < 0 || devs[i] >= gpus))
        return setError(tuttiInvalidArgument, "devlist[%d] = %d: no such GPU (%d visible)", i,
                        devs[i], gpus);
    }
    CommConfig opt;
    TUTTI_TRY(resolveOptions(nullptr, &opt));
    tuttiUniqueId id;
    TUTTI_TRY(createUniqueId(&id, false));
    std::vector<Comm*> made(ndev);
    for (int i = 0; i < ndev; ++i) {
      opt.device = devs[i];
      made[i] = newComm(opt);
    }
    std::vector<Result> results(ndev, tuttiSuccess);
    std::vector<std::string> errors(ndev);
    std::vector<std::thread> threads;
    for (int i = 0; i < ndev; ++i) {
      threads.emplace_back([&, i] {
        results[i] = initComm(made[i], ndev, id, i);
        if (results[i] != tuttiSuccess) {
          errors[i] = lastError();
          for (Comm* c : made) c->errors.abortFlag = true;  // the others stop waiting for us
        }
      });
    }
    for (auto& t : threads) t.join();
    for (int i = 0; i < ndev; ++i) {
      if (results[i] == tuttiSuccess || results[i] == tuttiAborted) continue;
      for (Comm* c : made) freeComm(c);
      return setError(results[i], "rank %d: %s", i, errors[i].c_str());
    }
    for (int i = 0; i < ndev; ++i) comms[i] = made[i];
    return tuttiSuccess;
  });
}

tuttiResult_t tuttiCommSplit(tuttiComm_t comm, int color, int key, tuttiComm_t* newcomm,
                             const tuttiConfig_t* config) {
  return apiCall("tuttiCommSplit", comm, [&]() -> Result {
    TUTTI_TRY(checkComm(comm));
    ActiveCall active(comm);
    if (!newcomm) return setError(tuttiInvalidArgument, "newcomm is NULL");
    *newcomm = nullptr;
    TUTTI_TRY(comm->checkUsable());
    CommConfig opt;
    TUTTI_TRY(resolveOptions(config, &opt));
    if (!config || config->device == TUTTI_DEVICE_CURRENT) opt.device = comm->config.device;
    Comm* out = nullptr;
    TUTTI_TRY(splitComm(comm, color, key, opt, &out));
    *newcomm = out;
    return tuttiSuccess;
  });
}

tuttiResult_t tuttiCommFinalize(tuttiComm_t comm) {
  return apiCall("tuttiCommFinalize", comm, [&]() -> Result {
    TUTTI_TRY(checkComm(comm));
    ActiveCall active(comm);
    if (comm->finalized) return setError(tuttiInvalidUsage, "communicator already finalized");
    TUTTI_TRY(comm->checkUsable());
    // Host collectives are complete on return; device work is drained here.
    if (comm->executors.device)
      TUTTI_CHECK(comm->executors.device->synchronize(), "draining device work");
    TUTTI_CHECK(comm->bootstrap->barrier(), "waiting for every rank to finalize");
    comm->finalized = true;
    return tuttiSuccess;
  });
}

tuttiResult_t tuttiCommDestroy(tuttiComm_t comm) {
  return apiCall("tuttiCommDestroy", nullptr, [&]() -> Result {
    if (!comm) return tuttiSuccess;  // like free(NULL)
    TUTTI_TRY(checkComm(comm));
    freeComm(comm);
    return tuttiSuccess;
  });
}

tuttiResult_t tuttiCommAbort(tuttiComm_t comm) {
  return apiCall("tuttiCommAbort", nullptr, [&]() -> Result {
    if (!comm) return tuttiSuccess;
    TUTTI_TRY(checkComm(comm));
    comm->errors.abortFlag = true;
    if (comm->executors.device) comm->executors.device->abort();
    setError(tuttiAborted, "communicator aborted by tuttiCommAbort");
    comm->fail(tuttiAborted);
    // Calls in other threads see the flag within a few milliseconds; wait for them to leave.
    while (comm->errors.activeCalls.load() > 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    freeComm(comm);
    clearError();
    return tuttiSuccess;
  });
}

tuttiResult_t tuttiCommGetAsyncError(tuttiComm_t comm, tuttiResult_t* asyncError) {
  return apiCall("tuttiCommGetAsyncError", comm, [&]() -> Result {
    TUTTI_TRY(checkComm(comm));
    if (!asyncError) return setError(tuttiInvalidArgument, "asyncError is NULL");
    *asyncError = static_cast<tuttiResult_t>(comm->errors.asyncError.load());
    if (*asyncError == tuttiSuccess && comm->executors.device) {
      Result device = comm->executors.device->pollError();
      if (device != tuttiSuccess) *asyncError = comm->fail(device);
    }
    return tuttiSuccess;
  });
}

tuttiResult_t tuttiCommCount(const tuttiComm_t comm, int* count) {
  return apiCall("tuttiCommCount", comm, [&]() -> Result {
    TUTTI_TRY(checkComm(comm));
    if (!count) return setError(tuttiInvalidArgument, "count is NULL");
    *count = comm->nranks();
    return tuttiSuccess;
  });
}

tuttiResult_t tuttiCommUserRank(const tuttiComm_t comm, int* rank) {
  return apiCall("tuttiCommUserRank", comm, [&]() -> Result {
    TUTTI_TRY(checkComm(comm));
    if (!rank) return setError(tuttiInvalidArgument, "rank is NULL");
    *rank = comm->rank();
    return tuttiSuccess;
  });
}

tuttiResult_t tuttiCommCuDevice(const tuttiComm_t comm, int* device) {
  return apiCall("tuttiCommCuDevice", comm, [&]() -> Result {
    TUTTI_TRY(checkComm(comm));
    if (!device) return setError(tuttiInvalidArgument, "device is NULL");
    *device = comm->config.device;
    return tuttiSuccess;
  });
}

tuttiResult_t tuttiRedOpCreatePreMulSum(tuttiRedOp_t* op, const void* scalar,
                                        tuttiDataType_t datatype, tuttiComm_t comm) {
  return apiCall("tuttiRedOpCreatePreMulSum", comm, [&]() -> Result {
    TUTTI_TRY(checkComm(comm));
    if (!op) return setError(tuttiInvalidArgument, "op is NULL");
    if (!scalar) return setError(tuttiInvalidArgument, "scalar is NULL");
    if (dtypeSize(datatype) == 0)
      return setError(tuttiInvalidArgument, "datatype %d is not a tuttiDataType_t", datatype);
    *op = comm->redOps.create(datatype, scalar);
    return tuttiSuccess;
  });
}

tuttiResult_t tuttiRedOpDestroy(tuttiRedOp_t op, tuttiComm_t comm) {
  return apiCall("tuttiRedOpDestroy", comm, [&]() -> Result {
    TUTTI_TRY(checkComm(comm));
    return comm->redOps.destroy(op);
  });
}

tuttiResult_t tuttiGroupStart(void) {
  return apiCall("tuttiGroupStart", nullptr, [] { return groupStart(); });
}

tuttiResult_t tuttiGroupEnd(void) {
  return apiCall("tuttiGroupEnd", nullptr, [] { return groupEnd(); });
}

}  // extern "C"

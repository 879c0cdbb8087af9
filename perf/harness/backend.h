// Backend: the small interface through which one harness drives either Tutti or NVIDIA's NCCL
// (dlopen'ed). Types and ops are the harness' own enums, numerically equal to both libraries'.
#pragma once

#include <array>
#include <cstddef>
#include <memory>
#include <string>

#include "harness/compress_spec.h"
#include "harness/dtypes.h"
#include "harness/status.h"

namespace tutti::perf {

using CommHandle = void*;
using UniqueId = std::array<char, 128>;  // tuttiUniqueId and ncclUniqueId are both 128 bytes

class Backend {
 public:
  virtual ~Backend() = default;
  virtual const char* name() const = 0;
  virtual std::string version() const = 0;
  // NCCL only takes device buffers; Tutti takes host or device buffers.
  virtual bool requiresDeviceMemory() const = 0;
  // Whether the library defines the in-place form of collective `name` ("alltoall"). Where it
  // does not, the in-place column is still timed but not checked.
  virtual bool definesInPlace(const std::string& name) const = 0;

  virtual Status getUniqueId(UniqueId* id) = 0;
  // device: the CUDA device of this rank (already current), or -1 for a host-only rank.
  virtual Status commInitRank(CommHandle* comm, int nranks, const UniqueId& id, int rank,
                              int device) = 0;
  // Creates the communicator over MPI_COMM_WORLD through the library's own MPI helper, when it
  // has one (Tutti's tutti_mpi.h). Returns false in *used when it has none.
  virtual Status commInitMpiWorld(CommHandle* comm, int device, bool* used) {
    *used = false;
    return Status::ok();
  }
  virtual Status commDestroy(CommHandle comm) = 0;

  virtual Status allReduce(const void* send, void* recv, size_t count, DataType type, RedOp op,
                           CommHandle comm, void* stream) = 0;
  virtual Status allGather(const void* send, void* recv, size_t sendCount, DataType type,
                           CommHandle comm, void* stream) = 0;
  virtual Status reduceScatter(const void* send, void* recv, size_t recvCount, DataType type,
                               RedOp op, CommHandle comm, void* stream) = 0;
  virtual Status allToAll(const void* send, void* recv, size_t count, DataType type,
                          CommHandle comm, void* stream) = 0;
  virtual Status broadcast(const void* send, void* recv, size_t count, DataType type, int root,
                           CommHandle comm, void* stream) = 0;
  virtual Status reduce(const void* send, void* recv, size_t count, DataType type, RedOp op,
                        int root, CommHandle comm, void* stream) = 0;
  virtual Status send(const void* buf, size_t count, DataType type, int peer, CommHandle comm,
                      void* stream) = 0;
  virtual Status recv(void* buf, size_t count, DataType type, int peer, CommHandle comm,
                      void* stream) = 0;
  virtual Status groupStart() = 0;
  virtual Status groupEnd() = 0;

  // Compressed collectives (docs/compression.md); only Tutti has them.
  virtual bool supportsCompression() const { return false; }
  // Encoded bytes of `count` elements (one segment).
  virtual Status compressedSize(const CompressSpec& spec, size_t count, size_t* bytes) {
    return Status::error("backend %s has no compressed collectives", name());
  }
  // An error-feedback state for `count` input elements in host or device memory.
  virtual Status compressStateCreate(size_t count, DataType type, bool device, CommHandle comm,
                                     void** state) {
    return Status::error("backend %s has no compressed collectives", name());
  }
  virtual void compressStateDestroy(void* state) {}
  virtual Status allReduceCompressed(const void* send, void* recv, size_t count, DataType type,
                                     RedOp op, const CompressSpec& spec, void* state,
                                     CommHandle comm, void* stream) {
    return Status::error("backend %s has no compressed collectives", name());
  }
  virtual Status reduceScatterCompressed(const void* send, void* recv, size_t recvCount,
                                         DataType type, RedOp op, const CompressSpec& spec,
                                         void* state, CommHandle comm, void* stream) {
    return Status::error("backend %s has no compressed collectives", name());
  }
  virtual Status allGatherCompressed(const void* send, void* recv, size_t sendCount, DataType type,
                                     const CompressSpec& spec, void* state, CommHandle comm,
                                     void* stream) {
    return Status::error("backend %s has no compressed collectives", name());
  }
};

std::unique_ptr<Backend> makeTuttiBackend();
// Loads NVIDIA's NCCL from `path` (empty: $NCCL_LIB, else "libnccl.so.2").
Status makeNcclBackend(const std::string& path, std::unique_ptr<Backend>* out);

}  // namespace tutti::perf

// Shared-memory transport between processes of one host: one single-producer/single-consumer
// FIFO per direction in POSIX shared memory, with credits (head/tail byte counters).
#pragma once

#include <memory>
#include <string>

#include "transport/connection.h"
#include "transport/transport.h"

namespace tutti {

class Bootstrap;

struct ShmFifoOptions {
  size_t capacity;       // bytes of the FIFOs this rank receives through; whole pages
  std::string baseName;  // unique per communicator, e.g. "/tutti-<nonce>"
};

// Creates this rank's receive FIFO from `peer`. Call for every shm peer, then a bootstrap
// barrier, then openShmConnection for each, then another barrier and unlinkShmNames.
Result createShmReceiveFifo(const ShmFifoOptions& opt, int self, int peer, void** handle);
Result openShmConnection(const ShmFifoOptions& opt, int self, int peer, int peerPid,
                         void* recvHandle, std::unique_ptr<Connection>* out);
// Frees a receive FIFO that never became a connection (init failed half-way).
void releaseShmReceiveFifo(void* handle);
// Removes the names once every peer has mapped its segments: nothing leaks if we crash.
void unlinkShmName(const ShmFifoOptions& opt, int from, int to);

// The transport type: ranks of one host (TUTTI_SHM_FIFO_BYTES per direction and peer).
std::unique_ptr<Transport> makeShmTransport();

}  // namespace tutti

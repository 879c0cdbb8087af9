// TCP transport between hosts: a non-blocking socket per peer with staging rings on both
// sides, so it presents the same in-place stream as shared memory.
#pragma once

#include <memory>

#include "bootstrap/socket.h"
#include "transport/connection.h"

namespace tutti {

// Takes an authenticated, connected socket to `peer`.
Result makeSocketConnection(Socket sock, int peer, size_t stagingBytes,
                            std::unique_ptr<Connection>* out);

}  // namespace tutti

// UCX transport between hosts: a UCP context and worker per communicator, one endpoint per peer,
// the byte stream carried as tagged messages between staging rings with credits. libucp is
// loaded at run time (ucx_api.h); where it cannot be, the type simply offers no pairs.
#pragma once

#include <memory>

#include "base/error.h"
#include "transport/transport.h"

namespace tutti {

// TUTTI_NET: which transport carries ranks on different hosts.
enum class NetChoice {
  kAuto,    // unset or "auto": UCX when libucp loads, sockets otherwise
  kUcx,     // "ucx": UCX or an init error saying why it cannot load
  kSocket,  // "socket": TCP sockets even where UCX would load
};
// Reads TUTTI_NET; an unknown value is an error naming the variable and the accepted values.
Result readNetChoice(NetChoice* out);

// The transport type. It connects ranks on different hosts (hostHash differs) unless
// TUTTI_NET=socket, and every pair when TUTTI_TRANSPORT=ucx. Settings: TUTTI_UCX_LIB,
// TUTTI_UCX_CHUNK_BYTES, TUTTI_UCX_STAGING_BYTES, TUTTI_UCX_DIRECT_BYTES (docs/env.md), and UCX's
// own UCX_* variables.
std::unique_ptr<Transport> makeUcxTransport();

}  // namespace tutti

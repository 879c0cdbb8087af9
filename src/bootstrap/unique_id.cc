// Building and reading unique ids (tuttiGetUniqueId and TUTTI_COMM_ID).
#include "bootstrap/unique_id.h"

#include <string.h>

#include "base/logging.h"
#include "base/timeouts.h"
#include "bootstrap/handshake.h"
#include "bootstrap/hmac_sha256.h"
#include "bootstrap/packed_address.h"
#include "bootstrap/rendezvous_root.h"

namespace tutti {
namespace {

constexpr char kIdMagic[8] = {'T', 'U', 'T', 'T', 'I', 'I', 'D', '1'};

void fillAddress(const SocketAddress& a, UniqueIdData* d) {
  PackedAddress p = packAddress(a);
  d->family = p.family;
  d->port = ntohs(p.port);
  memcpy(d->addr, p.addr, sizeof(d->addr));
}

}  // namespace

SocketAddress uniqueIdAddress(const UniqueIdData& d) {
  PackedAddress p;
  p.family = d.family;
  p.port = htons(d.port);
  memcpy(p.addr, d.addr, sizeof(p.addr));
  SocketAddress a;
  unpackAddress(p, &a);
  return a;
}

bool parseHexSecret(const std::string& hex, uint8_t out[kSecretBytes]) {
  if (hex.size() != 2 * kSecretBytes) return false;
  auto digit = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  uint8_t bytes[kSecretBytes];
  for (int i = 0; i < kSecretBytes; ++i) {
    const int hi = digit(hex[2 * i]), lo = digit(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    bytes[i] = static_cast<uint8_t>(hi * 16 + lo);
  }
  memcpy(out, bytes, kSecretBytes);
  return true;
}

Result uniqueIdFromSpec(const std::string& commId, const std::string& secretHex, bool resolveNames,
                        tuttiUniqueId* id) {
  SocketAddress addr;
  if (parseHostPort(commId, &addr, resolveNames) != tuttiSuccess) {
    addErrorContext("TUTTI_COMM_ID");
    return tuttiInvalidArgument;
  }
  if (addr.port() == 0)
    return setError(tuttiInvalidArgument, "TUTTI_COMM_ID=%s must name a port (host:port)",
                    commId.c_str());
  UniqueIdData d{};
  memcpy(d.magic, kIdMagic, sizeof(kIdMagic));
  d.rootByRank0 = 1;
  fillAddress(addr, &d);
  if (!secretHex.empty()) {
    if (!parseHexSecret(secretHex, d.secret))
      return setError(tuttiInvalidArgument, "TUTTI_COMM_SECRET must be %d hex digits",
                      2 * kSecretBytes);
  } else {
    // Every process must derive the same secret: without TUTTI_COMM_SECRET it can only come
    // from public data, so it keeps strays out but does not authenticate.
    TUTTI_INFO("TUTTI_COMM_ID without TUTTI_COMM_SECRET: connections are not authenticated");
    Digest h = sha256(commId.data(), commId.size());
    memcpy(d.secret, h.data(), kSecretBytes);
  }
  memset(id, 0, sizeof(*id));
  memcpy(id->internal, &d, sizeof(d));
  return tuttiSuccess;
}

bool uniqueIdFromEnv(tuttiUniqueId* id, Result* result) {
  std::string commId = envString("TUTTI_COMM_ID", envString("NCCL_COMM_ID"));
  if (commId.empty()) return false;
  *result = uniqueIdFromSpec(commId, envString("TUTTI_COMM_SECRET"), true, id);
  return true;
}

Result createUniqueId(tuttiUniqueId* id, bool allowEnv) {
  Result envResult;
  if (allowEnv && uniqueIdFromEnv(id, &envResult)) return envResult;
  UniqueIdData d{};
  memcpy(d.magic, kIdMagic, sizeof(kIdMagic));
  TUTTI_TRY(randomBytes(d.secret, sizeof(d.secret)));
  SocketAddress addr;
  std::string ifname;
  TUTTI_CHECK(selectInterfaceAddress(&addr, &ifname), "choosing the rendezvous interface");
  Socket listener;
  TUTTI_CHECK(Socket::listen(addr, &listener), "starting the rendezvous root");
  TUTTI_TRY(listener.localAddress(&addr));
  fillAddress(addr, &d);
  TUTTI_INFO("rendezvous root listening on %s (%s)", addr.toString().c_str(), ifname.c_str());
  startRendezvousRoot(std::move(listener), d.secret, envTimeoutMs());
  memset(id, 0, sizeof(*id));
  memcpy(id->internal, &d, sizeof(d));
  return tuttiSuccess;
}

Result decodeUniqueId(const tuttiUniqueId& id, UniqueIdData* out) {
  memcpy(out, id.internal, sizeof(*out));
  if (memcmp(out->magic, kIdMagic, sizeof(kIdMagic)) != 0)
    return setError(tuttiInvalidArgument,
                    "commId is not a Tutti unique id (bad magic): was it made by "
                    "tuttiGetUniqueId and copied whole?");
  if (out->family != 4 && out->family != 6)
    return setError(tuttiInvalidArgument, "commId carries an invalid address family %d",
                    out->family);
  return tuttiSuccess;
}

}  // namespace tutti

// Fixed-size, byte-order-defined socket address as it travels inside bootstrap messages.
#pragma once

#include <arpa/inet.h>
#include <string.h>

#include <cstdint>

#include "bootstrap/socket.h"

namespace tutti {

struct PackedAddress {
  uint8_t family = 0;  // 4 or 6; anything else is rejected
  uint8_t pad = 0;
  uint16_t port = 0;  // network byte order
  uint8_t addr[16] = {};
};
static_assert(sizeof(PackedAddress) == 20, "wire layout");

inline PackedAddress packAddress(const SocketAddress& a) {
  PackedAddress p;
  if (a.storage.ss_family == AF_INET) {
    auto* in = reinterpret_cast<const sockaddr_in*>(&a.storage);
    p.family = 4;
    p.port = in->sin_port;
    memcpy(p.addr, &in->sin_addr, 4);
  } else if (a.storage.ss_family == AF_INET6) {
    auto* in = reinterpret_cast<const sockaddr_in6*>(&a.storage);
    p.family = 6;
    p.port = in->sin6_port;
    memcpy(p.addr, &in->sin6_addr, 16);
  }
  return p;
}

// False when the family byte is not 4 or 6 (bytes from the network are not trusted).
inline bool unpackAddress(const PackedAddress& p, SocketAddress* a) {
  memset(&a->storage, 0, sizeof(a->storage));
  if (p.family == 4) {
    auto* in = reinterpret_cast<sockaddr_in*>(&a->storage);
    in->sin_family = AF_INET;
    in->sin_port = p.port;
    memcpy(&in->sin_addr, p.addr, 4);
    a->length = sizeof(sockaddr_in);
    return true;
  }
  if (p.family == 6) {
    auto* in = reinterpret_cast<sockaddr_in6*>(&a->storage);
    in->sin6_family = AF_INET6;
    in->sin6_port = p.port;
    memcpy(&in->sin6_addr, p.addr, 16);
    a->length = sizeof(sockaddr_in6);
    return true;
  }
  return false;
}

}  // namespace tutti

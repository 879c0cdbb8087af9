// The network interfaces this host has, as a sentence for errors: a TUTTI_SOCKET_IFNAME that
// matches nothing must say what would have matched.
#pragma once

#include <string>

namespace tutti {

// "eth0 (10.0.0.2, up), lo (127.0.0.1, up, loopback)": every interface with an IPv4 or IPv6
// address, in getifaddrs order, each named once with its first address.
std::string describeInterfaces();

struct SocketAddress;
// The name of this host's interface that holds the IP address of `a` (port ignored), or "" when
// none does: a peer's address that is also ours is a peer on this host, or a mistake.
std::string localInterfaceWith(const SocketAddress& a);
// For an error about connecting to `a`, the address rank `peer` published: when `a` is this
// host's own, "; <ip> is an address of this host too (<ifname>): if rank <peer> runs on another
// host, both hosts have that address ..." (the classic case: each host's docker0 has
// 172.17.0.1); "" otherwise.
std::string sameAddressHint(const SocketAddress& a, int peer);

}  // namespace tutti

// Listing of the host's interfaces for error messages.
#include "bootstrap/interface_list.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include <cstring>
#include <set>

#include "bootstrap/socket.h"

namespace tutti {

std::string describeInterfaces() {
  ifaddrs* ifs = nullptr;
  if (getifaddrs(&ifs) != 0) return "(getifaddrs failed)";
  std::string out;
  std::set<std::string> seen;
  for (const ifaddrs* i = ifs; i; i = i->ifa_next) {
    if (!i->ifa_addr) continue;
    const int fam = i->ifa_addr->sa_family;
    if (fam != AF_INET && fam != AF_INET6) continue;
    if (!seen.insert(i->ifa_name).second) continue;
    char text[INET6_ADDRSTRLEN] = "?";
    const void* a =
        fam == AF_INET
            ? static_cast<const void*>(&reinterpret_cast<const sockaddr_in*>(i->ifa_addr)->sin_addr)
            : &reinterpret_cast<const sockaddr_in6*>(i->ifa_addr)->sin6_addr;
    inet_ntop(fam, a, text, sizeof(text));
    if (!out.empty()) out += ", ";
    out += std::string(i->ifa_name) + " (" + text + ((i->ifa_flags & IFF_UP) ? ", up" : ", down") +
           ((i->ifa_flags & IFF_LOOPBACK) ? ", loopback)" : ")");
  }
  freeifaddrs(ifs);
  return out.empty() ? "none with an IP address" : out;
}

std::string localInterfaceWith(const SocketAddress& a) {
  ifaddrs* ifs = nullptr;
  if (getifaddrs(&ifs) != 0) return "";
  std::string name;
  const int fam = a.storage.ss_family;
  for (const ifaddrs* i = ifs; i && name.empty(); i = i->ifa_next) {
    if (!i->ifa_addr || i->ifa_addr->sa_family != fam) continue;
    const bool same = fam == AF_INET
                          ? reinterpret_cast<const sockaddr_in*>(i->ifa_addr)->sin_addr.s_addr ==
                                reinterpret_cast<const sockaddr_in*>(&a.storage)->sin_addr.s_addr
                          : memcmp(&reinterpret_cast<const sockaddr_in6*>(i->ifa_addr)->sin6_addr,
                                   &reinterpret_cast<const sockaddr_in6*>(&a.storage)->sin6_addr,
                                   sizeof(in6_addr)) == 0;
    if (same) name = i->ifa_name;
  }
  freeifaddrs(ifs);
  return name;
}

std::string sameAddressHint(const SocketAddress& a, int peer) {
  const std::string ifname = localInterfaceWith(a);
  if (ifname.empty()) return "";
  std::string ip = a.toString();
  ip = ip.substr(0, ip.rfind(':'));
  return "; " + ip + " is an address of this host too (" + ifname + "): if rank " +
         std::to_string(peer) +
         " runs on another host, both hosts have that address (a docker or libvirt bridge does), "
         "and TUTTI_SOCKET_IFNAME must name an interface the hosts reach each other on";
}

}  // namespace tutti

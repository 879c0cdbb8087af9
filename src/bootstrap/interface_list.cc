// Listing of the host's interfaces for error messages.
#include "bootstrap/interface_list.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include <set>

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

}  // namespace tutti

// TUTTI_SOCKET_IFNAME (or NCCL_SOCKET_IFNAME) as data: "eth" (prefix), "=eth0" (exact names),
// "^docker,lo" (exclude prefixes), "^=eth1" (exclude exact names), comma-separated.
#pragma once

#include <string>
#include <vector>

namespace tutti {

struct InterfaceSpec {
  bool exclude = false;            // '^': the names say which interfaces not to use
  bool exact = false;              // '=': names match whole interface names, not prefixes
  std::vector<std::string> names;  // empty: no preference (first non-loopback interface)

  // True when `ifname` is one the spec selects (with no names: every interface).
  bool selects(const char* ifname) const;
};

// Parses the variable's text; never fails (empty list items are skipped).
InterfaceSpec parseInterfaceSpec(const std::string& text);

// Without TUTTI_SOCKET_IFNAME, which interface to prefer (lower first; the first of a class in
// the system's order wins), as NCCL does: 0 IPoIB (`ib*`), 1 any other, 2 the bridges that
// container and VM hosts create with the same address on every machine (`docker*`, `virbr*`),
// so that peers cannot reach it, 3 loopback.
int defaultInterfaceClass(const char* ifname, bool loopback);

}  // namespace tutti

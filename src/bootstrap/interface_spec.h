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

}  // namespace tutti

// Parsing and matching of TUTTI_SOCKET_IFNAME.
#include "bootstrap/interface_spec.h"

#include <cstring>

namespace tutti {

InterfaceSpec parseInterfaceSpec(const std::string& text) {
  InterfaceSpec spec;
  size_t pos = 0;
  if (pos < text.size() && text[pos] == '^') {
    spec.exclude = true;
    ++pos;
  }
  if (pos < text.size() && text[pos] == '=') {
    spec.exact = true;
    ++pos;
  }
  while (pos < text.size()) {
    size_t comma = text.find(',', pos);
    if (comma == std::string::npos) comma = text.size();
    if (comma > pos) spec.names.push_back(text.substr(pos, comma - pos));
    pos = comma + 1;
  }
  return spec;
}

bool InterfaceSpec::selects(const char* ifname) const {
  if (names.empty()) return true;
  bool listed = false;
  for (const auto& n : names)
    if (exact ? n == ifname : strncmp(ifname, n.c_str(), n.size()) == 0) listed = true;
  return listed != exclude;
}

int defaultInterfaceClass(const char* ifname, bool loopback) {
  if (loopback) return 3;
  if (strncmp(ifname, "docker", 6) == 0 || strncmp(ifname, "virbr", 5) == 0) return 2;
  if (strncmp(ifname, "ib", 2) == 0) return 0;
  return 1;
}

}  // namespace tutti

// TUTTI_SOCKET_IFNAME: parse any text, then ask it about interface names (fixed ones and the
// input's own list items). Input: "<spec>\n<name>\n<name>...".
#include "bootstrap/interface_spec.h"
#include "fuzz/fuzz_target.h"

using namespace tutti;

TUTTI_FUZZ_TARGET(ifname_spec) {
  fuzz::Input in(data, size);
  const std::string text = in.line();
  const InterfaceSpec spec = parseInterfaceSpec(text);
  for (const auto& n : spec.names)
    FUZZ_CHECK(!n.empty(), "empty name kept from '%s'", text.c_str());
  if (spec.names.empty()) FUZZ_CHECK(spec.selects("eth0"), "empty spec refuses eth0");
  for (const auto& n : spec.names) {
    if (n.find('\0') != std::string::npos) continue;  // no interface name holds a NUL
    // A listed name is selected by an include list and refused by an exclude list.
    FUZZ_CHECK(spec.selects(n.c_str()) == !spec.exclude, "'%s' vs its own name '%s'", text.c_str(),
               n.c_str());
  }
  for (const char* name : {"eth0", "lo", "ib0", "docker0", "", "enp1s0f1"})
    (void)spec.selects(name);
  while (in.left()) (void)spec.selects(in.line().c_str());
  return 0;
}

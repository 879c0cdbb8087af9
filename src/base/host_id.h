// Which ranks share a host: a hash of the hostname and boot id, overridable for emulating
// multi-node layouts on one machine (TUTTI_RANKS_PER_NODE) or pinning a name (TUTTI_HOSTID).
#pragma once

#include <cstdint>
#include <string>

namespace tutti {

std::string hostName();
uint64_t hostHash(int rank);
// The kernel this process runs on (hostname and boot id, never overridden): ranks of emulated
// nodes (TUTTI_HOSTID, TUTTI_RANKS_PER_NODE, network namespaces) on one machine share its CPUs,
// which is what decides whether waiting ranks may spin.
uint64_t machineHash();
uint64_t hashString(const std::string& s);

}  // namespace tutti

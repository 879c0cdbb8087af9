// Host identity for grouping ranks into nodes.
#include "base/host_id.h"

#include <unistd.h>

#include <fstream>

#include "base/env.h"

namespace tutti {

uint64_t hashString(const std::string& s) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

std::string hostName() {
  char name[256] = {};
  gethostname(name, sizeof(name) - 1);
  return name;
}

namespace {

std::string machineId() {
  std::string boot;
  std::ifstream f("/proc/sys/kernel/random/boot_id");
  std::getline(f, boot);
  return hostName() + boot;
}

}  // namespace

uint64_t machineHash() { return hashString(machineId()); }

uint64_t hostHash(int rank) {
  std::string id = envString("TUTTI_HOSTID");
  if (id.empty()) id = machineId();
  int64_t perNode = envInt("TUTTI_RANKS_PER_NODE", 0);
  if (perNode > 0) id += "/vnode" + std::to_string(rank / perNode);
  return hashString(id);
}

}  // namespace tutti

// The NCCL_* -> TUTTI_* variable table and the NCCL_ALGO translation.
#include "shim/env_map.h"

#include <strings.h>

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "base/logging.h"

namespace tutti::shim {
namespace {

// Variables whose values mean the same thing to both libraries.
struct EnvPair {
  const char* nccl;
  const char* tutti;
};
constexpr EnvPair kSameMeaning[] = {
    {"NCCL_TOPO_FILE", "TUTTI_TOPO_FILE"},
    {"NCCL_DEBUG_FILE", "TUTTI_DEBUG_FILE"},  // same %h / %p substitutions
    {"NCCL_COMM_BLOCKING", "TUTTI_COMM_BLOCKING"},
    {"NCCL_HOSTID", "TUTTI_HOSTID"},
    {"NCCL_MIN_CTAS", "TUTTI_MIN_CHANNELS"},
    {"NCCL_MAX_CTAS", "TUTTI_MAX_CHANNELS"},
    {"NCCL_MIN_NCHANNELS", "TUTTI_MIN_CHANNELS"},  // older spelling, used if CTAS is unset
    {"NCCL_MAX_NCHANNELS", "TUTTI_MAX_CHANNELS"},
    {"NCCL_P2P_DISABLE", "TUTTI_P2P_DISABLE"},  // device buffers through pinned host memory
    // Read by Tutti directly as fallbacks too; mapped so TUTTI_* shows the effective value.
    {"NCCL_DEBUG", "TUTTI_DEBUG"},
    {"NCCL_SOCKET_IFNAME", "TUTTI_SOCKET_IFNAME"},
    {"NCCL_COMM_ID", "TUTTI_COMM_ID"},
};

const char* nonEmpty(const char* name) {
  const char* v = getenv(name);
  return v && *v ? v : nullptr;
}

// Log lines wait until every variable is set: the first log line makes Tutti read
// TUTTI_DEBUG and TUTTI_DEBUG_FILE.
void setIfUnset(const char* tuttiName, const char* value, const char* from,
                std::vector<std::string>* notes) {
  if (nonEmpty(tuttiName)) return;
  setenv(tuttiName, value, 0);
  notes->push_back(std::string("shim: ") + tuttiName + "=" + value + " (from " + from + ")");
}

// NCCL_ALGO lists what NCCL may use ("Ring,Tree", "^NVLS", "allreduce:tree;..."); Tutti's
// TUTTI_ALGO forces one algorithm. Only a single plain Ring or Tree has a faithful
// translation; anything else leaves the choice to Tutti's tuner ("auto"), which never uses
// NVLS or CollNet. TUTTI_ALGO is always set when NCCL_ALGO is, so that Tutti never tries to
// parse NCCL's syntax itself.
std::string translateAlgo(const std::string& nccl) {
  if (!strcasecmp(nccl.c_str(), "ring")) return "ring";
  if (!strcasecmp(nccl.c_str(), "tree")) return "tree";
  return "auto";
}

void mapEnvironment() {
  std::vector<std::string> notes;
  for (const EnvPair& p : kSameMeaning)
    if (const char* v = nonEmpty(p.nccl)) setIfUnset(p.tutti, v, p.nccl, &notes);
  if (const char* algo = nonEmpty("NCCL_ALGO")) {
    std::string t = translateAlgo(algo);
    if (t == "auto" && !nonEmpty("TUTTI_ALGO"))
      notes.push_back(std::string("shim: NCCL_ALGO=") + algo +
                      " has no exact Tutti equivalent; Tutti's tuner chooses (set TUTTI_ALGO "
                      "or TUTTI_TUNE to force an algorithm)");
    setIfUnset("TUTTI_ALGO", t.c_str(), "NCCL_ALGO", &notes);
  }
  // NCCL with both peer-to-peer and shared memory disabled talks over the network only.
  const char* p2p = nonEmpty("NCCL_P2P_DISABLE");
  const char* shm = nonEmpty("NCCL_SHM_DISABLE");
  if (p2p && shm && atoi(p2p) == 1 && atoi(shm) == 1)
    setIfUnset("TUTTI_TRANSPORT", "socket", "NCCL_P2P_DISABLE=1 and NCCL_SHM_DISABLE=1", &notes);
  for (const std::string& n : notes) TUTTI_INFO("%s", n.c_str());
}

}  // namespace

void applyNcclEnvironment() {
  static std::once_flag once;
  std::call_once(once, mapEnvironment);
}

}  // namespace tutti::shim

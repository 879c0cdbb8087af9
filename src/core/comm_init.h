// Building a communicator: bootstrap, peer info exchange, transports, tuner, GPU state.
#pragma once

#include "core/comm.h"

namespace tutti {

// Resolved options of one rank (config fields merged with TUTTI_* variables).
struct InitOptions {
  int device = -1;
  int timeoutMs = 0;
  bool blocking = true;
  int minChannels = 1;
  int maxChannels = 0;
  std::string name;
};

// Reads `config` (may be null) up to the size the caller compiled, then fills the rest from
// the environment. tuttiInvalidArgument names a bad field.
Result resolveOptions(const tuttiConfig_t* config, InitOptions* out);
Result initComm(Comm* comm, int nranks, const tuttiUniqueId& id, int rank);
// Split of `parent` (collective over parent): *out is null for TUTTI_SPLIT_NOCOLOR.
Result splitComm(Comm* parent, int color, int key, const InitOptions& opt, Comm** out);

}  // namespace tutti

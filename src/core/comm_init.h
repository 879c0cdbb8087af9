// Building a communicator: bootstrap, peer info exchange, transports, topology, executors, tuner.
#pragma once

#include "core/comm.h"

namespace tutti {

// Reads `config` (may be null) up to the size the caller compiled, then fills the rest from
// the environment. tuttiInvalidArgument names a bad field.
Result resolveOptions(const tuttiConfig_t* config, CommConfig* out);
// Builds comm (config already set from resolveOptions) as rank `rank` of `nranks`.
Result initComm(Comm* comm, int nranks, const tuttiUniqueId& id, int rank);
// Split of `parent` (collective over parent): *out is null for TUTTI_SPLIT_NOCOLOR.
Result splitComm(Comm* parent, int color, int key, const CommConfig& opt, Comm** out);

}  // namespace tutti

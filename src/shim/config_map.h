// ncclConfig_t (any size a caller compiled, back to the first versioned layout) read into a
// tuttiConfig_t; fields Tutti has no use for are accepted and ignored.
#pragma once

#include <nccl.h>

#include <string>

#include "tutti/tutti.h"

namespace tutti::shim {

struct ResolvedConfig {
  tuttiConfig_t tutti = TUTTI_CONFIG_INITIALIZER;  // commName always NULL here: see get()
  std::string name;
  bool blocking = true;  // what the caller asked for (undefined: TUTTI/NCCL_COMM_BLOCKING)

  // The config to hand to Tutti, valid while this object is alive and unchanged.
  tuttiConfig_t get() const {
    tuttiConfig_t t = tutti;
    t.commName = name.empty() ? nullptr : name.c_str();
    return t;
  }
};

// `config` may be NULL: the result is then `inherited` (a split or shrink child) or the
// defaults. Fails with ncclInvalidArgument naming the bad field.
ncclResult_t readConfig(const ncclConfig_t* config, const tuttiConfig_t* inherited, const char* fn,
                        ResolvedConfig* out);

}  // namespace tutti::shim

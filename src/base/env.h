// Reading TUTTI_* environment variables with defaults and unit suffixes.
#pragma once

#include <cstdint>
#include <string>

namespace tutti {

// Returns the variable's value or `def` when unset or empty.
std::string envString(const char* name, const std::string& def = "");
// Integer value; an unparsable value is logged and `def` is used.
int64_t envInt(const char* name, int64_t def);
// Byte count with optional K/M/G suffix (powers of 1024) and optional B ("64KB", "512B").
uint64_t envBytes(const char* name, uint64_t def);
// Parses "64k", "1M", "512" into bytes; false when malformed.
bool parseBytes(const std::string& text, uint64_t* bytes);
// TUTTI_ALLOW_SHARED_GPU=1: several ranks may use one GPU (tests, one-GPU machines). Read at
// each communicator's init, not cached.
bool sharedGpuAllowed();

}  // namespace tutti

// Environment variable parsing shared by every layer.
#include "base/env.h"

#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdlib>

#include "base/logging.h"

namespace tutti {

std::string envString(const char* name, const std::string& def) {
  const char* v = getenv(name);
  return (v && *v) ? std::string(v) : def;
}

int64_t envInt(const char* name, int64_t def) {
  const char* v = getenv(name);
  if (!v || !*v) return def;
  char* end = nullptr;
  long long x = strtoll(v, &end, 0);
  if (*end != '\0') {
    TUTTI_WARN("ignoring %s=%s: not an integer, using %lld", name, v, (long long)def);
    return def;
  }
  return x;
}

bool parseBytes(const std::string& text, uint64_t* bytes) {
  if (text.empty() || !isdigit(static_cast<unsigned char>(text[0]))) return false;
  char* end = nullptr;
  errno = 0;
  unsigned long long x = strtoull(text.c_str(), &end, 10);
  if (errno == ERANGE) return false;  // more than 64 bits of digits
  uint64_t mult = 1;
  switch (tolower(static_cast<unsigned char>(*end))) {
    case '\0':
    case 'b': break;  // "512B", as "64KB": the B is consumed below
    case 'k':
      mult = 1ull << 10;
      ++end;
      break;
    case 'm':
      mult = 1ull << 20;
      ++end;
      break;
    case 'g':
      mult = 1ull << 30;
      ++end;
      break;
    default: return false;
  }
  if (*end == 'b' || *end == 'B') ++end;
  // The whole string, not just up to a NUL inside it.
  if (end != text.c_str() + text.size()) return false;
  if (x > UINT64_MAX / mult) return false;  // the suffix would overflow
  *bytes = x * mult;
  return true;
}

uint64_t envBytes(const char* name, uint64_t def) {
  const char* v = getenv(name);
  if (!v || !*v) return def;
  uint64_t bytes = 0;
  if (!parseBytes(v, &bytes)) {
    TUTTI_WARN("ignoring %s=%s: not a byte count, using %llu", name, v, (unsigned long long)def);
    return def;
  }
  return bytes;
}

bool sharedGpuAllowed() { return envInt("TUTTI_ALLOW_SHARED_GPU", 0) != 0; }

}  // namespace tutti

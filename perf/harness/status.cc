// Status construction from printf-style messages.
#include "harness/status.h"

#include <cstdarg>
#include <cstdio>

namespace tutti::perf {

Status Status::error(const char* fmt, ...) {
  Status s;
  s.ok_ = false;
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  s.message_ = buf;
  return s;
}

}  // namespace tutti::perf

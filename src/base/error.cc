// Thread-local error message storage behind setError/addErrorContext.
#include "base/error.h"

#include <cstdarg>
#include <cstdio>

namespace tutti {
namespace {

thread_local std::string tlsError;

std::string vformat(const char* fmt, va_list ap) {
  char buf[1024];
  int n = vsnprintf(buf, sizeof(buf), fmt, ap);
  if (n < 0) return "(unformattable message)";
  return std::string(buf, static_cast<size_t>(n) < sizeof(buf) ? n : sizeof(buf) - 1);
}

}  // namespace

Result setError(Result code, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  tlsError = vformat(fmt, ap);
  va_end(ap);
  return code;
}

void addErrorContext(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  std::string context = vformat(fmt, ap);
  va_end(ap);
  tlsError = tlsError.empty() ? context : context + ": " + tlsError;
}

const std::string& lastError() { return tlsError; }

void clearError() { tlsError.clear(); }

}  // namespace tutti

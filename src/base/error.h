// Internal error handling: a result code plus a thread-local sentence that grows context as
// it travels up ("AllReduce: receiving from rank 3: peer closed the connection").
#pragma once

#include <string>

#include "tutti/tutti.h"

namespace tutti {

using Result = tuttiResult_t;

// Records `code` with a printf-style message as this thread's error and returns `code`.
Result setError(Result code, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
// Prepends "<context>: " to this thread's error message.
void addErrorContext(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
const std::string& lastError();
void clearError();

}  // namespace tutti

// Returns the failure of `call` to the caller after prefixing the message with the context.
#define TUTTI_CHECK(call, ...)               \
  do {                                       \
    ::tutti::Result tuttiRes_ = (call);      \
    if (tuttiRes_ != tuttiSuccess) {         \
      ::tutti::addErrorContext(__VA_ARGS__); \
      return tuttiRes_;                      \
    }                                        \
  } while (0)

// Returns the failure of `call` unchanged.
#define TUTTI_TRY(call)                              \
  do {                                               \
    ::tutti::Result tuttiRes_ = (call);              \
    if (tuttiRes_ != tuttiSuccess) return tuttiRes_; \
  } while (0)

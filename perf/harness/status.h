// Status: the result of a harness step, carrying a sentence on failure. The harness never throws;
// binaries print the message and exit non-zero.
#pragma once

#include <string>
#include <utility>

namespace tutti::perf {

class Status {
 public:
  Status() = default;
  static Status ok() { return Status(); }
  // printf-style message.
  static Status error(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

  bool isOk() const { return ok_; }
  const std::string& message() const { return message_; }

 private:
  bool ok_ = true;
  std::string message_;
};

}  // namespace tutti::perf

// Returns the status of `expr` from the enclosing function when it failed.
#define PERF_TRY(expr)                                 \
  do {                                                 \
    ::tutti::perf::Status perfTryStatus_ = (expr);     \
    if (!perfTryStatus_.isOk()) return perfTryStatus_; \
  } while (0)

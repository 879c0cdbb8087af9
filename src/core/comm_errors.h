// A communicator's failure state, shared by every thread that uses it: the abort flag every
// wait polls, the first fatal error (what tuttiCommGetAsyncError reports), the sentence behind
// the last failure, and the API calls in flight (tuttiCommAbort waits for them).
#pragma once

#include <atomic>
#include <mutex>
#include <string>

#include "base/error.h"

namespace tutti {

class CommErrors {
 public:
  std::atomic<bool> abortFlag{false};
  std::atomic<int> activeCalls{0};
  // tuttiInProgress while a non-blocking init runs, then the first fatal error or success.
  std::atomic<int> asyncError{tuttiSuccess};

  // Records `r` with `message` as the fatal error; true when this call was the first.
  bool setFatal(Result r, const std::string& message);
  // Remembers the sentence of a failed call (tuttiGetLastError(comm)).
  void remember(const std::string& message);
  std::string last() const;

 private:
  mutable std::mutex mutex_;
  std::string last_;
};

}  // namespace tutti

// Communicator failure state.
#include "core/comm_errors.h"

namespace tutti {

bool CommErrors::setFatal(Result r, const std::string& message) {
  int expected = tuttiSuccess;
  if (!asyncError.compare_exchange_strong(expected, r)) return false;
  remember(message);
  return true;
}

void CommErrors::remember(const std::string& message) {
  std::lock_guard<std::mutex> lock(mutex_);
  last_ = message;
}

std::string CommErrors::last() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return last_;
}

}  // namespace tutti

// The names of this process's threads (/proc/self/task/*/comm), for tests that check which of
// the library's threads (base/thread_name.h) are still running.
#pragma once

#include <string>

namespace tutti::testing {

// The names that start with `prefix`, each with its newline ("tutti-ucx-idle\n"); "" when none.
std::string threadsNamed(const std::string& prefix);

}  // namespace tutti::testing

// Whether libucp.so.0 loads here: the UCX transport is registered in every build but loads UCX
// at run time, so its test cases are skipped where it does not.
#pragma once

#include <string>

namespace tutti::testing {

// True when libucp.so.0 loads; otherwise `why` (when given) has dlopen's reason.
bool ucxLoads(std::string* why = nullptr);

}  // namespace tutti::testing

#include "testing/ucx_loads.h"

#include <dlfcn.h>

namespace tutti::testing {

bool ucxLoads(std::string* why) {
  void* h = dlopen("libucp.so.0", RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    const char* e = dlerror();
    if (why) *why = e ? e : "dlopen failed";
    return false;
  }
  dlclose(h);
  return true;
}

}  // namespace tutti::testing

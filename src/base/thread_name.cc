#include "base/thread_name.h"

#include <pthread.h>

#include <cstdio>

namespace tutti {

void nameThisThread(const char* what) {
  char name[16];  // the kernel's limit, with the terminator
  snprintf(name, sizeof(name), "tutti-%s", what);
  pthread_setname_np(pthread_self(), name);
}

}  // namespace tutti

#include "testing/thread_names.h"

#include <dirent.h>

#include <fstream>
#include <sstream>

namespace tutti::testing {

std::string threadsNamed(const std::string& prefix) {
  std::string names;
  DIR* d = opendir("/proc/self/task");
  if (!d) return "?";
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::ifstream f(std::string("/proc/self/task/") + e->d_name + "/comm");
    std::stringstream comm;
    comm << f.rdbuf();
    if (comm.str().rfind(prefix, 0) == 0) names += comm.str();
  }
  closedir(d);
  return names;
}

}  // namespace tutti::testing

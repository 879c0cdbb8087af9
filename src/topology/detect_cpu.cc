// CPU packages and NUMA nodes: hwloc when the build found it, else /sys/devices/system/node.
#include <dirent.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "topology/detect_internal.h"

#ifdef TUTTI_HAVE_HWLOC
#include <hwloc.h>
#endif

namespace tutti {
namespace {

// "0-3,8-11" -> 8.
int countCpuList(const std::string& list) {
  int n = 0;
  std::stringstream ss(list);
  std::string range;
  while (std::getline(ss, range, ',')) {
    size_t dash = range.find('-');
    if (range.empty()) continue;
    if (dash == std::string::npos)
      n += 1;
    else
      n += atoi(range.c_str() + dash + 1) - atoi(range.c_str()) + 1;
  }
  return n;
}

std::string cpuModelFromProc() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line))
    if (line.compare(0, 10, "model name") == 0) {
      size_t colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(' ', colon + 1));
    }
  return "";
}

void detectFromSysfs(const std::string& sysfsRoot, std::vector<DetectedCpu>* cpus) {
  const std::string dir = sysfsRoot + "/devices/system/node";
  DIR* d = opendir(dir.c_str());
  const std::string model = cpuModelFromProc();
  if (d) {
    while (dirent* e = readdir(d)) {
      int numa;
      char tail;
      if (sscanf(e->d_name, "node%d%c", &numa, &tail) != 1) continue;
      DetectedCpu c;
      c.numa = numa;
      c.package = numa;
      c.cores = countCpuList(readSysfs(dir + "/" + e->d_name + "/cpulist"));
      c.model = model;
      cpus->push_back(c);
    }
    closedir(d);
  }
  if (cpus->empty()) {
    DetectedCpu c;
    c.model = model;
    cpus->push_back(c);
  }
}

}  // namespace

void detectCpus(const std::string& sysfsRoot, std::vector<DetectedCpu>* cpus, std::string* how) {
  cpus->clear();
#ifdef TUTTI_HAVE_HWLOC
  if (sysfsRoot == "/sys") {
    hwloc_topology_t t;
    if (hwloc_topology_init(&t) == 0) {
      hwloc_topology_set_io_types_filter(t, HWLOC_TYPE_FILTER_KEEP_NONE);
      if (hwloc_topology_load(t) == 0) {
        const int nn = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_NUMANODE);
        for (int i = 0; i < nn; ++i) {
          hwloc_obj_t numa = hwloc_get_obj_by_type(t, HWLOC_OBJ_NUMANODE, i);
          DetectedCpu c;
          c.numa = static_cast<int>(numa->os_index);
          c.cores = hwloc_get_nbobjs_inside_cpuset_by_type(t, numa->cpuset, HWLOC_OBJ_CORE);
          hwloc_obj_t pkg = nullptr;
          while ((pkg = hwloc_get_next_obj_by_type(t, HWLOC_OBJ_PACKAGE, pkg)))
            if (hwloc_bitmap_intersects(pkg->cpuset, numa->cpuset)) break;
          if (pkg) {
            c.package = static_cast<int>(pkg->os_index);
            const char* model = hwloc_obj_get_info_by_name(pkg, "CPUModel");
            if (model) c.model = model;
          }
          cpus->push_back(c);
        }
      }
      hwloc_topology_destroy(t);
    }
    if (!cpus->empty()) {
      *how = "hwloc";
      return;
    }
  }
#endif
  detectFromSysfs(sysfsRoot, cpus);
  *how = "sysfs";
}

}  // namespace tutti

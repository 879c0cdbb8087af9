// NIC detection: RDMA devices through libibverbs (opened with dlopen; port state, speed and
// width), GPUDirect RDMA from the nvidia_peermem / nv_peer_mem module, then the remaining
// physical network interfaces of /sys/class/net.
#include <dirent.h>
#include <dlfcn.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <sstream>

#include "topology/detect_internal.h"

#ifdef TUTTI_HAVE_IBVERBS
#include <infiniband/verbs.h>
#endif

namespace tutti {
namespace {

bool exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

std::vector<std::string> listDir(const std::string& dir) {
  std::vector<std::string> out;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d))
      if (e->d_name[0] != '.') out.push_back(e->d_name);
    closedir(d);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The PCI device a sysfs class entry sits on ("" for virtual devices).
std::string pciDeviceOf(const std::string& classEntryDevice) {
  char real[PATH_MAX];
  if (!realpath(classEntryDevice.c_str(), real)) return "";
  std::string found;
  std::stringstream ss(real);
  std::string part;
  while (std::getline(ss, part, '/')) {
    unsigned d, b, v, f;
    char tail;
    if (sscanf(part.c_str(), "%x:%x:%x.%x%c", &d, &b, &v, &f, &tail) == 4) found = part;
  }
  return found;
}

// "400 Gb/sec (4X NDR)" -> 400.
double parseRate(const std::string& rate) { return atof(rate.c_str()); }

#ifdef TUTTI_HAVE_IBVERBS
double ibWidth(uint8_t w) {
  switch (w) {
    case 1: return 1;
    case 2: return 4;
    case 4: return 8;
    case 8: return 12;
    case 16: return 2;
    default: return 0;
  }
}

double ibLaneGbps(uint8_t s) {
  switch (s) {
    case 1: return 2.5;
    case 2: return 5;
    case 4:
    case 8: return 10;
    case 16: return 14;
    case 32: return 25;
    case 64: return 50;
    case 128: return 100;
    default: return 0;
  }
}

// RDMA devices and their active ports through libibverbs.
bool detectVerbs(const std::string& sysfsRoot, bool gdr, std::vector<DetectedNic>* nics) {
  void* lib = dlopen("libibverbs.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib) return false;
  auto getList = reinterpret_cast<ibv_device** (*)(int*)>(dlsym(lib, "ibv_get_device_list"));
  auto freeList = reinterpret_cast<void (*)(ibv_device**)>(dlsym(lib, "ibv_free_device_list"));
  auto getName = reinterpret_cast<const char* (*)(ibv_device*)>(dlsym(lib, "ibv_get_device_name"));
  auto open = reinterpret_cast<ibv_context* (*)(ibv_device*)>(dlsym(lib, "ibv_open_device"));
  auto close = reinterpret_cast<int (*)(ibv_context*)>(dlsym(lib, "ibv_close_device"));
  auto queryDev =
      reinterpret_cast<int (*)(ibv_context*, ibv_device_attr*)>(dlsym(lib, "ibv_query_device"));
  auto queryPort = reinterpret_cast<int (*)(ibv_context*, uint8_t, ibv_port_attr*)>(
      dlsym(lib, "ibv_query_port"));
  if (!getList || !freeList || !getName || !open || !close || !queryDev || !queryPort) {
    dlclose(lib);
    return false;
  }
  int n = 0;
  ibv_device** list = getList(&n);
  for (int i = 0; list && i < n; ++i) {
    const std::string name = getName(list[i]);
    ibv_context* ctx = open(list[i]);
    if (!ctx) continue;
    ibv_device_attr attr;
    memset(&attr, 0, sizeof(attr));
    if (queryDev(ctx, &attr) == 0) {
      for (int port = 1; port <= attr.phys_port_cnt; ++port) {
        ibv_port_attr pa;
        memset(&pa, 0, sizeof(pa));
        if (queryPort(ctx, static_cast<uint8_t>(port), &pa) != 0 || pa.state != IBV_PORT_ACTIVE)
          continue;
        DetectedNic nic;
        nic.name = attr.phys_port_cnt > 1 ? name + ":" + std::to_string(port) : name;
        nic.port = port;
        nic.rdma = true;
        nic.gdr = gdr;
        nic.gbps = ibLaneGbps(pa.active_speed) * ibWidth(pa.active_width);
        const std::string dev = sysfsRoot + "/class/infiniband/" + name;
        const std::string rate = readSysfs(dev + "/ports/" + std::to_string(port) + "/rate");
        if (parseRate(rate) > 0) nic.gbps = parseRate(rate);  // knows XDR and newer codes too
        nic.busId = pciDeviceOf(dev + "/device");
        std::vector<std::string> nets = listDir(dev + "/device/net");
        if (!nets.empty()) nic.netdev = nets[0];
        nic.model = pa.link_layer == IBV_LINK_LAYER_ETHERNET ? "RoCE" : "InfiniBand";
        nics->push_back(nic);
      }
    }
    close(ctx);
  }
  if (list) freeList(list);
  // libibverbs keeps provider libraries loaded; leave it open.
  return true;
}
#endif

// RDMA devices from /sys/class/infiniband when libibverbs is not usable.
void detectIbSysfs(const std::string& sysfsRoot, bool gdr, std::vector<DetectedNic>* nics) {
  const std::string base = sysfsRoot + "/class/infiniband";
  for (const std::string& name : listDir(base)) {
    std::vector<std::string> ports = listDir(base + "/" + name + "/ports");
    for (const std::string& p : ports) {
      const std::string pdir = base + "/" + name + "/ports/" + p;
      if (readSysfs(pdir + "/state").find("ACTIVE") == std::string::npos) continue;
      DetectedNic nic;
      nic.port = atoi(p.c_str());
      nic.name = ports.size() > 1 ? name + ":" + p : name;
      nic.rdma = true;
      nic.gdr = gdr;
      nic.gbps = parseRate(readSysfs(pdir + "/rate"));
      nic.busId = pciDeviceOf(base + "/" + name + "/device");
      std::vector<std::string> nets = listDir(base + "/" + name + "/device/net");
      if (!nets.empty()) nic.netdev = nets[0];
      nic.model = readSysfs(pdir + "/link_layer") == "Ethernet" ? "RoCE" : "InfiniBand";
      nics->push_back(nic);
    }
  }
}

}  // namespace

void detectNics(const std::string& sysfsRoot, std::vector<DetectedNic>* nics, std::string* how) {
  nics->clear();
  const bool gdr =
      exists(sysfsRoot + "/module/nvidia_peermem") || exists(sysfsRoot + "/module/nv_peer_mem");
  bool verbs = false;
#ifdef TUTTI_HAVE_IBVERBS
  if (sysfsRoot == "/sys") verbs = detectVerbs(sysfsRoot, gdr, nics);
#endif
  if (!verbs) detectIbSysfs(sysfsRoot, gdr, nics);
  *how = verbs ? "ibverbs" : "sysfs";
  // Physical interfaces not already covered by an RDMA device (IPoIB, RoCE netdevs).
  const std::string base = sysfsRoot + "/class/net";
  for (const std::string& name : listDir(base)) {
    if (name == "lo" || !exists(base + "/" + name + "/device")) continue;
    if (readSysfs(base + "/" + name + "/operstate") == "down") continue;
    const std::string busId = pciDeviceOf(base + "/" + name + "/device");
    bool covered = std::any_of(nics->begin(), nics->end(), [&](const DetectedNic& n) {
      return n.netdev == name || (!busId.empty() && n.busId == busId);
    });
    if (covered) continue;
    DetectedNic nic;
    nic.name = name;
    nic.netdev = name;
    nic.busId = busId;
    const int mbps = atoi(readSysfs(base + "/" + name + "/speed").c_str());
    nic.gbps = mbps > 0 ? mbps / 1000.0 : 10.0;  // virtio and friends report no speed
    std::string driver = "ethernet";
    char real[PATH_MAX];
    if (realpath((base + "/" + name + "/device/driver").c_str(), real)) {
      driver = real;
      driver = driver.substr(driver.rfind('/') + 1);
    }
    nic.model = driver + (mbps > 0 ? "" : " (speed unknown, assuming 10 Gb/s)");
    nics->push_back(nic);
  }
}

}  // namespace tutti

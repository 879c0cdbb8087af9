// NIC detection: RDMA devices through libibverbs (nic_verbs.h: port state, link layer, speed
// and width), GPUDirect RDMA from the nvidia_peermem / nv_peer_mem module, then the remaining
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
#include "topology/nic_verbs.h"

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

// RDMA devices and their active ports through libibverbs (nic_verbs.h).
bool detectVerbs(const std::string& sysfsRoot, bool gdr, std::vector<DetectedNic>* nics,
                 std::string* why) {
  std::vector<VerbsPort> ports;
  if (queryVerbsPorts(&ports, why) != VerbsStatus::kOk) return false;
  std::vector<std::string> devices;
  for (const VerbsPort& p : ports) {
    int perDevice = 0;
    for (const VerbsPort& q : ports) perDevice += q.device == p.device;
    if (!p.active) continue;
    DetectedNic nic;
    nic.name = perDevice > 1 ? p.device + ":" + std::to_string(p.port) : p.device;
    nic.port = p.port;
    nic.rdma = true;
    nic.gdr = gdr;
    nic.gbps = p.gbps;
    const std::string dev = sysfsRoot + "/class/infiniband/" + p.device;
    const std::string rate = readSysfs(dev + "/ports/" + std::to_string(p.port) + "/rate");
    if (nic.gbps == 0 && parseRate(rate) > 0) nic.gbps = parseRate(rate);  // codes we lack
    nic.busId = pciDeviceOf(dev + "/device");
    std::vector<std::string> nets = listDir(dev + "/device/net");
    if (!nets.empty()) nic.netdev = nets[0];
    nic.model = p.ethernet ? "RoCE" : "InfiniBand";
    nics->push_back(nic);
  }
  return true;
}

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
  // libibverbs describes the live machine only; a sysfs root given for tests is read as files.
  bool verbs = false;
  std::string why = "a test sysfs root";
  if (sysfsRoot == "/sys") verbs = detectVerbs(sysfsRoot, gdr, nics, &why);
  if (!verbs) detectIbSysfs(sysfsRoot, gdr, nics);
  *how = verbs ? "ibverbs" : "sysfs (" + why + ")";
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

// GPU detection through NVML and the CUDA runtime, both opened with dlopen so that a
// CPU-only build (and a machine without a driver) works: bus ids, names, NVLink peers and
// lane counts, P2P capability and the CUDA device number of each GPU.
#include <dlfcn.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "base/device.h"
#include "base/env.h"
#include "topology/detect_internal.h"

namespace tutti {
namespace {

// The subset of nvml.h used here (ABI-stable since NVML 9).
using NvmlDevice = void*;
struct NvmlPciInfo {
  char busIdLegacy[16];
  unsigned domain, bus, device, pciDeviceId, pciSubSystemId;
  char busId[32];
};
constexpr int kNvmlSuccess = 0;
constexpr unsigned kNvmlMaxLinks = 18;
constexpr int kNvmlP2pRead = 0;  // NVML_P2P_CAPS_INDEX_READ
constexpr int kNvmlP2pOk = 0;    // NVML_P2P_STATUS_OK
constexpr int kNvlinkRemoteSwitch = 2;

struct Nvml {
  void* lib = nullptr;
  int (*init)() = nullptr;
  int (*shutdown)() = nullptr;
  int (*count)(unsigned*) = nullptr;
  int (*byIndex)(unsigned, NvmlDevice*) = nullptr;
  int (*pciInfo)(NvmlDevice, NvmlPciInfo*) = nullptr;
  int (*name)(NvmlDevice, char*, unsigned) = nullptr;
  int (*linkState)(NvmlDevice, unsigned, int*) = nullptr;
  int (*linkVersion)(NvmlDevice, unsigned, unsigned*) = nullptr;
  int (*remotePci)(NvmlDevice, unsigned, NvmlPciInfo*) = nullptr;
  int (*remoteType)(NvmlDevice, unsigned, int*) = nullptr;
  int (*p2p)(NvmlDevice, NvmlDevice, int, int*) = nullptr;
  int (*arch)(NvmlDevice, unsigned*) = nullptr;

  bool open() {
    lib = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!lib) return false;
    auto sym = [&](const char* a, const char* b = nullptr) {
      void* p = dlsym(lib, a);
      return p || !b ? p : dlsym(lib, b);
    };
    init = reinterpret_cast<int (*)()>(sym("nvmlInit_v2", "nvmlInit"));
    shutdown = reinterpret_cast<int (*)()>(sym("nvmlShutdown"));
    count =
        reinterpret_cast<int (*)(unsigned*)>(sym("nvmlDeviceGetCount_v2", "nvmlDeviceGetCount"));
    byIndex = reinterpret_cast<int (*)(unsigned, NvmlDevice*)>(
        sym("nvmlDeviceGetHandleByIndex_v2", "nvmlDeviceGetHandleByIndex"));
    pciInfo = reinterpret_cast<int (*)(NvmlDevice, NvmlPciInfo*)>(
        sym("nvmlDeviceGetPciInfo_v3", "nvmlDeviceGetPciInfo_v2"));
    name = reinterpret_cast<int (*)(NvmlDevice, char*, unsigned)>(sym("nvmlDeviceGetName"));
    linkState =
        reinterpret_cast<int (*)(NvmlDevice, unsigned, int*)>(sym("nvmlDeviceGetNvLinkState"));
    linkVersion = reinterpret_cast<int (*)(NvmlDevice, unsigned, unsigned*)>(
        sym("nvmlDeviceGetNvLinkVersion"));
    remotePci = reinterpret_cast<int (*)(NvmlDevice, unsigned, NvmlPciInfo*)>(
        sym("nvmlDeviceGetNvLinkRemotePciInfo_v2", "nvmlDeviceGetNvLinkRemotePciInfo"));
    remoteType = reinterpret_cast<int (*)(NvmlDevice, unsigned, int*)>(
        sym("nvmlDeviceGetNvLinkRemoteDeviceType"));
    p2p =
        reinterpret_cast<int (*)(NvmlDevice, NvmlDevice, int, int*)>(sym("nvmlDeviceGetP2PStatus"));
    arch = reinterpret_cast<int (*)(NvmlDevice, unsigned*)>(sym("nvmlDeviceGetArchitecture"));
    if (!init || !count || !byIndex || !pciInfo || init() != kNvmlSuccess) {
      dlclose(lib);
      lib = nullptr;
      return false;
    }
    return true;
  }
  ~Nvml() {
    if (lib) {
      if (shutdown) shutdown();
      dlclose(lib);
    }
  }
};

// Per-lane NVLink bandwidth (GB/s per direction). The GPU architecture decides where NVML
// knows it (NVLink 1 on Pascal ... NVLink 5 on Blackwell): nvmlDeviceGetNvLinkVersion
// returns an enum (1.0, 2.0, 2.2, 3.0, 3.1, 4.0, 5.0 = 1..7) that some drivers report
// inconsistently for Hopper.
double laneBandwidth(unsigned arch, unsigned versionEnum) {
  switch (arch) {                        // NVML_DEVICE_ARCH_*
    case 4: return nvlinkBandwidth(1);   // Pascal
    case 5: return nvlinkBandwidth(2);   // Volta
    case 7: return nvlinkBandwidth(3);   // Ampere
    case 9: return nvlinkBandwidth(4);   // Hopper
    case 10: return nvlinkBandwidth(5);  // Blackwell
    default: break;
  }
  static const int majorOf[] = {0, 1, 2, 2, 3, 3, 4, 5};
  return nvlinkBandwidth(versionEnum < 8 ? majorOf[versionEnum] : 5);
}

// CUDA device numbers (CUDA_VISIBLE_DEVICES and ordering applied) -> bus ids.
std::vector<std::string> cudaBusIds(std::string* how) {
  std::vector<std::string> ids;
  const int hooked = gpuDeviceCount();
  if (hooked > 0) {  // a CUDA build: the GPU executor's runtime already answers
    for (int d = 0; d < hooked; ++d) {
      int64_t id = gpuBusId(d);
      char buf[32];
      snprintf(buf, sizeof(buf), "%04x:%02x:%02x.0", static_cast<unsigned>(id >> 16) & 0xffff,
               static_cast<unsigned>(id >> 8) & 0xff, static_cast<unsigned>(id) & 0xff);
      ids.push_back(id < 0 ? "" : buf);
    }
    *how += "CUDA (linked)";
    return ids;
  }
  if (envInt("TUTTI_TOPO_CUDA", 1) == 0) return ids;
  const char* names[] = {"libcudart.so", "libcudart.so.13", "libcudart.so.12", "libcudart.so.11.0",
                         "/usr/local/cuda/lib64/libcudart.so"};
  void* lib = nullptr;
  for (const char* n : names)
    if ((lib = dlopen(n, RTLD_NOW | RTLD_LOCAL))) break;
  if (!lib) return ids;
  auto count = reinterpret_cast<int (*)(int*)>(dlsym(lib, "cudaGetDeviceCount"));
  auto busId = reinterpret_cast<int (*)(char*, int, int)>(dlsym(lib, "cudaDeviceGetPCIBusId"));
  int n = 0;
  if (count && busId && count(&n) == 0) {
    for (int d = 0; d < n; ++d) {
      char buf[64] = {};
      ids.push_back(busId(buf, sizeof(buf), d) == 0 ? normalizeBusId(buf) : "");
    }
    *how += "CUDA runtime (dlopen)";
  }
  // The runtime stays loaded: unloading it while its threads may run is unsafe.
  return ids;
}

}  // namespace

void detectGpus(std::vector<DetectedGpu>* gpus, std::string* how) {
  gpus->clear();
  Nvml nvml;
  std::vector<std::string> cuda;
  std::vector<NvmlDevice> handles;
  if (nvml.open()) {
    *how += "NVML";
    unsigned n = 0;
    nvml.count(&n);
    for (unsigned i = 0; i < n; ++i) {
      NvmlDevice d;
      NvmlPciInfo pci{};
      if (nvml.byIndex(i, &d) != kNvmlSuccess || nvml.pciInfo(d, &pci) != kNvmlSuccess) continue;
      DetectedGpu g;
      g.busId = normalizeBusId(pci.busId);
      char name[96] = {};
      if (nvml.name && nvml.name(d, name, sizeof(name)) == kNvmlSuccess) g.model = name;
      gpus->push_back(g);
      handles.push_back(d);
    }
    if (!gpus->empty()) {
      *how += ", ";
      cuda = cudaBusIds(how);
    }
  } else {
    cuda = cudaBusIds(how);
    for (const std::string& id : cuda) {
      DetectedGpu g;
      g.busId = id;
      gpus->push_back(g);
    }
  }
  // CUDA device numbers; GPUs CUDA cannot see are dropped (CUDA_VISIBLE_DEVICES).
  if (!cuda.empty()) {
    std::vector<DetectedGpu> visible;
    std::vector<NvmlDevice> visibleHandles;
    for (size_t d = 0; d < cuda.size(); ++d)
      for (size_t i = 0; i < gpus->size(); ++i)
        if ((*gpus)[i].busId == cuda[d]) {
          visible.push_back((*gpus)[i]);
          visible.back().dev = static_cast<int>(d);
          if (i < handles.size()) visibleHandles.push_back(handles[i]);
        }
    if (!visible.empty() || handles.empty()) {
      gpus->swap(visible);
      handles.swap(visibleHandles);
    }
  } else {
    for (size_t i = 0; i < gpus->size(); ++i) (*gpus)[i].dev = static_cast<int>(i);
  }
  if (handles.size() != gpus->size()) return;  // no NVML: no NVLink or P2P information
  for (size_t i = 0; i < gpus->size(); ++i) {
    DetectedGpu& g = (*gpus)[i];
    unsigned arch = 0;
    if (nvml.arch && nvml.arch(handles[i], &arch) != kNvmlSuccess) arch = 0;
    for (unsigned link = 0; nvml.linkState && link < kNvmlMaxLinks; ++link) {
      int active = 0;
      if (nvml.linkState(handles[i], link, &active) != kNvmlSuccess || !active) continue;
      unsigned version = 0;
      if (nvml.linkVersion && nvml.linkVersion(handles[i], link, &version) != kNvmlSuccess)
        version = 0;
      g.nvlinkLaneBw = std::max(g.nvlinkLaneBw, laneBandwidth(arch, version));
      NvmlPciInfo remote{};
      int type = -1;
      if (nvml.remoteType) nvml.remoteType(handles[i], link, &type);
      std::string peer;
      if (nvml.remotePci && nvml.remotePci(handles[i], link, &remote) == kNvmlSuccess)
        peer = normalizeBusId(remote.busId);
      bool isGpu =
          type != kNvlinkRemoteSwitch &&
          std::any_of(gpus->begin(), gpus->end(), [&](auto& o) { return o.busId == peer; });
      if (!isGpu) {
        g.nvswitchLanes++;
        continue;
      }
      auto it = std::find_if(g.nvlinkPeers.begin(), g.nvlinkPeers.end(),
                             [&](auto& p) { return p.first == peer; });
      if (it == g.nvlinkPeers.end())
        g.nvlinkPeers.push_back({peer, 1});
      else
        it->second++;
    }
    for (size_t j = 0; nvml.p2p && j < gpus->size(); ++j) {
      if (j == i) continue;
      int status = kNvmlP2pOk;
      if (nvml.p2p(handles[i], handles[j], kNvmlP2pRead, &status) == kNvmlSuccess &&
          status != kNvmlP2pOk)
        g.noP2p.push_back((*gpus)[j].busId);
    }
  }
}

}  // namespace tutti

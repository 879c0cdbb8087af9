// libibverbs through dlopen: the device list and ibv_query_port, with our own declaration of the
// leading fields of struct ibv_port_attr (stable rdma-core ABI; checked against verbs.h below
// when it is present).
#include "topology/nic_verbs.h"

#include <dlfcn.h>

#include <cstddef>
#include <cstring>

#include "base/env.h"

#ifdef TUTTI_HAVE_IBVERBS
#include <infiniband/verbs.h>
#endif

namespace tutti {
namespace {

// struct ibv_port_attr up to link_layer (offsets as in rdma-core's verbs.h, every version).
struct PortAttr {
  int state;
  int maxMtu, activeMtu;
  int gidTblLen;
  uint32_t portCapFlags, maxMsgSz, badPkeyCntr, qkeyViolCntr;
  uint16_t pkeyTblLen, lid, smLid;
  uint8_t lmc, maxVlNum, smSl, subnetTimeout, initTypeReply;
  uint8_t activeWidth, activeSpeed, physState, linkLayer, flags;
  uint16_t portCapFlags2;
  uint32_t activeSpeedEx;
  char spare[192];  // room for fields newer libraries add
};
constexpr int kPortActive = 4;         // IBV_PORT_ACTIVE
constexpr int kLinkLayerEthernet = 2;  // IBV_LINK_LAYER_ETHERNET
static_assert(offsetof(PortAttr, activeWidth) == 43 && offsetof(PortAttr, linkLayer) == 46,
              "ibv_port_attr layout");
#ifdef TUTTI_HAVE_IBVERBS
static_assert(offsetof(PortAttr, activeWidth) == offsetof(ibv_port_attr, active_width) &&
                  offsetof(PortAttr, activeSpeed) == offsetof(ibv_port_attr, active_speed) &&
                  offsetof(PortAttr, linkLayer) == offsetof(ibv_port_attr, link_layer) &&
                  offsetof(PortAttr, state) == offsetof(ibv_port_attr, state),
              "PortAttr must match the installed verbs.h");
static_assert(IBV_PORT_ACTIVE == kPortActive && IBV_LINK_LAYER_ETHERNET == kLinkLayerEthernet,
              "verbs enums");
#endif

struct Device;
struct Context;

}  // namespace

double verbsPortGbps(uint32_t speedCode, uint8_t widthCode) {
  double lane = 0;
  switch (speedCode) {
    case 1: lane = 2.5; break;    // SDR
    case 2: lane = 5; break;      // DDR
    case 4: lane = 10; break;     // QDR
    case 8: lane = 10; break;     // FDR10
    case 16: lane = 14; break;    // FDR
    case 32: lane = 25; break;    // EDR
    case 64: lane = 50; break;    // HDR
    case 128: lane = 100; break;  // NDR
    case 256: lane = 200; break;  // XDR (only through active_speed_ex on new libraries)
    default: return 0;
  }
  int lanes = 0;
  switch (widthCode) {
    case 1: lanes = 1; break;
    case 16: lanes = 2; break;
    case 2: lanes = 4; break;
    case 4: lanes = 8; break;
    case 8: lanes = 12; break;
    default: return 0;
  }
  return lane * lanes;
}

VerbsStatus queryVerbsPorts(std::vector<VerbsPort>* ports, std::string* why) {
  ports->clear();
  const std::string name = envString("TUTTI_IBVERBS_LIB", "libibverbs.so.1");
  void* lib = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char* e = dlerror();
    *why = "dlopen(" + name + ") failed: " + (e ? e : "unknown error");
    return VerbsStatus::kNoLibrary;
  }
  auto getList = reinterpret_cast<Device** (*)(int*)>(dlsym(lib, "ibv_get_device_list"));
  auto freeList = reinterpret_cast<void (*)(Device**)>(dlsym(lib, "ibv_free_device_list"));
  auto getName = reinterpret_cast<const char* (*)(Device*)>(dlsym(lib, "ibv_get_device_name"));
  auto open = reinterpret_cast<Context* (*)(Device*)>(dlsym(lib, "ibv_open_device"));
  auto close = reinterpret_cast<int (*)(Context*)>(dlsym(lib, "ibv_close_device"));
  // The exported ibv_query_port fills the compatible (leading) part of ibv_port_attr.
  auto queryPort =
      reinterpret_cast<int (*)(Context*, uint8_t, PortAttr*)>(dlsym(lib, "ibv_query_port"));
  if (!getList || !freeList || !getName || !open || !close || !queryPort) {
    *why = name + " lacks the ibv_* device functions";
    dlclose(lib);
    return VerbsStatus::kNoLibrary;
  }
  int n = 0;
  Device** list = getList(&n);
  if (!list || n == 0) {
    if (list) freeList(list);
    *why = name + " loaded, no RDMA device";
    // libibverbs keeps provider libraries loaded; leave it open.
    return VerbsStatus::kNoDevices;
  }
  for (int i = 0; i < n; ++i) {
    Context* ctx = open(list[i]);
    if (!ctx) continue;
    // Ports are numbered from 1; the first that cannot be queried ends the device.
    for (int port = 1; port <= 16; ++port) {
      PortAttr pa;
      memset(&pa, 0, sizeof(pa));
      if (queryPort(ctx, static_cast<uint8_t>(port), &pa) != 0) break;
      VerbsPort p;
      p.device = getName(list[i]);
      p.port = port;
      p.active = pa.state == kPortActive;
      p.ethernet = pa.linkLayer == kLinkLayerEthernet;
      p.speedCode = pa.activeSpeedEx ? pa.activeSpeedEx : pa.activeSpeed;
      p.widthCode = pa.activeWidth;
      p.gbps = verbsPortGbps(p.speedCode, p.widthCode);
      ports->push_back(p);
    }
    close(ctx);
  }
  freeList(list);
  *why =
      name + ": " + std::to_string(n) + " device(s), " + std::to_string(ports->size()) + " port(s)";
  return VerbsStatus::kOk;
}

}  // namespace tutti

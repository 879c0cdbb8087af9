// RDMA NICs through libibverbs, loaded at run time (dlopen of libibverbs.so.1, no verbs headers
// needed): each device's ports with state, link layer, speed and width. Only the description;
// Tutti has no native verbs data path (UCX carries RDMA traffic, docs/multinode.md).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tutti {

struct VerbsPort {
  std::string device;  // "mlx5_0"
  int port = 1;
  bool active = false;     // IBV_PORT_ACTIVE
  bool ethernet = false;   // link layer Ethernet (RoCE); otherwise InfiniBand
  uint32_t speedCode = 0;  // ibv_port_attr.active_speed (active_speed_ex where filled)
  uint8_t widthCode = 0;   // ibv_port_attr.active_width
  double gbps = 0;         // link data rate from the codes (0 when a code is unknown)
};

// Data rate of a port in Gb/s from its verbs codes: per-lane rate (SDR 2.5 .. XDR 200) times
// lanes (1x, 2x, 4x, 8x, 12x). 0 for codes this table does not know.
double verbsPortGbps(uint32_t speedCode, uint8_t widthCode);

enum class VerbsStatus {
  kOk,         // the library loaded; `ports` lists every port of every device (maybe none)
  kNoLibrary,  // libibverbs.so.1 (or TUTTI_IBVERBS_LIB) cannot be loaded or lacks a symbol
  kNoDevices,  // loaded, but it lists no RDMA device
};

// Queries every port of every device. `why` says what failed or what was found, for the log.
VerbsStatus queryVerbsPorts(std::vector<VerbsPort>* ports, std::string* why);

}  // namespace tutti

// Compile-time proof that the shim was built against the NCCL 2.28 header it claims, and that
// the values passed straight through to Tutti mean the same on both sides.
#include <nccl.h>

#include <cstddef>
#include <type_traits>

#include "tutti/tutti.h"

static_assert(NCCL_VERSION_CODE == NCCL_VERSION(2, 28, 9),
              "the shim implements NCCL 2.28.9's API: build against that nccl.h");

// Unique ids are copied byte for byte.
static_assert(NCCL_UNIQUE_ID_BYTES == TUTTI_UNIQUE_ID_BYTES, "unique id size");
static_assert(sizeof(ncclUniqueId) == sizeof(tuttiUniqueId), "unique id layout");

// Streams are passed through as Tutti's opaque stream.
static_assert(sizeof(cudaStream_t) == sizeof(tuttiStream_t), "stream handle size");

// NOLINTBEGIN(misc-redundant-expression): both sides are meant to be the same number.
// Data types are passed through unchanged.
static_assert(sizeof(ncclDataType_t) == sizeof(tuttiDataType_t), "dtype size");
static_assert(ncclInt8 == static_cast<int>(tuttiInt8), "ncclInt8");
static_assert(ncclUint8 == static_cast<int>(tuttiUint8), "ncclUint8");
static_assert(ncclInt32 == static_cast<int>(tuttiInt32), "ncclInt32");
static_assert(ncclUint32 == static_cast<int>(tuttiUint32), "ncclUint32");
static_assert(ncclInt64 == static_cast<int>(tuttiInt64), "ncclInt64");
static_assert(ncclUint64 == static_cast<int>(tuttiUint64), "ncclUint64");
static_assert(ncclFloat16 == static_cast<int>(tuttiFloat16), "ncclFloat16");
static_assert(ncclFloat32 == static_cast<int>(tuttiFloat32), "ncclFloat32");
static_assert(ncclFloat64 == static_cast<int>(tuttiFloat64), "ncclFloat64");
static_assert(ncclBfloat16 == static_cast<int>(tuttiBfloat16), "ncclBfloat16");
static_assert(ncclFloat8e4m3 == static_cast<int>(tuttiFp8E4M3), "ncclFloat8e4m3");
static_assert(ncclFloat8e5m2 == static_cast<int>(tuttiFp8E5M2), "ncclFloat8e5m2");
static_assert(ncclNumTypes == static_cast<int>(tuttiNumTypes), "ncclNumTypes");

// Built-in reduction operators are passed through unchanged; created ones are the shim's.
static_assert(sizeof(ncclRedOp_t) == sizeof(tuttiRedOp_t), "op size");
static_assert(ncclSum == static_cast<int>(tuttiSum), "ncclSum");
static_assert(ncclProd == static_cast<int>(tuttiProd), "ncclProd");
static_assert(ncclMax == static_cast<int>(tuttiMax), "ncclMax");
static_assert(ncclMin == static_cast<int>(tuttiMin), "ncclMin");
static_assert(ncclAvg == static_cast<int>(tuttiAvg), "ncclAvg");
static_assert(ncclNumOps == static_cast<int>(tuttiNumOps), "ncclNumOps");

static_assert(NCCL_SPLIT_NOCOLOR == TUTTI_SPLIT_NOCOLOR, "split no-color value");
static_assert(NCCL_CONFIG_UNDEF_INT == TUTTI_CONFIG_UNDEF_INT, "undefined config int");
// NOLINTEND(misc-redundant-expression)

// ncclConfig_t v22800: config_map.cc reads these fields by name from a copy made by the
// caller's declared size, so only the leading header and the struct's growth order matter.
static_assert(offsetof(ncclConfig_t, size) == 0, "config.size");
static_assert(offsetof(ncclConfig_t, magic) == 8, "config.magic");
static_assert(offsetof(ncclConfig_t, version) == 12, "config.version");
static_assert(offsetof(ncclConfig_t, blocking) == 16, "config.blocking");
static_assert(offsetof(ncclConfig_t, cgaClusterSize) == 20, "config.cgaClusterSize");
static_assert(offsetof(ncclConfig_t, minCTAs) == 24, "config.minCTAs");
static_assert(offsetof(ncclConfig_t, maxCTAs) == 28, "config.maxCTAs");
static_assert(offsetof(ncclConfig_t, netName) == 32, "config.netName");
static_assert(offsetof(ncclConfig_t, splitShare) == 40, "config.splitShare");
static_assert(offsetof(ncclConfig_t, trafficClass) == 44, "config.trafficClass");
static_assert(offsetof(ncclConfig_t, commName) == 48, "config.commName");
static_assert(offsetof(ncclConfig_t, collnetEnable) == 56, "config.collnetEnable");
static_assert(offsetof(ncclConfig_t, CTAPolicy) == 60, "config.CTAPolicy");
static_assert(offsetof(ncclConfig_t, shrinkShare) == 64, "config.shrinkShare");
static_assert(offsetof(ncclConfig_t, nvlsCTAs) == 68, "config.nvlsCTAs");
static_assert(offsetof(ncclConfig_t, nChannelsPerNetPeer) == 72, "config.nChannelsPerNetPeer");
static_assert(offsetof(ncclConfig_t, nvlinkCentricSched) == 76, "config.nvlinkCentricSched");
static_assert(sizeof(ncclConfig_t) == 80, "ncclConfig_t v22800 size");

// ncclSimInfo_t v22200.
static_assert(offsetof(ncclSimInfo_t, size) == 0, "simInfo.size");
static_assert(offsetof(ncclSimInfo_t, magic) == 8, "simInfo.magic");
static_assert(offsetof(ncclSimInfo_t, version) == 12, "simInfo.version");
static_assert(offsetof(ncclSimInfo_t, estimatedTime) == 16, "simInfo.estimatedTime");
static_assert(std::is_same<decltype(ncclSimInfo_t::estimatedTime), float>::value,
              "simInfo.estimatedTime type");

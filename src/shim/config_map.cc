// Reading a caller's ncclConfig_t by the size it declares, and mapping it onto Tutti's.
#include "shim/config_map.h"

#include <cstddef>
#include <cstdlib>
#include <cstring>

#include "base/logging.h"
#include "shim/shim_error.h"

namespace tutti::shim {
namespace {

constexpr unsigned kNcclConfigMagic = 0xcafebeef;  // NCCL_CONFIG_INITIALIZER's magic
// The oldest ncclConfig_t (NCCL 2.14) ended after `blocking`; nothing shorter is a config.
constexpr size_t kMinConfigSize = offsetof(ncclConfig_t, blocking) + sizeof(int);

bool envBlocking() {
  const char* v = getenv("TUTTI_COMM_BLOCKING");
  if (!v || !*v) v = getenv("NCCL_COMM_BLOCKING");
  return !(v && *v && atoi(v) == 0);
}

void noteIgnored(const char* field, int value) {
  if (value != NCCL_CONFIG_UNDEF_INT)
    TUTTI_INFO("shim: ncclConfig_t.%s=%d has no Tutti equivalent and is ignored", field, value);
}

}  // namespace

ncclResult_t readConfig(const ncclConfig_t* config, const tuttiConfig_t* inherited, const char* fn,
                        ResolvedConfig* out) {
  *out = ResolvedConfig{};
  if (!config) {
    if (inherited) {
      out->tutti = *inherited;
      out->tutti.commName = nullptr;
    }
    out->blocking =
        out->tutti.blocking == TUTTI_CONFIG_UNDEF_INT ? envBlocking() : out->tutti.blocking != 0;
    return ncclSuccess;
  }
  if (config->magic != kNcclConfigMagic)
    return fail(ncclInvalidArgument,
                "%s: config->magic is 0x%x, not 0x%x: initialise the config with "
                "NCCL_CONFIG_INITIALIZER",
                fn, config->magic, kNcclConfigMagic);
  if (config->size < kMinConfigSize || config->size > (1u << 16))
    return fail(ncclInvalidArgument, "%s: config->size %zu is not the size of an ncclConfig_t", fn,
                config->size);
  // Fields past what the caller compiled keep their initializer values.
  ncclConfig_t c = NCCL_CONFIG_INITIALIZER;
  memcpy(&c, config, config->size < sizeof(c) ? config->size : sizeof(c));

  tuttiConfig_t& t = out->tutti;
  if (c.blocking != NCCL_CONFIG_UNDEF_INT && c.blocking != 0 && c.blocking != 1)
    return fail(ncclInvalidArgument, "%s: config->blocking is %d; use 0 or 1", fn, c.blocking);
  t.blocking = c.blocking;
  out->blocking = c.blocking == NCCL_CONFIG_UNDEF_INT ? envBlocking() : c.blocking == 1;
  if (c.minCTAs != NCCL_CONFIG_UNDEF_INT && c.minCTAs < 1)
    return fail(ncclInvalidArgument, "%s: config->minCTAs is %d; it must be at least 1", fn,
                c.minCTAs);
  if (c.maxCTAs != NCCL_CONFIG_UNDEF_INT && c.maxCTAs < 1)
    return fail(ncclInvalidArgument, "%s: config->maxCTAs is %d; it must be at least 1", fn,
                c.maxCTAs);
  if (c.minCTAs != NCCL_CONFIG_UNDEF_INT && c.maxCTAs != NCCL_CONFIG_UNDEF_INT &&
      c.minCTAs > c.maxCTAs)
    return fail(ncclInvalidArgument, "%s: config->minCTAs %d exceeds config->maxCTAs %d", fn,
                c.minCTAs, c.maxCTAs);
  // CTAs are what Tutti calls channels: the parallel pipelines of one collective.
  t.minChannels = c.minCTAs;
  t.maxChannels = c.maxCTAs;
  if (inherited && c.minCTAs == NCCL_CONFIG_UNDEF_INT) t.minChannels = inherited->minChannels;
  if (inherited && c.maxCTAs == NCCL_CONFIG_UNDEF_INT) t.maxChannels = inherited->maxChannels;
  t.splitShare = c.splitShare;
  if (c.commName) out->name = c.commName;
  // Tuning and fabric hints with no Tutti counterpart: accepted (NCCL treats them as hints
  // too), reported at TUTTI_DEBUG=INFO.
  noteIgnored("cgaClusterSize", c.cgaClusterSize);
  noteIgnored("trafficClass", c.trafficClass);
  noteIgnored("collnetEnable", c.collnetEnable);
  noteIgnored("CTAPolicy", c.CTAPolicy);
  noteIgnored("shrinkShare", c.shrinkShare);
  noteIgnored("nvlsCTAs", c.nvlsCTAs);
  noteIgnored("nChannelsPerNetPeer", c.nChannelsPerNetPeer);
  noteIgnored("nvlinkCentricSched", c.nvlinkCentricSched);
  if (c.netName) TUTTI_INFO("shim: ncclConfig_t.netName=%s is ignored", c.netName);
  return ncclSuccess;
}

}  // namespace tutti::shim

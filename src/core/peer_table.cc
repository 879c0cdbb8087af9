// Validation of the exchanged peer-info table (see peer_table.h).
#include "core/peer_table.h"

namespace tutti {

constexpr int32_t kMaxCudaDevice = 1 << 16;

Result validatePeerTable(std::vector<PeerInfo>* peers, bool allowSharedGpu, int* nodes) {
  const int nranks = static_cast<int>(peers->size());
  *nodes = 0;
  for (int p = 0; p < nranks; ++p) {
    PeerInfo& info = (*peers)[p];
    info.hostname[sizeof(info.hostname) - 1] = '\0';
    if (info.rank != p)
      return setError(tuttiRemoteError, "rank %d sent the info of rank %d", p, info.rank);
    if (info.pid <= 0)
      return setError(tuttiRemoteError, "rank %d sent an invalid process id %d", p, info.pid);
    if (info.cudaDev < -1 || info.cudaDev >= kMaxCudaDevice)
      return setError(tuttiRemoteError, "rank %d sent an invalid GPU ordinal %d", p, info.cudaDev);
    if (info.busId < -1 || info.busId > 0xffffffffll)
      return setError(tuttiRemoteError, "rank %d sent an invalid PCI bus id %lld", p,
                      (long long)info.busId);
    const int family = info.netAddress.family;
    if (family != 0 && family != 4 && family != 6)
      return setError(tuttiRemoteError, "rank %d sent a network address of family %d", p, family);
    info.commNonce = (*peers)[0].commNonce;
    info.nodeLocalRank = 0;
    bool firstOnHost = true;
    for (int q = 0; q < p; ++q) {
      const PeerInfo& other = (*peers)[q];
      if (other.hostHash != info.hostHash) continue;
      firstOnHost = false;
      ++info.nodeLocalRank;
      // Two ranks on one GPU usually mean a device-selection bug (NCCL refuses it too); tests
      // and single-GPU development machines opt in to run several ranks on one device.
      if (info.cudaDev >= 0 && info.cudaDev == other.cudaDev && info.busId == other.busId &&
          !allowSharedGpu)
        return setError(tuttiInvalidUsage,
                        "ranks %d and %d both use GPU %d of host %s (set TUTTI_ALLOW_SHARED_GPU=1 "
                        "to run several ranks on one GPU)",
                        q, p, info.cudaDev, info.hostname);
    }
    *nodes += firstOnHost;
  }
  return tuttiSuccess;
}

}  // namespace tutti

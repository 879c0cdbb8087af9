// Point-to-point fusion.
#include "cpu/p2p_fusion.h"

#include "algorithms/builders.h"

namespace tutti {

bool isP2p(const CollCall& c) {
  return c.collective == Collective::kSend || c.collective == Collective::kRecv;
}

Result fuseP2p(const std::vector<CollCall>& calls, size_t first, size_t last, int rank, Plan* plan,
               std::vector<char*>* bases) {
  *plan = Plan();
  plan->collective = Collective::kSend;  // headers say Send; receivers expect Send
  plan->algorithm = Algorithm::kP2p;
  plan->beginStep();
  bases->assign({nullptr, nullptr, nullptr});
  std::vector<size_t> selfSends, selfRecvs;
  for (size_t i = first; i < last; ++i) {
    const CollCall& c = calls[i];
    const int buf = static_cast<int>(i - first);
    const size_t bytes = c.count * dtypeSize(c.dtype);
    const bool send = c.collective == Collective::kSend;
    bases->push_back(send ? const_cast<char*>(static_cast<const char*>(c.sendbuff))
                          : static_cast<char*>(c.recvbuff));
    if (c.peer == rank) {
      (send ? selfSends : selfRecvs).push_back(i);
      continue;
    }
    if (send)
      plan->add(sendOp(c.peer, at(extraBuffer(buf), 0), bytes));
    else
      plan->add(recvOp(c.peer, at(extraBuffer(buf), 0), bytes));
  }
  if (selfSends.size() != selfRecvs.size())
    return setError(tuttiInvalidUsage, "%zu sends to self but %zu receives from self in one group",
                    selfSends.size(), selfRecvs.size());
  for (size_t k = 0; k < selfSends.size(); ++k) {
    const CollCall& s = calls[selfSends[k]];
    const CollCall& r = calls[selfRecvs[k]];
    size_t sb = s.count * dtypeSize(s.dtype), rb = r.count * dtypeSize(r.dtype);
    if (sb != rb)
      return setError(tuttiInvalidArgument,
                      "send to self of %zu bytes matched a receive of %zu bytes", sb, rb);
    plan->add(copyOp(at(extraBuffer(static_cast<int>(selfSends[k] - first)), 0),
                     at(extraBuffer(static_cast<int>(selfRecvs[k] - first)), 0), sb));
  }
  return tuttiSuccess;
}

}  // namespace tutti

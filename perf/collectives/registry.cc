// The list of collectives the harness knows, for lookup by binary name.
#include "harness/collective.h"

namespace tutti::perf {

const std::vector<const Collective*>& allCollectives() {
  static const std::vector<const Collective*> all = {
      &kAllReduce, &kAllGather, &kReduceScatter, &kAllToAll, &kBroadcast, &kReduce, &kSendRecv};
  return all;
}

const Collective* findCollective(const std::string& name) {
  for (const Collective* c : allCollectives())
    if (name == c->name) return c;
  return nullptr;
}

}  // namespace tutti::perf

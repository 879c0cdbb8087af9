// Rank layouts: node grouping and the snake of intra-node ring orders across nodes.
#include "algorithms/rank_layout.h"

#include <algorithm>
#include <map>
#include <sstream>

namespace tutti {

int RankLayout::localRanks() const {
  if (nodeRanks.empty()) return 0;
  const size_t l = nodeRanks[0].size();
  for (const auto& n : nodeRanks)
    if (n.size() != l) return 0;
  return static_cast<int>(l);
}

int RankLayout::smallestNode() const {
  size_t s = nodeRanks.empty() ? 0 : nodeRanks[0].size();
  for (const auto& n : nodeRanks) s = std::min(s, n.size());
  return static_cast<int>(s);
}

int RankLayout::largestNode() const {
  size_t s = 0;
  for (const auto& n : nodeRanks) s = std::max(s, n.size());
  return static_cast<int>(s);
}

std::string RankLayout::check() const {
  std::ostringstream err;
  if (static_cast<int>(nodeOf.size()) != nranks || static_cast<int>(localOf.size()) != nranks)
    return "nodeOf/localOf sizes differ from nranks";
  if (static_cast<int>(nodeRanks.size()) != nnodes) return "nodeRanks size differs from nnodes";
  for (int k = 0; k < nnodes; ++k)
    for (size_t i = 0; i < nodeRanks[k].size(); ++i) {
      int r = nodeRanks[k][i];
      if (r < 0 || r >= nranks || nodeOf[r] != k || localOf[r] != static_cast<int>(i))
        return "node " + std::to_string(k) + " lists rank " + std::to_string(r) + " inconsistently";
    }
  if (rings.empty() || rings.size() != ringPos.size()) return "no rings";
  for (size_t c = 0; c < rings.size(); ++c) {
    if (static_cast<int>(rings[c].size()) != nranks)
      return "ring " + std::to_string(c) + " has the wrong size";
    std::vector<bool> seen(nranks, false);
    for (int i = 0; i < nranks; ++i) {
      int r = rings[c][i];
      if (r < 0 || r >= nranks || seen[r] || ringPos[c][r] != i)
        return "ring " + std::to_string(c) + " is not a permutation";
      seen[r] = true;
    }
  }
  return "";
}

std::string RankLayout::describe(int maxRanks) const {
  std::ostringstream os;
  const int l = localRanks();
  os << nnodes << " node(s) x "
     << (l ? std::to_string(l)
           : std::to_string(smallestNode()) + "-" + std::to_string(largestNode()))
     << " rank(s), " << rings.size() << " ring(s)";
  for (size_t c = 0; c < rings.size() && c < 4; ++c) {
    os << "\n  ring " << c << ":";
    for (int i = 0; i < nranks && i < maxRanks; ++i) {
      if (i && nodeOf[rings[c][i]] != nodeOf[rings[c][i - 1]]) os << " |";
      os << " " << rings[c][i];
    }
    if (nranks > maxRanks) os << " ...";
  }
  if (rings.size() > 4) os << "\n  (" << rings.size() - 4 << " more rings)";
  return os.str();
}

RankLayout flatLayout(int nranks) {
  std::vector<int> nodeOf(nranks, 0);
  std::vector<std::vector<int>> pos(2, std::vector<int>(nranks));
  for (int r = 0; r < nranks; ++r) {
    pos[0][r] = r;
    pos[1][r] = nranks - 1 - r;
  }
  RankLayout l;
  buildRankLayout(nodeOf, pos, &l);
  return l;
}

Result buildRankLayout(const std::vector<int>& nodeLabel,
                       const std::vector<std::vector<int>>& intraPos, RankLayout* out) {
  const int n = static_cast<int>(nodeLabel.size());
  if (n < 1) return setError(tuttiInvalidArgument, "a layout needs at least one rank");
  if (intraPos.empty()) return setError(tuttiInvalidArgument, "a layout needs at least one ring");
  RankLayout l;
  l.nranks = n;
  l.nodeOf.resize(n);
  std::map<int, int> renumber;
  for (int r = 0; r < n; ++r) {
    auto it = renumber.emplace(nodeLabel[r], static_cast<int>(renumber.size())).first;
    l.nodeOf[r] = it->second;
  }
  l.nnodes = static_cast<int>(renumber.size());
  // orders[c][k]: ranks of node k sorted by their channel-c position.
  std::vector<std::vector<std::vector<int>>> orders(intraPos.size(),
                                                    std::vector<std::vector<int>>(l.nnodes));
  for (size_t c = 0; c < intraPos.size(); ++c) {
    if (static_cast<int>(intraPos[c].size()) != n)
      return setError(tuttiInvalidArgument, "ring %zu: %zu positions for %d ranks", c,
                      intraPos[c].size(), n);
    for (int r = 0; r < n; ++r) orders[c][l.nodeOf[r]].push_back(r);
    for (int k = 0; k < l.nnodes; ++k) {
      auto& ord = orders[c][k];
      std::stable_sort(ord.begin(), ord.end(),
                       [&](int a, int b) { return intraPos[c][a] < intraPos[c][b]; });
      for (size_t i = 0; i < ord.size(); ++i)
        if (intraPos[c][ord[i]] != static_cast<int>(i))
          return setError(tuttiInvalidArgument,
                          "ring %zu: positions of node %d are not 0..%zu (rank %d has %d)", c, k,
                          ord.size() - 1, ord[i], intraPos[c][ord[i]]);
    }
  }
  l.nodeRanks = orders[0];
  l.localOf.resize(n);
  for (int k = 0; k < l.nnodes; ++k)
    for (size_t i = 0; i < l.nodeRanks[k].size(); ++i)
      l.localOf[l.nodeRanks[k][i]] = static_cast<int>(i);
  for (size_t c = 0; c < orders.size(); ++c) {
    std::vector<int> ring;
    ring.reserve(n);
    for (int k = 0; k < l.nnodes; ++k) {
      const auto& ord = orders[c][k];
      if (k % 2 == 1)
        ring.insert(ring.end(), ord.rbegin(), ord.rend());
      else
        ring.insert(ring.end(), ord.begin(), ord.end());
    }
    std::vector<int> pos(n);
    for (int i = 0; i < n; ++i) pos[ring[i]] = i;
    l.rings.push_back(std::move(ring));
    l.ringPos.push_back(std::move(pos));
  }
  *out = std::move(l);
  return tuttiSuccess;
}

}  // namespace tutti

// Ring search over a host's GPU path matrix. Cycles are compared by their worst hop (path
// type, then bandwidth), then by the sum of hop ranks, so NVLink hops are used first.
#include "topology/ring_search.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <numeric>

namespace tutti {
namespace {

// Lower is better; folds type and bandwidth into one comparable number per hop.
struct HopCost {
  int type;
  double bw;
};

struct CycleCost {
  int worstType = 0;
  double worstBw = 1e30;
  long sumType = 0;
  double sumInvBw = 0;
  bool better(const CycleCost& o) const {
    if (worstType != o.worstType) return worstType < o.worstType;
    if (worstBw != o.worstBw) return worstBw > o.worstBw;
    if (sumType != o.sumType) return sumType < o.sumType;
    return sumInvBw < o.sumInvBw - 1e-12;
  }
};

class Search {
 public:
  Search(const Topology& topo, const std::vector<int>& gpus) : m_(static_cast<int>(gpus.size())) {
    cost_.resize(m_ * m_);
    for (int a = 0; a < m_; ++a)
      for (int b = 0; b < m_; ++b) {
        Path p = gpuPath(topo, gpus[a], gpus[b]);
        cost_[a * m_ + b] = {static_cast<int>(p.type), p.bw > 0 ? p.bw : 1e-3};
      }
  }

  CycleCost costOf(const std::vector<int>& order) const {
    CycleCost c;
    for (int i = 0; i < m_; ++i) add(&c, hop(order[i], order[(i + 1) % m_]));
    return c;
  }

  std::vector<int> best() {
    std::vector<int> order(m_);
    std::iota(order.begin(), order.end(), 0);
    if (m_ <= 3) return order;
    if (m_ <= 9) {
      best_ = order;
      bestCost_ = costOf(order);
      std::vector<int> path = {0};
      std::vector<bool> used(m_, false);
      used[0] = true;
      dfs(path, used, CycleCost());
      return best_;
    }
    return greedyTwoOpt();
  }

 private:
  const HopCost& hop(int a, int b) const { return cost_[a * m_ + b]; }
  static void add(CycleCost* c, const HopCost& h) {
    c->worstType = std::max(c->worstType, h.type);
    c->worstBw = std::min(c->worstBw, h.bw);
    c->sumType += h.type;
    c->sumInvBw += 1.0 / h.bw;
  }
  // A partial cost can only get worse: prune when its worst hop is already worse.
  bool hopeless(const CycleCost& partial) const {
    if (partial.worstType != bestCost_.worstType) return partial.worstType > bestCost_.worstType;
    if (partial.worstBw != bestCost_.worstBw) return partial.worstBw < bestCost_.worstBw;
    return partial.sumType > bestCost_.sumType;
  }

  void dfs(std::vector<int>& path, std::vector<bool>& used, const CycleCost& partial) {
    if (static_cast<int>(path.size()) == m_) {
      CycleCost c = partial;
      add(&c, hop(path.back(), path.front()));
      if (c.better(bestCost_)) {
        bestCost_ = c;
        best_ = path;
      }
      return;
    }
    for (int next = 1; next < m_; ++next) {
      if (used[next]) continue;
      // Each cycle is found in both directions; keep the one whose second GPU is smaller.
      if (static_cast<int>(path.size()) == m_ - 1 && next < path[1]) continue;
      CycleCost c = partial;
      add(&c, hop(path.back(), next));
      if (hopeless(c)) continue;
      used[next] = true;
      path.push_back(next);
      dfs(path, used, c);
      path.pop_back();
      used[next] = false;
    }
  }

  std::vector<int> greedyTwoOpt() {
    std::vector<int> order = {0};
    std::vector<bool> used(m_, false);
    used[0] = true;
    for (int i = 1; i < m_; ++i) {
      int pick = -1;
      for (int c = 0; c < m_; ++c) {
        if (used[c]) continue;
        if (pick < 0) {
          pick = c;
          continue;
        }
        const HopCost &h = hop(order.back(), c), &p = hop(order.back(), pick);
        if (h.type < p.type || (h.type == p.type && h.bw > p.bw)) pick = c;
      }
      used[pick] = true;
      order.push_back(pick);
    }
    CycleCost cur = costOf(order);
    for (bool improved = true; improved;) {
      improved = false;
      for (int i = 1; i < m_ - 1; ++i)
        for (int j = i + 1; j < m_; ++j) {
          std::vector<int> cand = order;
          std::reverse(cand.begin() + i, cand.begin() + j + 1);
          CycleCost c = costOf(cand);
          if (c.better(cur)) {
            order.swap(cand);
            cur = c;
            improved = true;
          }
        }
    }
    return order;
  }

  int m_;
  std::vector<HopCost> cost_;
  std::vector<int> best_;
  CycleCost bestCost_;
};

}  // namespace

std::vector<std::vector<int>> searchRings(const Topology& topo, const std::vector<int>& gpus,
                                          int channels) {
  const int m = static_cast<int>(gpus.size());
  if (channels < 1) channels = 1;
  std::vector<std::vector<int>> rings;
  if (m == 0) return rings;
  // Hosts of one cluster share their shape: search each distinct path matrix once.
  static std::mutex mutex;
  static std::map<std::vector<std::pair<int, double>>, std::vector<int>> memo;
  std::vector<std::pair<int, double>> key;
  key.reserve(m * m);
  for (int a = 0; a < m; ++a)
    for (int b = 0; b < m; ++b) {
      Path p = gpuPath(topo, gpus[a], gpus[b]);
      key.push_back({static_cast<int>(p.type), p.bw});
    }
  std::vector<int> best;
  {
    std::lock_guard<std::mutex> lock(mutex);
    auto it = memo.find(key);
    if (it != memo.end()) best = it->second;
  }
  if (best.empty()) {
    Search s(topo, gpus);
    best = s.best();
    std::lock_guard<std::mutex> lock(mutex);
    if (memo.size() > 64) memo.clear();
    memo[key] = best;
  }
  for (int c = 0; c < channels; ++c) {
    std::vector<int> r(m);
    for (int i = 0; i < m; ++i) r[i] = best[(i + c) % m];
    rings.push_back(std::move(r));
  }
  return rings;
}

int defaultRingChannels(const Topology& topo, const std::vector<int>& gpus) {
  return std::max(1, std::min(8, static_cast<int>(gpus.size())));
}

Path worstRingHop(const Topology& topo, const std::vector<int>& gpus,
                  const std::vector<int>& order) {
  Path worst;
  const int m = static_cast<int>(order.size());
  for (int i = 0; i < m && m > 1; ++i) {
    Path p = gpuPath(topo, gpus[order[i]], gpus[order[(i + 1) % m]]);
    if (worst.type == PathType::kNone || p.type > worst.type ||
        (p.type == worst.type && p.bw < worst.bw))
      worst = p;
  }
  if (m == 1) worst.type = PathType::kSelf;
  return worst;
}

}  // namespace tutti

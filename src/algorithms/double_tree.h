// Double binary trees: two binary trees over the same ranks in which every rank is interior
// in at most one, so each tree carries half the data and every rank's links are used about
// once. Ranks are labelled along the layout's ring 0 (node-major), which keeps most tree
// edges inside a node and only a few across nodes.
#pragma once

#include <array>
#include <vector>

namespace tutti {

struct TreeShape {
  int root = 0;
  std::vector<int> parent;                 // by rank; -1 at the root
  std::vector<std::vector<int>> children;  // by rank; at most two, smaller label first
  std::vector<int> height;                 // leaves 0
  std::vector<int> depth;                  // root 0
};

// Tree 0 is the in-order binary tree on labels 1..n with order[i] labelled i+1 (odd labels
// are leaves); tree 1 is the same tree with order[i] labelled i and order[0] labelled n, so
// the interior (even-labelled) ranks of one tree are leaves of the other.
std::array<TreeShape, 2> doubleBinaryTree(const std::vector<int>& order);

}  // namespace tutti

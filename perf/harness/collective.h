// Collective: what one *_perf binary measures, as data. Each collectives/<name>.cc defines one:
// its element counts (nccl-tests rules), bus-bandwidth factor, how to issue it through a
// Backend, and where each output element's expected value comes from.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "harness/backend.h"
#include "harness/dtypes.h"
#include "harness/status.h"

namespace tutti::perf {

// Element counts of one operation for a requested size, as nccl-tests computes them.
struct Counts {
  size_t sendCount = 0;
  size_t recvCount = 0;
  size_t paramCount = 0;         // the count argument of the call (the table's count column)
  size_t sendInplaceOffset = 0;  // in place: send = recvbuf + rank * sendInplaceOffset elements
  size_t recvInplaceOffset = 0;  //           recv = recvbuf + rank * recvInplaceOffset elements
};

// One call of the collective on one rank.
struct OpCall {
  const void* send;
  void* recv;
  Counts counts;
  DataType type;
  RedOp op;
  int root;
  int rank;
  int nranks;
  CommHandle comm;
  void* stream;
  const CompressSpec* compress = nullptr;  // --compress: issue the compressed form
  void* compressState = nullptr;           // its error-feedback state, or null
};

// `count` output elements starting at `outOffset` should equal input elements
// [srcElem, srcElem + count) of rank `srcRank`, or of their reduction over all ranks.
struct Segment {
  static constexpr int kReduced = -1;
  size_t outOffset;
  int srcRank;
  size_t srcElem;
  size_t count;
};

struct Collective {
  const char* name;   // "all_reduce": the binary is all_reduce_perf
  const char* title;  // "AllReduce"
  bool usesOp;
  bool usesRoot;
  Counts (*counts)(size_t count, int nranks);
  double (*busBwFactor)(int nranks);
  Status (*issue)(Backend& backend, const OpCall& call);
  // Appends the segments covering the output of `rank` (none where the output is undefined).
  void (*expected)(const Counts& counts, int rank, int nranks, int root, std::vector<Segment>* out);
};

// Every collective, and lookup by name ("all_reduce").
const std::vector<const Collective*>& allCollectives();
const Collective* findCollective(const std::string& name);

// The definitions, one per file under collectives/.
extern const Collective kAllReduce;
extern const Collective kAllGather;
extern const Collective kReduceScatter;
extern const Collective kAllToAll;
extern const Collective kBroadcast;
extern const Collective kReduce;
extern const Collective kSendRecv;

}  // namespace tutti::perf

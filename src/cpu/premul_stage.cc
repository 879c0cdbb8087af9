// PreMulSum staging.
#include "cpu/premul_stage.h"

#include "cpu/host_reduce.h"

namespace tutti {

const char* premulInput(const CollCall& call, int nranks, std::vector<char>* stage) {
  const char* send = static_cast<const char*>(call.sendbuff);
  if (call.op < tuttiNumOps) return send;
  const size_t n = call.collective == Collective::kReduceScatter ? call.count * nranks : call.count;
  stage->resize(n * dtypeSize(call.dtype));
  hostScale(call.dtype, stage->data(), send, n, &call.premulScalar);
  return stage->data();
}

}  // namespace tutti

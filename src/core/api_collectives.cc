// C API: collectives and point-to-point. Each builds a CollCall; call_checks.cc checks it before
// any user memory is touched, then it goes to the group layer and an executor.
#include <cstdint>

#include "core/api_guard.h"
#include "core/call_checks.h"

using namespace tutti;

namespace {

CollCall makeCall(Collective coll, const void* s, void* r, size_t count, tuttiDataType_t dt,
                  tuttiRedOp_t op, int root, tuttiStream_t stream) {
  CollCall c;
  c.collective = coll;
  c.sendbuff = s;
  c.recvbuff = r;
  c.count = count;
  c.dtype = dt;
  c.op = op;
  c.root = root;
  c.stream = stream;
  return c;
}

tuttiResult_t submit(const char* fn, Comm* comm, CollCall call) {
  return apiCall(fn, comm, [&]() -> Result {
    TUTTI_TRY(checkComm(comm));
    ActiveCall active(comm);
    return checkAndSubmit(comm, std::move(call));
  });
}

}  // namespace

extern "C" {

tuttiResult_t tuttiAllReduce(const void* sendbuff, void* recvbuff, size_t count,
                             tuttiDataType_t datatype, tuttiRedOp_t op, tuttiComm_t comm,
                             tuttiStream_t stream) {
  return submit(
      "tuttiAllReduce", comm,
      makeCall(Collective::kAllReduce, sendbuff, recvbuff, count, datatype, op, 0, stream));
}

tuttiResult_t tuttiAllGather(const void* sendbuff, void* recvbuff, size_t sendcount,
                             tuttiDataType_t datatype, tuttiComm_t comm, tuttiStream_t stream) {
  return submit("tuttiAllGather", comm,
                makeCall(Collective::kAllGather, sendbuff, recvbuff, sendcount, datatype, tuttiSum,
                         0, stream));
}

tuttiResult_t tuttiReduceScatter(const void* sendbuff, void* recvbuff, size_t recvcount,
                                 tuttiDataType_t datatype, tuttiRedOp_t op, tuttiComm_t comm,
                                 tuttiStream_t stream) {
  return submit(
      "tuttiReduceScatter", comm,
      makeCall(Collective::kReduceScatter, sendbuff, recvbuff, recvcount, datatype, op, 0, stream));
}

tuttiResult_t tuttiAllToAll(const void* sendbuff, void* recvbuff, size_t count,
                            tuttiDataType_t datatype, tuttiComm_t comm, tuttiStream_t stream) {
  return submit(
      "tuttiAllToAll", comm,
      makeCall(Collective::kAllToAll, sendbuff, recvbuff, count, datatype, tuttiSum, 0, stream));
}

tuttiResult_t tuttiAllToAllv(const void* sendbuff, const size_t* sendcounts, const size_t* sdispls,
                             void* recvbuff, const size_t* recvcounts, const size_t* rdispls,
                             tuttiDataType_t datatype, tuttiComm_t comm, tuttiStream_t stream) {
  return apiCall("tuttiAllToAllv", comm, [&]() -> Result {
    TUTTI_TRY(checkComm(comm));
    ActiveCall active(comm);
    if (!sendcounts) return setError(tuttiInvalidArgument, "sendcounts is NULL");
    if (!sdispls) return setError(tuttiInvalidArgument, "sdispls is NULL");
    if (!recvcounts) return setError(tuttiInvalidArgument, "recvcounts is NULL");
    if (!rdispls) return setError(tuttiInvalidArgument, "rdispls is NULL");
    CollCall c =
        makeCall(Collective::kAllToAllv, sendbuff, recvbuff, 0, datatype, tuttiSum, 0, stream);
    const int n = comm->nranks();
    c.sendCounts.assign(sendcounts, sendcounts + n);
    c.sendDispls.assign(sdispls, sdispls + n);
    c.recvCounts.assign(recvcounts, recvcounts + n);
    c.recvDispls.assign(rdispls, rdispls + n);
    return checkAndSubmit(comm, std::move(c));
  });
}

tuttiResult_t tuttiBroadcast(const void* sendbuff, void* recvbuff, size_t count,
                             tuttiDataType_t datatype, int root, tuttiComm_t comm,
                             tuttiStream_t stream) {
  return submit("tuttiBroadcast", comm,
                makeCall(Collective::kBroadcast, sendbuff, recvbuff, count, datatype, tuttiSum,
                         root, stream));
}

tuttiResult_t tuttiReduce(const void* sendbuff, void* recvbuff, size_t count,
                          tuttiDataType_t datatype, tuttiRedOp_t op, int root, tuttiComm_t comm,
                          tuttiStream_t stream) {
  return submit(
      "tuttiReduce", comm,
      makeCall(Collective::kReduce, sendbuff, recvbuff, count, datatype, op, root, stream));
}

tuttiResult_t tuttiSend(const void* sendbuff, size_t count, tuttiDataType_t datatype, int peer,
                        tuttiComm_t comm, tuttiStream_t stream) {
  CollCall c = makeCall(Collective::kSend, sendbuff, nullptr, count, datatype, tuttiSum, 0, stream);
  c.peer = peer;
  return submit("tuttiSend", comm, std::move(c));
}

tuttiResult_t tuttiRecv(void* recvbuff, size_t count, tuttiDataType_t datatype, int peer,
                        tuttiComm_t comm, tuttiStream_t stream) {
  CollCall c = makeCall(Collective::kRecv, nullptr, recvbuff, count, datatype, tuttiSum, 0, stream);
  c.peer = peer;
  return submit("tuttiRecv", comm, std::move(c));
}

}  // extern "C"

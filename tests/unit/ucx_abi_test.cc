// Tutti declares the part of UCX's ABI it uses (src/transport/ucx_api.h) so that libtutti builds
// without UCX headers. Where the headers are installed (Debian's libucx-dev, in CI), this test
// compiles those declarations against them: every field Tutti reads or writes at the same
// offset, every struct Tutti hands UCX at least as large as UCX's where UCX may read it whole,
// and every constant with UCX's value. A mismatch fails the build, naming the field.
#include <gtest/gtest.h>
#include <ucp/api/ucp.h>

#include <cstddef>
#include <iostream>

#include "transport/ucx_api.h"

namespace tutti::ucx {
namespace {

#define SAME_OFFSET(ours, ourField, theirs, theirField)                     \
  static_assert(offsetof(ours, ourField) == offsetof(theirs, theirField),   \
                #ours "::" #ourField " is not where UCX has " #theirField); \
  static_assert(sizeof(static_cast<ours*>(nullptr)->ourField) ==            \
                    sizeof(static_cast<theirs*>(nullptr)->theirField),      \
                #ours "::" #ourField " has not the size of UCX's " #theirField)

// ucp_params_t: read by ucp_init_version for the fields field_mask names.
SAME_OFFSET(Params, fieldMask, ucp_params_t, field_mask);
SAME_OFFSET(Params, features, ucp_params_t, features);
SAME_OFFSET(Params, requestSize, ucp_params_t, request_size);
SAME_OFFSET(Params, requestInit, ucp_params_t, request_init);
SAME_OFFSET(Params, requestCleanup, ucp_params_t, request_cleanup);
SAME_OFFSET(Params, tagSenderMask, ucp_params_t, tag_sender_mask);
SAME_OFFSET(Params, mtWorkersShared, ucp_params_t, mt_workers_shared);
SAME_OFFSET(Params, estimatedNumEps, ucp_params_t, estimated_num_eps);
SAME_OFFSET(Params, estimatedNumPpn, ucp_params_t, estimated_num_ppn);
SAME_OFFSET(Params, name, ucp_params_t, name);

// ucp_worker_params_t and ucp_ep_params_t: Tutti sets the leading fields and keeps spare room.
SAME_OFFSET(WorkerParams, fieldMask, ucp_worker_params_t, field_mask);
SAME_OFFSET(WorkerParams, threadMode, ucp_worker_params_t, thread_mode);
static_assert(sizeof(WorkerParams) >= sizeof(ucp_worker_params_t), "WorkerParams too small");
SAME_OFFSET(EpParams, fieldMask, ucp_ep_params_t, field_mask);
SAME_OFFSET(EpParams, address, ucp_ep_params_t, address);
SAME_OFFSET(EpParams, errMode, ucp_ep_params_t, err_mode);
SAME_OFFSET(EpParams, errCb, ucp_ep_params_t, err_handler.cb);
SAME_OFFSET(EpParams, errArg, ucp_ep_params_t, err_handler.arg);
SAME_OFFSET(EpParams, userData, ucp_ep_params_t, user_data);
SAME_OFFSET(EpParams, flags, ucp_ep_params_t, flags);
static_assert(sizeof(EpParams) >= sizeof(ucp_ep_params_t), "EpParams too small");

// ucp_request_param_t: every *_nbx call reads the fields op_attr_mask names.
SAME_OFFSET(RequestParam, opAttrMask, ucp_request_param_t, op_attr_mask);
SAME_OFFSET(RequestParam, flags, ucp_request_param_t, flags);
SAME_OFFSET(RequestParam, request, ucp_request_param_t, request);
SAME_OFFSET(RequestParam, cb, ucp_request_param_t, cb);
SAME_OFFSET(RequestParam, datatype, ucp_request_param_t, datatype);
SAME_OFFSET(RequestParam, userData, ucp_request_param_t, user_data);
SAME_OFFSET(RequestParam, replyBuffer, ucp_request_param_t, reply_buffer);
SAME_OFFSET(RequestParam, memoryType, ucp_request_param_t, memory_type);
SAME_OFFSET(RequestParam, recvInfo, ucp_request_param_t, recv_info);
SAME_OFFSET(RequestParam, memh, ucp_request_param_t, memh);

// ucp_tag_recv_info_t: written whole by ucp_tag_recv_request_test.
SAME_OFFSET(TagRecvInfo, senderTag, ucp_tag_recv_info_t, sender_tag);
SAME_OFFSET(TagRecvInfo, length, ucp_tag_recv_info_t, length);
static_assert(sizeof(TagRecvInfo) == sizeof(ucp_tag_recv_info_t), "TagRecvInfo size");

// ucp_context_attr_t: written by ucp_context_query for the fields field_mask names.
SAME_OFFSET(ContextAttr, fieldMask, ucp_context_attr_t, field_mask);
SAME_OFFSET(ContextAttr, requestSize, ucp_context_attr_t, request_size);
SAME_OFFSET(ContextAttr, threadMode, ucp_context_attr_t, thread_mode);
SAME_OFFSET(ContextAttr, memoryTypes, ucp_context_attr_t, memory_types);
SAME_OFFSET(ContextAttr, name, ucp_context_attr_t, name);
static_assert(sizeof(ContextAttr) >= sizeof(ucp_context_attr_t), "ContextAttr too small");

#undef SAME_OFFSET

static_assert(kOk == UCS_OK && kInProgress == UCS_INPROGRESS && kErrBusy == UCS_ERR_BUSY &&
                  kErrCanceled == UCS_ERR_CANCELED && kErrLast == UCS_ERR_LAST,
              "status codes");
static_assert(sizeof(Status) == sizeof(ucs_status_t), "ucs_status_t size");
static_assert(sizeof(Tag) == sizeof(ucp_tag_t), "ucp_tag_t size");
static_assert(kParamFieldFeatures == UCP_PARAM_FIELD_FEATURES &&
                  kParamFieldEstimatedNumEps == UCP_PARAM_FIELD_ESTIMATED_NUM_EPS,
              "ucp_params_t field bits");
static_assert(kFeatureTag == UCP_FEATURE_TAG && kFeatureWakeup == UCP_FEATURE_WAKEUP,
              "feature bits");
static_assert(kWorkerParamFieldThreadMode == UCP_WORKER_PARAM_FIELD_THREAD_MODE &&
                  kThreadModeSerialized == UCS_THREAD_MODE_SERIALIZED,
              "worker params");
static_assert(kEpParamFieldRemoteAddress == UCP_EP_PARAM_FIELD_REMOTE_ADDRESS &&
                  kEpParamFieldErrHandlingMode == UCP_EP_PARAM_FIELD_ERR_HANDLING_MODE &&
                  kEpParamFieldErrHandler == UCP_EP_PARAM_FIELD_ERR_HANDLER &&
                  kErrHandlingModePeer == UCP_ERR_HANDLING_MODE_PEER,
              "endpoint params");
static_assert(kOpAttrFieldFlags == UCP_OP_ATTR_FIELD_FLAGS &&
                  kOpAttrFlagNoImmCmpl == UCP_OP_ATTR_FLAG_NO_IMM_CMPL &&
                  kEpCloseFlagForce == UCP_EP_CLOSE_FLAG_FORCE,
              "operation flags");
static_assert(kAttrFieldMemoryTypes == UCP_ATTR_FIELD_MEMORY_TYPES &&
                  kMemoryTypeHost == UCS_MEMORY_TYPE_HOST &&
                  kMemoryTypeCuda == UCS_MEMORY_TYPE_CUDA,
              "context attributes");

// The checks above are the test; this records which headers they ran against.
TEST(UcxAbi, DeclarationsMatchTheInstalledHeaders) {
  std::cout << "checked against the headers of UCX " << UCP_API_MAJOR << "." << UCP_API_MINOR
            << "\n";
  EXPECT_EQ(UCP_API_MAJOR, 1);
}

}  // namespace
}  // namespace tutti::ucx

/* Tutti public C API: communicators, collectives, group calls and errors.
 * Compiles as C99 and C++ without CUDA headers; streams are passed as opaque pointers. */
#ifndef TUTTI_TUTTI_H_
#define TUTTI_TUTTI_H_

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TUTTI_MAJOR 0
#define TUTTI_MINOR 1
#define TUTTI_PATCH 0
#define TUTTI_VERSION(X, Y, Z) ((X)*10000 + (Y)*100 + (Z))
#define TUTTI_VERSION_CODE TUTTI_VERSION(TUTTI_MAJOR, TUTTI_MINOR, TUTTI_PATCH)

/* ---------------------------------------------------------------------------------------------
 * Result codes. Every call returns one; tuttiGetLastError() holds the sentence explaining it.
 * ------------------------------------------------------------------------------------------- */
typedef enum {
  tuttiSuccess = 0,
  tuttiInvalidArgument = 1, /* an argument is wrong: the message names it */
  tuttiInvalidUsage = 2,    /* a call is not allowed in this state (e.g. unmatched group end) */
  tuttiSystemError = 3,     /* an OS call failed (socket, shared memory, memory) */
  tuttiInternalError = 4,   /* a bug in Tutti: please report it with the log */
  tuttiCudaError = 5,       /* a CUDA call failed */
  tuttiRemoteError = 6,     /* a peer died, disconnected, failed, or sent malformed data */
  tuttiTimeout = 7,         /* a wait ran past the communicator's timeout */
  tuttiAborted = 8,         /* the communicator was aborted */
  tuttiInProgress = 9,      /* non-blocking init still running: poll tuttiCommGetAsyncError */
  tuttiNotSupported = 10,   /* valid request this build or machine cannot serve */
  tuttiNumResults = 11
} tuttiResult_t;

/* ---------------------------------------------------------------------------------------------
 * Types.
 * ------------------------------------------------------------------------------------------- */
#define TUTTI_UNIQUE_ID_BYTES 128
/* Carries the rendezvous address, port and a random 128-bit secret. Treat it as a password. */
typedef struct {
  char internal[TUTTI_UNIQUE_ID_BYTES];
} tuttiUniqueId;

typedef struct tuttiComm* tuttiComm_t;
typedef void* tuttiStream_t; /* a cudaStream_t; NULL is the legacy default stream */

typedef enum {
  tuttiInt8 = 0,
  tuttiUint8 = 1,
  tuttiInt32 = 2,
  tuttiUint32 = 3,
  tuttiInt64 = 4,
  tuttiUint64 = 5,
  tuttiFloat16 = 6,
  tuttiFloat32 = 7,
  tuttiFloat64 = 8,
  tuttiBfloat16 = 9,
  tuttiFp8E4M3 = 10,
  tuttiFp8E5M2 = 11,
  tuttiNumTypes = 12,
  /* Not a type: it makes every int a value of this enum in C++ (where a value outside an
   * enum's range is undefined behaviour), so a bad datatype can be checked and reported. */
  tuttiMaxDataType = 0x7fffffff
} tuttiDataType_t;

typedef enum {
  tuttiSum = 0,
  tuttiProd = 1,
  tuttiMax = 2,
  tuttiMin = 3,
  tuttiAvg = 4,
  tuttiNumOps = 5,
  /* Not an op: PreMulSum handles are values from tuttiNumOps up, and this keeps all of them
   * (and bad values, which are reported) inside the enum's range in C++, as ncclMaxRedOp does. */
  tuttiMaxRedOp = 0x7fffffff
} tuttiRedOp_t;

#define TUTTI_SPLIT_NOCOLOR (-1)
#define TUTTI_NO_DEVICE (-1)      /* a host-only rank: collectives on host memory only */
#define TUTTI_DEVICE_CURRENT (-2) /* the CUDA device current at init, or host-only if none */
#define TUTTI_CONFIG_UNDEF_INT INT_MIN

/* Communicator options. `size`, `magic` and `version` let later releases grow the struct:
 * always start from TUTTI_CONFIG_INITIALIZER. Fields left at TUTTI_CONFIG_UNDEF_INT take the
 * value of the matching TUTTI_* environment variable, else the default. */
typedef struct tuttiConfig_v1 {
  size_t size;          /* sizeof(tuttiConfig_t) as the caller compiled it */
  unsigned int magic;   /* TUTTI_CONFIG_MAGIC */
  unsigned int version; /* TUTTI_VERSION_CODE the caller compiled against */
  int blocking;         /* 1 (default): init blocks; 0: init returns tuttiInProgress */
  int device;           /* CUDA device of this rank, TUTTI_DEVICE_CURRENT or TUTTI_NO_DEVICE */
  int timeoutMs;        /* every wait gives up after this long (TUTTI_TIMEOUT_MS) */
  int minChannels;      /* lower bound on parallel channels the tuner may pick */
  int maxChannels;      /* upper bound on parallel channels (SM budget on the GPU) */
  const char* commName; /* shown in logs; copied at init */
  int splitShare;       /* split children may share the parent's buffers */
} tuttiConfig_t;

#define TUTTI_CONFIG_MAGIC 0x54555454u /* "TUTT" */
#define TUTTI_CONFIG_INITIALIZER                                                           \
  {                                                                                        \
    sizeof(tuttiConfig_t), TUTTI_CONFIG_MAGIC, TUTTI_VERSION_CODE, TUTTI_CONFIG_UNDEF_INT, \
        TUTTI_DEVICE_CURRENT, TUTTI_CONFIG_UNDEF_INT, TUTTI_CONFIG_UNDEF_INT,              \
        TUTTI_CONFIG_UNDEF_INT, NULL, TUTTI_CONFIG_UNDEF_INT                               \
  }

/* ---------------------------------------------------------------------------------------------
 * Versions and errors.
 * ------------------------------------------------------------------------------------------- */
tuttiResult_t tuttiGetVersion(int* version);
const char* tuttiGetErrorString(tuttiResult_t result);
/* The last error of this thread (comm == NULL) or of the communicator, as a sentence naming
 * the argument or peer at fault. Empty string when there was none. Valid until the next call
 * on the same thread. */
const char* tuttiGetLastError(tuttiComm_t comm);

/* ---------------------------------------------------------------------------------------------
 * Communicator lifecycle.
 * ------------------------------------------------------------------------------------------- */
/* Called once by the root process; the id is then shared with every rank (MPI_Bcast, a file,
 * ...). With TUTTI_COMM_ID=host:port set, every process can build the same id itself. */
tuttiResult_t tuttiGetUniqueId(tuttiUniqueId* uniqueId);
tuttiResult_t tuttiCommInitRank(tuttiComm_t* comm, int nranks, tuttiUniqueId commId, int rank);
tuttiResult_t tuttiCommInitRankConfig(tuttiComm_t* comm, int nranks, tuttiUniqueId commId, int rank,
                                      const tuttiConfig_t* config);
/* ndev ranks in this process. devlist[i] is the CUDA device of rank i or TUTTI_NO_DEVICE for a
 * host-only rank; devlist == NULL means devices 0..ndev-1, or host ranks without a GPU. */
tuttiResult_t tuttiCommInitAll(tuttiComm_t* comms, int ndev, const int* devlist);
/* Collective over `comm`: ranks with the same color form a new communicator, ordered by key
 * then old rank. color == TUTTI_SPLIT_NOCOLOR yields *newcomm == NULL. */
tuttiResult_t tuttiCommSplit(tuttiComm_t comm, int color, int key, tuttiComm_t* newcomm,
                             const tuttiConfig_t* config);
/* Completes outstanding work, then releases peer connections in step with the other ranks. */
tuttiResult_t tuttiCommFinalize(tuttiComm_t comm);
/* Frees the communicator (after Finalize, or directly when every rank is done with it). */
tuttiResult_t tuttiCommDestroy(tuttiComm_t comm);
/* Stops every pending operation (host waits and GPU kernels), tells peers, frees the comm. */
tuttiResult_t tuttiCommAbort(tuttiComm_t comm);
/* tuttiSuccess, tuttiInProgress (non-blocking init), or the error that broke the comm. */
tuttiResult_t tuttiCommGetAsyncError(tuttiComm_t comm, tuttiResult_t* asyncError);
tuttiResult_t tuttiCommCount(const tuttiComm_t comm, int* count);
tuttiResult_t tuttiCommUserRank(const tuttiComm_t comm, int* rank);
tuttiResult_t tuttiCommCuDevice(const tuttiComm_t comm, int* device);
/* Writes the communicator's flight record (its last TUTTI_FLIGHT_RECORDER calls, as JSON) to
 * `path`, or to TUTTI_FLIGHT_DIR (default /tmp) when `path` is NULL. tools/tutti-flight reads
 * every rank's dump. tuttiInvalidUsage when the recorder is off (TUTTI_FLIGHT_RECORDER=0). */
tuttiResult_t tuttiCommDumpFlightRecord(tuttiComm_t comm, const char* path);

/* ---------------------------------------------------------------------------------------------
 * Collectives. Host buffers run on the CPU executor and are complete when the call returns;
 * device buffers are enqueued on `stream`. All ranks must call the same collectives in the
 * same order with matching counts; mismatches are reported as tuttiRemoteError.
 * In-place: sendbuff == recvbuff (AllReduce, Broadcast, Reduce, AllToAll), or
 * sendbuff == recvbuff + rank * count (AllGather), recvbuff == sendbuff + rank * recvcount
 * (ReduceScatter).
 * ------------------------------------------------------------------------------------------- */
tuttiResult_t tuttiAllReduce(const void* sendbuff, void* recvbuff, size_t count,
                             tuttiDataType_t datatype, tuttiRedOp_t op, tuttiComm_t comm,
                             tuttiStream_t stream);
/* recvbuff holds nranks * sendcount elements, rank r's contribution at r * sendcount. */
tuttiResult_t tuttiAllGather(const void* sendbuff, void* recvbuff, size_t sendcount,
                             tuttiDataType_t datatype, tuttiComm_t comm, tuttiStream_t stream);
/* sendbuff holds nranks * recvcount elements; rank r receives the reduction of block r. */
tuttiResult_t tuttiReduceScatter(const void* sendbuff, void* recvbuff, size_t recvcount,
                                 tuttiDataType_t datatype, tuttiRedOp_t op, tuttiComm_t comm,
                                 tuttiStream_t stream);
/* Block p (count elements) of sendbuff goes to rank p, landing in its block `rank`. */
tuttiResult_t tuttiAllToAll(const void* sendbuff, void* recvbuff, size_t count,
                            tuttiDataType_t datatype, tuttiComm_t comm, tuttiStream_t stream);
/* Counts and displacements in elements, one entry per rank. Not in place. */
tuttiResult_t tuttiAllToAllv(const void* sendbuff, const size_t* sendcounts, const size_t* sdispls,
                             void* recvbuff, const size_t* recvcounts, const size_t* rdispls,
                             tuttiDataType_t datatype, tuttiComm_t comm, tuttiStream_t stream);
tuttiResult_t tuttiBroadcast(const void* sendbuff, void* recvbuff, size_t count,
                             tuttiDataType_t datatype, int root, tuttiComm_t comm,
                             tuttiStream_t stream);
/* recvbuff is only read at the root and may be NULL elsewhere. */
tuttiResult_t tuttiReduce(const void* sendbuff, void* recvbuff, size_t count,
                          tuttiDataType_t datatype, tuttiRedOp_t op, int root, tuttiComm_t comm,
                          tuttiStream_t stream);
/* Point to point: matched in call order per pair of ranks. Inside a group, any mix of sends
 * and receives completes without deadlock. */
tuttiResult_t tuttiSend(const void* sendbuff, size_t count, tuttiDataType_t datatype, int peer,
                        tuttiComm_t comm, tuttiStream_t stream);
tuttiResult_t tuttiRecv(void* recvbuff, size_t count, tuttiDataType_t datatype, int peer,
                        tuttiComm_t comm, tuttiStream_t stream);

/* Group calls: operations between GroupStart and GroupEnd are launched together at GroupEnd
 * (one progress loop on the CPU, one fused launch per stream on the GPU). They nest. */
tuttiResult_t tuttiGroupStart(void);
tuttiResult_t tuttiGroupEnd(void);

/* ---------------------------------------------------------------------------------------------
 * Custom reduction: sum of (scalar * input). `scalar` is a host value of `datatype`.
 * ------------------------------------------------------------------------------------------- */
tuttiResult_t tuttiRedOpCreatePreMulSum(tuttiRedOp_t* op, const void* scalar,
                                        tuttiDataType_t datatype, tuttiComm_t comm);
tuttiResult_t tuttiRedOpDestroy(tuttiRedOp_t op, tuttiComm_t comm);

/* ---------------------------------------------------------------------------------------------
 * Gradient compression (docs/compression.md). Compressed AllReduce, ReduceScatter and AllGather
 * send encoded blocks instead of raw elements. Each rank's contribution is encoded once, sent
 * to the rank owning its shard (an all-to-all), decoded and reduced there in fp32, the reduced
 * shard is encoded once more and all-gathered; its owner keeps the values it sends, so every
 * rank ends with bit-identical outputs. Sum and avg on float32, float16 and bfloat16.
 * ------------------------------------------------------------------------------------------- */
typedef enum {
  tuttiCodecBf16 = 0,    /* round to bfloat16 (2 bytes per element) */
  tuttiCodecFp8E4M3 = 1, /* fp8 e4m3 codes, one fp32 scale per block (amax / 448) */
  tuttiCodecFp8E5M2 = 2, /* fp8 e5m2 codes, one fp32 scale per block (amax / 57344) */
  tuttiCodecInt8 = 3,    /* symmetric int8 codes -127..127, one fp32 scale per block */
  tuttiCodecTopK = 4,    /* the topkFraction largest magnitudes: fp32 values + uint32 indices */
  tuttiCodecSign1 = 5,   /* one sign bit per element, one fp32 scale (mean |x|) per block */
  tuttiNumCodecs = 6
} tuttiCodec_t;

/* tuttiCompression_t.flags: compress only what crosses nodes (ranks on different hosts);
 * traffic between ranks of one host stays exact. Has no effect on AllGather (see the docs). */
#define TUTTI_COMPRESS_INTER_NODE_ONLY 0x1u

/* What to compress with. `size`, `magic` and `version` let later releases grow the struct:
 * always start from TUTTI_COMPRESSION_INITIALIZER. */
typedef struct tuttiCompression_v1 {
  size_t size;          /* sizeof(tuttiCompression_t) as the caller compiled it */
  unsigned int magic;   /* TUTTI_COMPRESSION_MAGIC */
  unsigned int version; /* TUTTI_VERSION_CODE the caller compiled against */
  tuttiCodec_t codec;
  int blockSize;      /* elements per scale: 32, 64 or 128 (bf16 and top-k: shard alignment) */
  float topkFraction; /* top-k: fraction of each segment's elements sent, in (0, 1] */
  unsigned int flags; /* TUTTI_COMPRESS_* bits, 0 by default */
} tuttiCompression_t;

#define TUTTI_COMPRESSION_MAGIC 0x54435250u /* "TCRP" */
#define TUTTI_COMPRESSION_INITIALIZER                                                            \
  {                                                                                              \
    sizeof(tuttiCompression_t), TUTTI_COMPRESSION_MAGIC, TUTTI_VERSION_CODE, tuttiCodecInt8, 32, \
        0.01f, 0u                                                                                \
  }

/* Error feedback: a state keeps what the encoding of this rank's input lost (input minus
 * decode(encode(input)), in fp32) and adds it to the next call's input. Required by top-k and
 * 1-bit, optional for the other codecs. Create one per gradient buffer and reuse it every step:
 * `count` is the element count of the calls' sendbuff (AllReduce: count, ReduceScatter:
 * nranks * recvcount, AllGather: sendcount), `datatype` theirs, and the state lives in host or
 * device memory like their buffers. A state belongs to `comm`; destroy it before the comm. */
typedef struct tuttiCompressState* tuttiCompressState_t;
typedef enum { tuttiMemoryHost = 0, tuttiMemoryDevice = 1 } tuttiMemoryKind_t;

tuttiResult_t tuttiCompressStateCreate(tuttiCompressState_t* state, size_t count,
                                       tuttiDataType_t datatype, tuttiMemoryKind_t memory,
                                       tuttiComm_t comm);
/* Forgets the kept residuals (e.g. after a skipped optimizer step). Device states are zeroed
 * on the device synchronously. */
tuttiResult_t tuttiCompressStateReset(tuttiCompressState_t state);
tuttiResult_t tuttiCompressStateDestroy(tuttiCompressState_t state);

/* Bytes of the encoded stream of `count` consecutive elements (one all-to-all segment), so
 * callers can tell the compression ratio: count * elementSize / *bytes. */
tuttiResult_t tuttiCompressedSize(const tuttiCompression_t* compression, size_t count,
                                  size_t* bytes);

/* As tuttiAllReduce / tuttiReduceScatter / tuttiAllGather, with `compression` describing the
 * codec and `state` NULL or an error-feedback state. Host buffers complete before the call
 * returns; device buffers are enqueued on `stream`. Not allowed inside tuttiGroupStart/End. */
tuttiResult_t tuttiAllReduceCompressed(const void* sendbuff, void* recvbuff, size_t count,
                                       tuttiDataType_t datatype, tuttiRedOp_t op,
                                       const tuttiCompression_t* compression,
                                       tuttiCompressState_t state, tuttiComm_t comm,
                                       tuttiStream_t stream);
tuttiResult_t tuttiReduceScatterCompressed(const void* sendbuff, void* recvbuff, size_t recvcount,
                                           tuttiDataType_t datatype, tuttiRedOp_t op,
                                           const tuttiCompression_t* compression,
                                           tuttiCompressState_t state, tuttiComm_t comm,
                                           tuttiStream_t stream);
tuttiResult_t tuttiAllGatherCompressed(const void* sendbuff, void* recvbuff, size_t sendcount,
                                       tuttiDataType_t datatype,
                                       const tuttiCompression_t* compression,
                                       tuttiCompressState_t state, tuttiComm_t comm,
                                       tuttiStream_t stream);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* TUTTI_TUTTI_H_ */

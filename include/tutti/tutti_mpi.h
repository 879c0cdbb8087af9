/* Header-only helper for programs launched by mpirun: rank 0 creates the unique id, MPI
 * broadcasts it, every rank joins. Kept out of libtutti so the library never links MPI. */
#ifndef TUTTI_TUTTI_MPI_H_
#define TUTTI_TUTTI_MPI_H_

#include <mpi.h>

#include "tutti/tutti.h"

/* Creates a Tutti communicator spanning `mpiComm`, rank and size taken from it. */
static inline tuttiResult_t tuttiCommInitMpi(tuttiComm_t* comm, MPI_Comm mpiComm,
                                             const tuttiConfig_t* config) {
  int rank = 0, nranks = 0;
  if (MPI_Comm_rank(mpiComm, &rank) != MPI_SUCCESS) return tuttiSystemError;
  if (MPI_Comm_size(mpiComm, &nranks) != MPI_SUCCESS) return tuttiSystemError;
  tuttiUniqueId id;
  tuttiResult_t res = tuttiSuccess;
  if (rank == 0) res = tuttiGetUniqueId(&id);
  /* Share the root's outcome first so no rank waits on an id that never comes. */
  int ok = (res == tuttiSuccess);
  if (MPI_Bcast(&ok, 1, MPI_INT, 0, mpiComm) != MPI_SUCCESS) return tuttiSystemError;
  if (!ok) return rank == 0 ? res : tuttiRemoteError;
  if (MPI_Bcast(&id, (int)sizeof(id), MPI_BYTE, 0, mpiComm) != MPI_SUCCESS) return tuttiSystemError;
  return config ? tuttiCommInitRankConfig(comm, nranks, id, rank, config)
                : tuttiCommInitRank(comm, nranks, id, rank);
}

#endif /* TUTTI_TUTTI_MPI_H_ */

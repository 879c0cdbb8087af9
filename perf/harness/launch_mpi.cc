// Launch under mpirun with MPI: MPI_Init, node-local index by MPI_Comm_split_type, communicator
// by tuttiCommInitMpi (Tutti) or a broadcast unique id (NCCL, or several ranks per process).
#include <mpi.h>

#include <cstdio>

#include "harness/launch.h"

namespace tutti::perf {

int runUnderMpi(const Collective& coll, const Options& opts, Backend& backend, int* argc,
                char*** argv) {
  MPI_Init(argc, argv);
  std::unique_ptr<Control> control = makeMpiControl();
  ProcessPlace place;
  place.procRank = control->rank();
  place.nprocs = control->size();
  place.launch = "mpi";
  MPI_Comm node;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, place.procRank, MPI_INFO_NULL, &node);
  MPI_Comm_rank(node, &place.nodeLocalIndex);
  MPI_Comm_free(&node);

  if (opts.gpusPerThread == 1 && backend.name() == std::string("tutti")) {
    place.useMpiInit = true;
  } else {
    // Share the root's outcome first, so that no rank waits for an id that never comes.
    Status s;
    if (place.procRank == 0) s = backend.getUniqueId(&place.id);
    int ok = s.isOk();
    MPI_Bcast(&ok, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (!ok) {
      if (place.procRank == 0) fprintf(stderr, "rank 0: %s\n", s.message().c_str());
      MPI_Finalize();
      return kExitError;
    }
    MPI_Bcast(place.id.data(), static_cast<int>(place.id.size()), MPI_BYTE, 0, MPI_COMM_WORLD);
  }
  int code = runProcess(coll, opts, backend, control.get(), place);
  control.reset();
  if (code == kExitError) MPI_Abort(MPI_COMM_WORLD, code);  // the other ranks may be waiting
  // Wrong values on one rank are reported by rank 0; every rank returns the same code.
  int worst = code;
  MPI_Allreduce(&code, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  MPI_Finalize();
  return worst;
}

}  // namespace tutti::perf

/* OpenMPI's MPI_Allreduce (float32, sum) timed with the rules of the *_perf binaries:
 * same -b/-e/-f/-i/-n/-w/-c flags, warmup per size, n iterations timed as a whole, the
 * slowest rank's time, and the same table columns. Used by cpu_vs_openmpi.sh. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parseSize(const char* s, size_t* out) {
  char* end = NULL;
  unsigned long long v = strtoull(s, &end, 10);
  if (end == s) return 0;
  switch (*end) {
    case 'k':
    case 'K':
      v <<= 10;
      ++end;
      break;
    case 'm':
    case 'M':
      v <<= 20;
      ++end;
      break;
    case 'g':
    case 'G':
      v <<= 30;
      ++end;
      break;
    default: break;
  }
  if (*end == 'B' || *end == 'b') ++end;
  if (*end) return 0;
  *out = (size_t)v;
  return 1;
}

static void timeStr(double us, char* buf, size_t n) {
  if (us >= 10000)
    snprintf(buf, n, "%7.0f", us);
  else if (us >= 100)
    snprintf(buf, n, "%7.1f", us);
  else
    snprintf(buf, n, "%7.2f", us);
}

/* Rank-dependent small integers: every partial sum is exact in float. */
static float inputValue(int rank, size_t i) {
  return (float)((int)((i * 2654435761u + (size_t)rank * 40503u) % 201u) - 100);
}

static long long checkResult(const float* out, size_t count, int nranks) {
  long long wrong = 0;
  for (size_t i = 0; i < count; ++i) {
    float want = 0;
    for (int r = 0; r < nranks; ++r) want += inputValue(r, i);
    if (out[i] != want) ++wrong;
  }
  return wrong;
}

/* Times one placement; returns the slowest rank's seconds per operation. */
static double timeOne(float* send, float* recv, size_t count, int inPlace, int warmup, int iters) {
  const void* s = inPlace ? MPI_IN_PLACE : send;
  for (int i = 0; i < warmup; ++i)
    MPI_Allreduce(s, recv, (int)count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
  MPI_Barrier(MPI_COMM_WORLD);
  double t0 = MPI_Wtime();
  for (int i = 0; i < iters; ++i)
    MPI_Allreduce(s, recv, (int)count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
  double dt = (MPI_Wtime() - t0) / iters, worst = 0;
  MPI_Allreduce(&dt, &worst, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  return worst;
}

static long long checkOne(float* send, float* recv, size_t count, int inPlace, int rank,
                          int nranks) {
  float* in = inPlace ? recv : send;
  for (size_t i = 0; i < count; ++i) in[i] = inputValue(rank, i);
  if (!inPlace) memset(recv, 0xA5, count * sizeof(float));
  MPI_Allreduce(inPlace ? MPI_IN_PLACE : send, recv, (int)count, MPI_FLOAT, MPI_SUM,
                MPI_COMM_WORLD);
  long long wrong = checkResult(recv, count, nranks), total = 0;
  MPI_Allreduce(&wrong, &total, 1, MPI_LONG_LONG, MPI_SUM, MPI_COMM_WORLD);
  return total;
}

int main(int argc, char** argv) {
  size_t minBytes = 32u << 20, maxBytes = 32u << 20, step = 1u << 20, factor = 1;
  int iters = 20, warmup = 5, check = 1;
  MPI_Init(&argc, &argv);
  int rank, nranks;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &nranks);
  for (int i = 1; i < argc; ++i) {
    const char* a = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : NULL;
    int ok = v != NULL;
    if (ok && !strcmp(a, "-b"))
      ok = parseSize(v, &minBytes);
    else if (ok && !strcmp(a, "-e"))
      ok = parseSize(v, &maxBytes);
    else if (ok && !strcmp(a, "-i"))
      ok = parseSize(v, &step);
    else if (ok && !strcmp(a, "-f"))
      factor = (size_t)atol(v);
    else if (ok && !strcmp(a, "-n"))
      iters = atoi(v);
    else if (ok && !strcmp(a, "-w"))
      warmup = atoi(v);
    else if (ok && !strcmp(a, "-c"))
      check = atoi(v);
    else
      ok = 0;
    if (!ok || iters < 1 || warmup < 0) {
      if (rank == 0)
        fprintf(stderr,
                "usage: %s [-b min] [-e max] [-f factor | -i step] [-n iters] "
                "[-w warmup] [-c 0|1]\n",
                argv[0]);
      MPI_Finalize();
      return 2;
    }
    ++i;
  }
  size_t maxCount = maxBytes / sizeof(float);
  float* send = malloc((maxCount ? maxCount : 1) * sizeof(float));
  float* recv = malloc((maxCount ? maxCount : 1) * sizeof(float));
  for (size_t i = 0; i < maxCount; ++i) send[i] = inputValue(rank, i);
  memset(recv, 0, maxCount * sizeof(float));

  if (rank == 0) {
    int version, subversion;
    char lib[MPI_MAX_LIBRARY_VERSION_STRING];
    int len;
    MPI_Get_version(&version, &subversion);
    MPI_Get_library_version(lib, &len);
    char* nl = strchr(lib, '\n');
    if (nl) *nl = '\0';
    printf("# mpi_allreduce_bench: MPI_Allreduce float sum, %d ranks, %s\n", nranks, lib);
    printf("# minBytes %zu maxBytes %zu warmup iters: %d iters: %d validation: %d\n#\n", minBytes,
           maxBytes, warmup, iters, check);
    printf("#%62s%-33s%s\n", "", "out-of-place", "in-place");
    printf("# %10s  %12s  %8s  %6s  %6s  %7s  %6s  %6s  %6s  %7s  %6s  %6s  %6s\n", "size", "count",
           "type", "redop", "root", "time", "algbw", "busbw", "#wrong", "time", "algbw", "busbw",
           "#wrong");
    printf("# %10s  %12s  %8s  %6s  %6s  %7s  %6s  %6s  %6s  %7s  %6s  %6s  %6s\n", "(B)",
           "(elements)", "", "", "", "(us)", "(GB/s)", "(GB/s)", "", "(us)", "(GB/s)", "(GB/s)",
           "");
  }
  double factorBw = nranks > 1 ? 2.0 * (nranks - 1) / nranks : 0;
  double bwSum = 0;
  int rows = 0;
  long long totalWrong = 0;
  for (size_t size = minBytes; size <= maxBytes;) {
    size_t count = size / sizeof(float);
    double t[2];
    long long wrong[2] = {-1, -1};
    for (int p = 0; p < 2; ++p) {
      if (p == 1) memcpy(recv, send, count * sizeof(float));
      t[p] = timeOne(send, recv, count, p, warmup, iters);
      if (check) wrong[p] = checkOne(send, recv, count, p, rank, nranks);
    }
    if (rank == 0) {
      printf("%12zu  %12zu  %8s  %6s  %6d", count * sizeof(float), count, "float", "sum", -1);
      for (int p = 0; p < 2; ++p) {
        char tb[32], wb[32];
        double alg = t[p] > 0 ? (double)(count * sizeof(float)) / 1e9 / t[p] : 0;
        timeStr(t[p] * 1e6, tb, sizeof(tb));
        if (wrong[p] < 0)
          snprintf(wb, sizeof(wb), "%6s", "N/A");
        else
          snprintf(wb, sizeof(wb), "%6lld", wrong[p]);
        printf("  %s  %6.2f  %6.2f  %s", tb, alg, alg * factorBw, wb);
        bwSum += alg * factorBw;
        if (wrong[p] > 0) totalWrong += wrong[p];
      }
      printf("\n");
      fflush(stdout);
    }
    rows += 2;
    size_t next = factor > 1 ? size * factor : size + step;
    if (next <= size) break;
    size = next;
  }
  if (rank == 0) {
    printf("# Out of bounds values : %lld %s\n", totalWrong, totalWrong ? "FAILED" : "OK");
    printf("# Avg bus bandwidth    : %g \n#\n", rows ? bwSum / rows : 0.0);
  }
  free(send);
  free(recv);
  MPI_Finalize();
  return totalWrong ? 1 : 0;
}

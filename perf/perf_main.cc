// main() of every *_perf binary; TUTTI_PERF_COLLECTIVE (set by CMake) names the collective.
#include "harness/launch.h"

int main(int argc, char** argv) { return tutti::perf::perfMain(TUTTI_PERF_COLLECTIVE, argc, argv); }

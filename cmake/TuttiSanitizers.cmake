# Instrumented builds, both CPU-only:
#   -DTUTTI_FUZZ=ON (clang): the libFuzzer harnesses of tests/fuzz with ASan + UBSan, nothing else.
#   -DTUTTI_SANITIZE=address,undefined | thread: the library and tests under sanitizers
#   (scripts/sanitizers.sh builds and runs them).
option(TUTTI_FUZZ "Build only the libFuzzer harnesses (clang; CPU-only; ASan+UBSan)" OFF)
set(TUTTI_SANITIZE "" CACHE STRING "Sanitizers for every target: address,undefined or thread")

if(TUTTI_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "TUTTI_FUZZ=ON needs clang (libFuzzer): -DCMAKE_CXX_COMPILER=clang++ "
                        "-DCMAKE_C_COMPILER=clang")
  endif()
  set(TUTTI_CUDA OFF CACHE STRING "" FORCE)
  set(TUTTI_BUILD_TESTS OFF CACHE BOOL "" FORCE)
  set(TUTTI_BUILD_PERF OFF CACHE BOOL "" FORCE)
  set(TUTTI_BUILD_SHIM OFF CACHE BOOL "" FORCE)
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
elseif(TUTTI_SANITIZE)
  set(TUTTI_CUDA OFF CACHE STRING "" FORCE)
  add_compile_options(-fsanitize=${TUTTI_SANITIZE} -fno-omit-frame-pointer)
  if(TUTTI_SANITIZE MATCHES "undefined")
    add_compile_options(-fno-sanitize-recover=undefined)
  endif()
  add_link_options(-fsanitize=${TUTTI_SANITIZE})
endif()

# Run with cmake -P (ctest test install_consumer). Proves that an installed
cmake_minimum_required(VERSION 3.25)  # policies NEW in -P mode too (CMP0054: no implicit deref)
# corio works for a user: install -> find_package(corio) -> link -> run.
# Inputs: CORIO_BUILD_DIR, CONSUMER_SOURCE_DIR, WORK_DIR, CMAKE_CXX_COMPILER,
#         CONFIG, GENERATOR, CONSUMER_FLAGS (sanitizer flags of the build, may be empty)
foreach(v CORIO_BUILD_DIR CONSUMER_SOURCE_DIR WORK_DIR CMAKE_CXX_COMPILER GENERATOR)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "run_install_test.cmake: -D${v}=... is required")
  endif()
endforeach()
if(NOT CONFIG)
  set(CONFIG Release)
endif()

set(prefix "${WORK_DIR}/prefix")
set(build "${WORK_DIR}/build")
file(REMOVE_RECURSE "${WORK_DIR}")   # a stale prefix could hide a missing install rule

function(step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "install_consumer: ${what} failed (exit ${rc}):\n${out}")
  endif()
  message(STATUS "install_consumer: ${what}: ok")
endfunction()

step("install" ${CMAKE_COMMAND} --install "${CORIO_BUILD_DIR}" --prefix "${prefix}" --config "${CONFIG}")
# Same compiler and build type as the tree under test: a static library built
# by one compiler/sanitizer set must be linked with the same.
step("configure consumer" ${CMAKE_COMMAND} -S "${CONSUMER_SOURCE_DIR}" -B "${build}" -G "${GENERATOR}"
  "-DCMAKE_PREFIX_PATH=${prefix}" "-DCMAKE_CXX_COMPILER=${CMAKE_CXX_COMPILER}"
  "-DCMAKE_BUILD_TYPE=${CONFIG}" "-DCMAKE_CXX_FLAGS=${CONSUMER_FLAGS}"
  "-DCMAKE_EXE_LINKER_FLAGS=${CONSUMER_FLAGS}")
step("build consumer" ${CMAKE_COMMAND} --build "${build}" --config "${CONFIG}")
step("run consumer" "${build}/corio_consumer")

# cmake -DPROGRAM=<exe> -DEXPECTED=<file> -P check_output.cmake
cmake_minimum_required(VERSION 3.25)  # policies NEW in -P mode too (CMP0054: no implicit deref)
# Runs PROGRAM, fails if it exits non-zero or its stdout differs from EXPECTED
# by even one byte; on mismatch prints the first differing line and a diff.
execute_process(COMMAND "${PROGRAM}" RESULT_VARIABLE rc
                OUTPUT_VARIABLE actual ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(NOTICE "stdout:\n${actual}\nstderr:\n${err}")
  message(FATAL_ERROR "${PROGRAM} exited with '${rc}'")
endif()
file(READ "${EXPECTED}" expected)
if("${actual}" STREQUAL "${expected}")
  return()
endif()

# Locate the first differing line (lists split on ';', so escape it first).
string(REPLACE ";" "\\;" a "${actual}")
string(REPLACE ";" "\\;" e "${expected}")
string(REPLACE "\n" ";" a "${a}")
string(REPLACE "\n" ";" e "${e}")
list(LENGTH a na)
list(LENGTH e ne)
set(first "")
foreach(i RANGE 0 1000000)
  if(i GREATER_EQUAL na OR i GREATER_EQUAL ne)
    math(EXPR line "${i} + 1")
    set(first "line ${line}: one output ends here (expected ${ne} lines, got ${na})")
    break()
  endif()
  list(GET a ${i} la)
  list(GET e ${i} le)
  if(NOT la STREQUAL le)
    math(EXPR line "${i} + 1")
    set(first "line ${line}:\n  expected: [${le}]\n  actual:   [${la}]")
    break()
  endif()
endforeach()
# message(NOTICE) prints verbatim; FATAL_ERROR would re-wrap the text.
message(NOTICE "stdout of ${PROGRAM} differs from ${EXPECTED}\n"
  "first difference at ${first}")
# Show a unified diff too when `diff` exists (keep the actual output beside
# the binary so it can be inspected or copied over the .expected file).
find_program(DIFF diff)
if(DIFF)
  set(actual_file "${PROGRAM}.actual")
  file(WRITE "${actual_file}" "${actual}")
  execute_process(COMMAND "${DIFF}" -u "${EXPECTED}" "${actual_file}")
else()
  message(NOTICE "--- expected ---\n${expected}--- actual ---\n${actual}--- end ---")
endif()
if(NOT err STREQUAL "")
  message(NOTICE "stderr:\n${err}")
endif()
message(FATAL_ERROR "output mismatch")

# CORIO_SANITIZER applies to the whole build tree (library, tests, benches),
# because a sanitizer must instrument every object that shares its memory or
# threads: mixing instrumented and plain code gives false reports (TSan) or
# misses bugs (ASan). It is a build-tree setting; it is not exported to users.
#   ""         no sanitizer
#   address    ASan + UBSan (the two combine; STYLE.md runs them together)
#   thread     TSan (cannot be combined with ASan)
#   undefined  UBSan alone
# CORIO_SANITIZER_FLAGS is left set for tests/install: a consumer that links
# the sanitized static library must pass the same -fsanitize flags.
set(CORIO_SANITIZER_FLAGS "")
set(_corio_san "${CORIO_SANITIZER}")
if(_corio_san STREQUAL "")
  return()
elseif(_corio_san STREQUAL "address")
  set(_corio_san_flags -fsanitize=address,undefined)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    # Clang 14 cannot emit UBSan's function-type check for split coroutine
    # functions ("Cannot represent a difference across sections").
    list(APPEND _corio_san_flags -fno-sanitize=function)
  endif()
  # UBSan's vptr check probes memory through a pipe it opens, so while the
  # process is out of file descriptors every call on a polymorphic object
  # (catching the EMFILE std::system_error itself) is reported as "invalid
  # vptr". corio must keep working in that state and a test drives it there,
  # so that one check is off; the rest of UBSan stays on.
  list(APPEND _corio_san_flags -fno-sanitize=vptr)
elseif(_corio_san STREQUAL "thread")
  set(_corio_san_flags -fsanitize=thread)
elseif(_corio_san STREQUAL "undefined")
  set(_corio_san_flags -fsanitize=undefined)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    list(APPEND _corio_san_flags -fno-sanitize=function)  # see "address" above
  endif()
  list(APPEND _corio_san_flags -fno-sanitize=vptr)  # see "address" above
else()
  message(FATAL_ERROR "CORIO_SANITIZER must be empty, address, thread or undefined; got '${_corio_san}'")
endif()

string(JOIN " " CORIO_SANITIZER_FLAGS ${_corio_san_flags})
message(STATUS "corio: sanitizer ${_corio_san} (${_corio_san_flags})")
# Frame pointers + debug info give readable sanitizer stacks even at -O1/-O2;
# UBSan should stop the test rather than print and continue.
add_compile_options(${_corio_san_flags} -fno-omit-frame-pointer -g)
if(_corio_san STREQUAL "address" OR _corio_san STREQUAL "undefined")
  add_compile_options(-fno-sanitize-recover=undefined)
endif()
add_link_options(${_corio_san_flags})

# Warning flags for corio's own targets only. They are PRIVATE so that nothing
# leaks into the builds of projects that link corio::corio (STYLE.md "Build").
function(corio_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic)
  if(CORIO_WARNINGS_AS_ERRORS)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# Strict warnings for every greenml target.
function(greenml_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes
    -Wvla -Wwrite-strings -Wformat=2 -Wpointer-arith -Wcast-qual -Wundef
    -Wno-unused-parameter)
  if(GREENML_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

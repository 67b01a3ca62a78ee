file(REMOVE_RECURSE
  "CMakeFiles/gm_test_helpers.dir/unit/helpers.c.o"
  "CMakeFiles/gm_test_helpers.dir/unit/helpers.c.o.d"
  "libgm_test_helpers.a"
  "libgm_test_helpers.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/gm_test_helpers.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()

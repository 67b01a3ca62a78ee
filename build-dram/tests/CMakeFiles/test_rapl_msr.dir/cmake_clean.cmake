file(REMOVE_RECURSE
  "CMakeFiles/test_rapl_msr.dir/unit/test_rapl_msr.c.o"
  "CMakeFiles/test_rapl_msr.dir/unit/test_rapl_msr.c.o.d"
  "test_rapl_msr"
  "test_rapl_msr.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_rapl_msr.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()

file(REMOVE_RECURSE
  "CMakeFiles/test_rapl_perf.dir/unit/test_rapl_perf.c.o"
  "CMakeFiles/test_rapl_perf.dir/unit/test_rapl_perf.c.o.d"
  "test_rapl_perf"
  "test_rapl_perf.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_rapl_perf.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()

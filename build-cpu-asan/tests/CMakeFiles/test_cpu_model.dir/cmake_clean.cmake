file(REMOVE_RECURSE
  "CMakeFiles/test_cpu_model.dir/unit/test_cpu_model.c.o"
  "CMakeFiles/test_cpu_model.dir/unit/test_cpu_model.c.o.d"
  "test_cpu_model"
  "test_cpu_model.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_cpu_model.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()

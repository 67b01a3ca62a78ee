file(REMOVE_RECURSE
  "CMakeFiles/test_nvml.dir/unit/test_nvml.c.o"
  "CMakeFiles/test_nvml.dir/unit/test_nvml.c.o.d"
  "test_nvml"
  "test_nvml.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_nvml.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()

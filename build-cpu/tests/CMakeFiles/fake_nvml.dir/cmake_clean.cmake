file(REMOVE_RECURSE
  "../fakes/libnvidia-ml.pdb"
  "../fakes/libnvidia-ml.so"
  "../fakes/libnvidia-ml.so.1"
  "CMakeFiles/fake_nvml.dir/fakes/fake_nvml.c.o"
  "CMakeFiles/fake_nvml.dir/fakes/fake_nvml.c.o.d"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/fake_nvml.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()

file(REMOVE_RECURSE
  "CMakeFiles/test_dram_model.dir/unit/test_dram_model.c.o"
  "CMakeFiles/test_dram_model.dir/unit/test_dram_model.c.o.d"
  "test_dram_model"
  "test_dram_model.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_dram_model.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()

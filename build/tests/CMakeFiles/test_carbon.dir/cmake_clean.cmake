file(REMOVE_RECURSE
  "CMakeFiles/test_carbon.dir/unit/test_carbon.c.o"
  "CMakeFiles/test_carbon.dir/unit/test_carbon.c.o.d"
  "test_carbon"
  "test_carbon.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_carbon.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()

file(REMOVE_RECURSE
  "libgreenml.pdb"
  "libgreenml.so"
  "libgreenml.so.0.1.0"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/greenml.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()

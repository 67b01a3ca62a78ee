file(REMOVE_RECURSE
  "libgreenml_static.a"
  "libgreenml_static.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/greenml_static.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()


# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/main/tests/unit/test_rapl_perf.c" "tests/CMakeFiles/test_rapl_perf.dir/unit/test_rapl_perf.c.o" "gcc" "tests/CMakeFiles/test_rapl_perf.dir/unit/test_rapl_perf.c.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  "/work/main/build-dram/tests/CMakeFiles/gm_test_helpers.dir/DependInfo.cmake"
  "/work/main/build-dram/CMakeFiles/greenml_static.dir/DependInfo.cmake"
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")


# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/main/apps/greenml/cmd_idle.c" "CMakeFiles/greenml_cli.dir/apps/greenml/cmd_idle.c.o" "gcc" "CMakeFiles/greenml_cli.dir/apps/greenml/cmd_idle.c.o.d"
  "/work/main/apps/greenml/cmd_mark.c" "CMakeFiles/greenml_cli.dir/apps/greenml/cmd_mark.c.o" "gcc" "CMakeFiles/greenml_cli.dir/apps/greenml/cmd_mark.c.o.d"
  "/work/main/apps/greenml/cmd_measure.c" "CMakeFiles/greenml_cli.dir/apps/greenml/cmd_measure.c.o" "gcc" "CMakeFiles/greenml_cli.dir/apps/greenml/cmd_measure.c.o.d"
  "/work/main/apps/greenml/cmd_sources.c" "CMakeFiles/greenml_cli.dir/apps/greenml/cmd_sources.c.o" "gcc" "CMakeFiles/greenml_cli.dir/apps/greenml/cmd_sources.c.o.d"
  "/work/main/apps/greenml/common.c" "CMakeFiles/greenml_cli.dir/apps/greenml/common.c.o" "gcc" "CMakeFiles/greenml_cli.dir/apps/greenml/common.c.o.d"
  "/work/main/apps/greenml/main.c" "CMakeFiles/greenml_cli.dir/apps/greenml/main.c.o" "gcc" "CMakeFiles/greenml_cli.dir/apps/greenml/main.c.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  "/work/main/build-dram/CMakeFiles/greenml_static.dir/DependInfo.cmake"
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")

file(REMOVE_RECURSE
  "CMakeFiles/greenml_cli.dir/apps/greenml/cmd_idle.c.o"
  "CMakeFiles/greenml_cli.dir/apps/greenml/cmd_idle.c.o.d"
  "CMakeFiles/greenml_cli.dir/apps/greenml/cmd_mark.c.o"
  "CMakeFiles/greenml_cli.dir/apps/greenml/cmd_mark.c.o.d"
  "CMakeFiles/greenml_cli.dir/apps/greenml/cmd_measure.c.o"
  "CMakeFiles/greenml_cli.dir/apps/greenml/cmd_measure.c.o.d"
  "CMakeFiles/greenml_cli.dir/apps/greenml/cmd_monitor.c.o"
  "CMakeFiles/greenml_cli.dir/apps/greenml/cmd_monitor.c.o.d"
  "CMakeFiles/greenml_cli.dir/apps/greenml/cmd_runs.c.o"
  "CMakeFiles/greenml_cli.dir/apps/greenml/cmd_runs.c.o.d"
  "CMakeFiles/greenml_cli.dir/apps/greenml/cmd_sources.c.o"
  "CMakeFiles/greenml_cli.dir/apps/greenml/cmd_sources.c.o.d"
  "CMakeFiles/greenml_cli.dir/apps/greenml/common.c.o"
  "CMakeFiles/greenml_cli.dir/apps/greenml/common.c.o.d"
  "CMakeFiles/greenml_cli.dir/apps/greenml/main.c.o"
  "CMakeFiles/greenml_cli.dir/apps/greenml/main.c.o.d"
  "greenml"
  "greenml.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/greenml_cli.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()

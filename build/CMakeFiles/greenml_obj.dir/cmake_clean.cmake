file(REMOVE_RECURSE
  "CMakeFiles/greenml_obj.dir/embed_carbon.c.o"
  "CMakeFiles/greenml_obj.dir/embed_carbon.c.o.d"
  "CMakeFiles/greenml_obj.dir/embed_cpu_tdp.c.o"
  "CMakeFiles/greenml_obj.dir/embed_cpu_tdp.c.o.d"
  "CMakeFiles/greenml_obj.dir/src/base/status.c.o"
  "CMakeFiles/greenml_obj.dir/src/base/status.c.o.d"
  "CMakeFiles/greenml_obj.dir/src/base/util.c.o"
  "CMakeFiles/greenml_obj.dir/src/base/util.c.o.d"
  "CMakeFiles/greenml_obj.dir/src/meter/cpu_topology.c.o"
  "CMakeFiles/greenml_obj.dir/src/meter/cpu_topology.c.o.d"
  "CMakeFiles/greenml_obj.dir/src/meter/integrate.c.o"
  "CMakeFiles/greenml_obj.dir/src/meter/integrate.c.o.d"
  "CMakeFiles/greenml_obj.dir/src/meter/meter.c.o"
  "CMakeFiles/greenml_obj.dir/src/meter/meter.c.o.d"
  "CMakeFiles/greenml_obj.dir/src/meter/procstat.c.o"
  "CMakeFiles/greenml_obj.dir/src/meter/procstat.c.o.d"
  "CMakeFiles/greenml_obj.dir/src/meter/registry.c.o"
  "CMakeFiles/greenml_obj.dir/src/meter/registry.c.o.d"
  "CMakeFiles/greenml_obj.dir/src/meter/sources/cpu_model.c.o"
  "CMakeFiles/greenml_obj.dir/src/meter/sources/cpu_model.c.o.d"
  "CMakeFiles/greenml_obj.dir/src/meter/sources/dram_model.c.o"
  "CMakeFiles/greenml_obj.dir/src/meter/sources/dram_model.c.o.d"
  "CMakeFiles/greenml_obj.dir/src/meter/sources/nvml.c.o"
  "CMakeFiles/greenml_obj.dir/src/meter/sources/nvml.c.o.d"
  "CMakeFiles/greenml_obj.dir/src/meter/sources/rapl_msr.c.o"
  "CMakeFiles/greenml_obj.dir/src/meter/sources/rapl_msr.c.o.d"
  "CMakeFiles/greenml_obj.dir/src/meter/sources/rapl_perf.c.o"
  "CMakeFiles/greenml_obj.dir/src/meter/sources/rapl_perf.c.o.d"
  "CMakeFiles/greenml_obj.dir/src/meter/sources/rapl_powercap.c.o"
  "CMakeFiles/greenml_obj.dir/src/meter/sources/rapl_powercap.c.o.d"
  "embed_carbon.c"
  "embed_cpu_tdp.c"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/greenml_obj.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()

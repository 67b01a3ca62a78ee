
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/main/build-rapl/embed_carbon.c" "CMakeFiles/greenml_obj.dir/embed_carbon.c.o" "gcc" "CMakeFiles/greenml_obj.dir/embed_carbon.c.o.d"
  "/work/main/build-rapl/embed_cpu_tdp.c" "CMakeFiles/greenml_obj.dir/embed_cpu_tdp.c.o" "gcc" "CMakeFiles/greenml_obj.dir/embed_cpu_tdp.c.o.d"
  "/work/main/src/base/json.c" "CMakeFiles/greenml_obj.dir/src/base/json.c.o" "gcc" "CMakeFiles/greenml_obj.dir/src/base/json.c.o.d"
  "/work/main/src/base/status.c" "CMakeFiles/greenml_obj.dir/src/base/status.c.o" "gcc" "CMakeFiles/greenml_obj.dir/src/base/status.c.o.d"
  "/work/main/src/base/util.c" "CMakeFiles/greenml_obj.dir/src/base/util.c.o" "gcc" "CMakeFiles/greenml_obj.dir/src/base/util.c.o.d"
  "/work/main/src/carbon/carbon.c" "CMakeFiles/greenml_obj.dir/src/carbon/carbon.c.o" "gcc" "CMakeFiles/greenml_obj.dir/src/carbon/carbon.c.o.d"
  "/work/main/src/host/host.c" "CMakeFiles/greenml_obj.dir/src/host/host.c.o" "gcc" "CMakeFiles/greenml_obj.dir/src/host/host.c.o.d"
  "/work/main/src/meter/cpu_tdp.c" "CMakeFiles/greenml_obj.dir/src/meter/cpu_tdp.c.o" "gcc" "CMakeFiles/greenml_obj.dir/src/meter/cpu_tdp.c.o.d"
  "/work/main/src/meter/cpu_topology.c" "CMakeFiles/greenml_obj.dir/src/meter/cpu_topology.c.o" "gcc" "CMakeFiles/greenml_obj.dir/src/meter/cpu_topology.c.o.d"
  "/work/main/src/meter/dimm.c" "CMakeFiles/greenml_obj.dir/src/meter/dimm.c.o" "gcc" "CMakeFiles/greenml_obj.dir/src/meter/dimm.c.o.d"
  "/work/main/src/meter/integrate.c" "CMakeFiles/greenml_obj.dir/src/meter/integrate.c.o" "gcc" "CMakeFiles/greenml_obj.dir/src/meter/integrate.c.o.d"
  "/work/main/src/meter/mark.c" "CMakeFiles/greenml_obj.dir/src/meter/mark.c.o" "gcc" "CMakeFiles/greenml_obj.dir/src/meter/mark.c.o.d"
  "/work/main/src/meter/meter.c" "CMakeFiles/greenml_obj.dir/src/meter/meter.c.o" "gcc" "CMakeFiles/greenml_obj.dir/src/meter/meter.c.o.d"
  "/work/main/src/meter/procstat.c" "CMakeFiles/greenml_obj.dir/src/meter/procstat.c.o" "gcc" "CMakeFiles/greenml_obj.dir/src/meter/procstat.c.o.d"
  "/work/main/src/meter/registry.c" "CMakeFiles/greenml_obj.dir/src/meter/registry.c.o" "gcc" "CMakeFiles/greenml_obj.dir/src/meter/registry.c.o.d"
  "/work/main/src/meter/sources/cpu_model.c" "CMakeFiles/greenml_obj.dir/src/meter/sources/cpu_model.c.o" "gcc" "CMakeFiles/greenml_obj.dir/src/meter/sources/cpu_model.c.o.d"
  "/work/main/src/meter/sources/dram_model.c" "CMakeFiles/greenml_obj.dir/src/meter/sources/dram_model.c.o" "gcc" "CMakeFiles/greenml_obj.dir/src/meter/sources/dram_model.c.o.d"
  "/work/main/src/meter/sources/nvml.c" "CMakeFiles/greenml_obj.dir/src/meter/sources/nvml.c.o" "gcc" "CMakeFiles/greenml_obj.dir/src/meter/sources/nvml.c.o.d"
  "/work/main/src/meter/sources/rapl_msr.c" "CMakeFiles/greenml_obj.dir/src/meter/sources/rapl_msr.c.o" "gcc" "CMakeFiles/greenml_obj.dir/src/meter/sources/rapl_msr.c.o.d"
  "/work/main/src/meter/sources/rapl_perf.c" "CMakeFiles/greenml_obj.dir/src/meter/sources/rapl_perf.c.o" "gcc" "CMakeFiles/greenml_obj.dir/src/meter/sources/rapl_perf.c.o.d"
  "/work/main/src/meter/sources/rapl_powercap.c" "CMakeFiles/greenml_obj.dir/src/meter/sources/rapl_powercap.c.o" "gcc" "CMakeFiles/greenml_obj.dir/src/meter/sources/rapl_powercap.c.o.d"
  "/work/main/src/store/store.c" "CMakeFiles/greenml_obj.dir/src/store/store.c.o" "gcc" "CMakeFiles/greenml_obj.dir/src/store/store.c.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")

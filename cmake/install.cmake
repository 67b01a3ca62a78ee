# Install rules (GNUInstallDirs): the five shared libraries, the public
# headers, the greenml command, pkg-config files, a CMake package, the man
# page and the bash completion. `cmake --install DIR --prefix P` or
# `make install PREFIX=P [DESTDIR=D]`. Every generated file locates the
# others relative to itself, so an install tree can be moved.
include(CMakePackageConfigHelpers)

set(GREENML_LIBRARIES greenml greenml_nn greenml_data greenml_study
    greenml_exporter)
install(TARGETS ${GREENML_LIBRARIES} EXPORT greenmlTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS greenml_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS greenml_study_cli greenml_exporter_cli
        RUNTIME DESTINATION ${CMAKE_INSTALL_LIBEXECDIR}/greenml)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/include/greenml
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.h")

# pkg-config: greenml, greenml-nn, greenml-data, greenml-study,
# greenml-exporter. Only shared
# libraries are installed, so no Libs.private / Requires.private: the public
# headers include nothing but the C library's and greenml's own.
file(RELATIVE_PATH GREENML_PC_TO_PREFIX ${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig
     ${CMAKE_INSTALL_PREFIX})
string(REGEX REPLACE "/$" "" GREENML_PC_TO_PREFIX "${GREENML_PC_TO_PREFIX}")
foreach(dir LIBDIR INCLUDEDIR)
  if(IS_ABSOLUTE "${CMAKE_INSTALL_${dir}}")
    set(GREENML_PC_${dir} "${CMAKE_INSTALL_${dir}}")
  else()
    set(GREENML_PC_${dir} "\${prefix}/${CMAKE_INSTALL_${dir}}")
  endif()
endforeach()
function(greenml_pc name lib description requires)
  set(PC_NAME ${name})
  set(PC_LIB ${lib})
  set(PC_DESCRIPTION "${description}")
  if(requires)
    set(PC_REQUIRES_LINE "Requires: ${requires}")
  else()
    set(PC_REQUIRES_LINE "")
  endif()
  configure_file(${CMAKE_SOURCE_DIR}/cmake/greenml.pc.in
                 ${CMAKE_BINARY_DIR}/pkgconfig/${name}.pc @ONLY)
  install(FILES ${CMAKE_BINARY_DIR}/pkgconfig/${name}.pc
          DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endfunction()
set(V ${PROJECT_VERSION})
greenml_pc(greenml greenml
  "energy meter (RAPL, NVML, models) and its SQLite store" "")
greenml_pc(greenml-nn greenml-nn
  "CNN graphs, the model zoo, the training engine, the CIFAR-10 loader"
  "greenml = ${V}")
greenml_pc(greenml-data greenml-data
  "CIFAR-10 download and the versions of greenml's libraries"
  "greenml-nn = ${V}, greenml = ${V}")
greenml_pc(greenml-study greenml-study
  "statistics, bench results read back, claims and estimates"
  "greenml-nn = ${V}, greenml = ${V}")
greenml_pc(greenml-exporter greenml-exporter
  "a running meter served to Prometheus (libmicrohttpd)" "greenml = ${V}")

# CMake: find_package(greenml [COMPONENTS nn data study exporter]) gives
# greenml::greenml, greenml::nn, greenml::data, greenml::study,
# greenml::exporter.
set(GREENML_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/greenml)
install(EXPORT greenmlTargets NAMESPACE greenml:: DESTINATION ${GREENML_CMAKE_DIR})
configure_package_config_file(${CMAKE_SOURCE_DIR}/cmake/greenmlConfig.cmake.in
  ${CMAKE_BINARY_DIR}/greenmlConfig.cmake INSTALL_DESTINATION ${GREENML_CMAKE_DIR})
# 0.x: a minor version may break the API.
write_basic_package_version_file(${CMAKE_BINARY_DIR}/greenmlConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/greenmlConfig.cmake
        ${CMAKE_BINARY_DIR}/greenmlConfigVersion.cmake
        DESTINATION ${GREENML_CMAKE_DIR})

install(FILES ${CMAKE_SOURCE_DIR}/docs/man/greenml.1
        DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${CMAKE_SOURCE_DIR}/scripts/completion/greenml.bash
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
        RENAME greenml)

# The Python package (python/greenml): into the site directory Debian's
# interpreter searches for the prefix (/usr: lib/python3/dist-packages;
# elsewhere, e.g. /usr/local: lib/python3.X/dist-packages), with _paths.py
# giving the library directory relative to the package, so that the
# installed package loads the installed libgreenml.so.0 wherever the tree is
# moved. Override with -DGREENML_PYTHON_DIR=DIR (relative to the prefix).
if(NOT DEFINED GREENML_PYTHON_DIR)
  if(EXISTS /usr/bin/python3)
    set(_gm_py /usr/bin/python3)
  else()
    find_program(_gm_py python3)
  endif()
  set(_gm_pyver "3")
  if(_gm_py)
    execute_process(COMMAND ${_gm_py} -c
                    "import sys; print('%d.%d' % sys.version_info[:2])"
                    OUTPUT_VARIABLE _gm_pyver OUTPUT_STRIP_TRAILING_WHITESPACE
                    RESULT_VARIABLE _gm_pyrc)
    if(NOT _gm_pyrc EQUAL 0)
      set(_gm_pyver "3")
    endif()
  endif()
  if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
    set(_gm_pydir lib/python3/dist-packages)
  else()
    set(_gm_pydir lib/python${_gm_pyver}/dist-packages)
  endif()
  set(GREENML_PYTHON_DIR ${_gm_pydir} CACHE STRING
      "where make install puts the Python package, relative to the prefix")
endif()
file(RELATIVE_PATH GREENML_PY_TO_LIB
     ${CMAKE_INSTALL_PREFIX}/${GREENML_PYTHON_DIR}/greenml
     ${CMAKE_INSTALL_FULL_LIBDIR})
file(WRITE ${CMAKE_BINARY_DIR}/python/_paths.py
     "# Written by make install: where libgreenml.so.0 lies, relative to\n"
     "# this package.\n"
     "import os\n\n"
     "LIBDIR = os.path.normpath(os.path.join(os.path.dirname(__file__), "
     "\"${GREENML_PY_TO_LIB}\"))\n")
install(DIRECTORY ${CMAKE_SOURCE_DIR}/python/greenml
        DESTINATION ${GREENML_PYTHON_DIR} FILES_MATCHING PATTERN "*.py"
        PATTERN "__pycache__" EXCLUDE)
install(FILES ${CMAKE_BINARY_DIR}/python/_paths.py
        DESTINATION ${GREENML_PYTHON_DIR}/greenml)

# Where libgreenml-nn finds the PyTorch engine's worker (src/train/torch.c):
# the package installed beside the library (relative to the library's own
# file, so a moved tree works), the installed package, else this source tree
# (a build that is not installed); GREENML_TORCH_WORKER overrides them all.
file(RELATIVE_PATH GREENML_LIB_TO_PY ${CMAKE_INSTALL_FULL_LIBDIR}
     ${CMAKE_INSTALL_PREFIX}/${GREENML_PYTHON_DIR}/greenml)
target_compile_definitions(greenml_nn_obj PRIVATE
  GM_TORCH_WORKER_FROM_LIBDIR="${GREENML_LIB_TO_PY}/torch_engine.py"
  GM_TORCH_WORKER_INSTALLED="${CMAKE_INSTALL_PREFIX}/${GREENML_PYTHON_DIR}/greenml/torch_engine.py"
  GM_TORCH_WORKER_SOURCE="${CMAKE_SOURCE_DIR}/python/greenml/torch_engine.py")

# CMake generated Testfile for 
# Source directory: /work/main/tests
# Build directory: /work/main/build-cpu/tests
# 
# This file includes the relevant testing commands required for 
# testing this directory and lists subdirectories to be tested as well.
add_test([=[test_carbon]=] "/work/main/build-cpu/tests/test_carbon")
set_tests_properties([=[test_carbon]=] PROPERTIES  ENVIRONMENT "CMOCKA_MESSAGE_OUTPUT=stdout" LABELS "unit" TIMEOUT "300" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;32;add_test;/work/main/tests/CMakeLists.txt;0;")
add_test([=[test_cpu_model]=] "/work/main/build-cpu/tests/test_cpu_model")
set_tests_properties([=[test_cpu_model]=] PROPERTIES  ENVIRONMENT "CMOCKA_MESSAGE_OUTPUT=stdout" LABELS "unit" TIMEOUT "300" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;32;add_test;/work/main/tests/CMakeLists.txt;0;")
add_test([=[test_dram_model]=] "/work/main/build-cpu/tests/test_dram_model")
set_tests_properties([=[test_dram_model]=] PROPERTIES  ENVIRONMENT "CMOCKA_MESSAGE_OUTPUT=stdout" LABELS "unit" TIMEOUT "300" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;32;add_test;/work/main/tests/CMakeLists.txt;0;")
add_test([=[test_nvml]=] "/work/main/build-cpu/tests/test_nvml")
set_tests_properties([=[test_nvml]=] PROPERTIES  ENVIRONMENT "CMOCKA_MESSAGE_OUTPUT=stdout" LABELS "unit" TIMEOUT "300" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;32;add_test;/work/main/tests/CMakeLists.txt;0;")
add_test([=[test_rapl_msr]=] "/work/main/build-cpu/tests/test_rapl_msr")
set_tests_properties([=[test_rapl_msr]=] PROPERTIES  ENVIRONMENT "CMOCKA_MESSAGE_OUTPUT=stdout" LABELS "unit" TIMEOUT "300" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;32;add_test;/work/main/tests/CMakeLists.txt;0;")
add_test([=[test_rapl_perf]=] "/work/main/build-cpu/tests/test_rapl_perf")
set_tests_properties([=[test_rapl_perf]=] PROPERTIES  ENVIRONMENT "CMOCKA_MESSAGE_OUTPUT=stdout" LABELS "unit" TIMEOUT "300" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;32;add_test;/work/main/tests/CMakeLists.txt;0;")
add_test([=[cli_table]=] "bash" "/work/main/tests/cli/run_cases.sh" "/work/main/build-cpu/greenml" "/work/main/tests/cli/cases.txt")
set_tests_properties([=[cli_table]=] PROPERTIES  LABELS "cli" TIMEOUT "300" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;42;add_test;/work/main/tests/CMakeLists.txt;0;")
add_test([=[cli_scenarios]=] "bash" "/work/main/tests/cli/scenarios.sh" "/work/main/build-cpu/greenml" "/work/main/tests" "/work/main/build-cpu/fakes/libnvidia-ml.so.1")
set_tests_properties([=[cli_scenarios]=] PROPERTIES  LABELS "cli" TIMEOUT "300" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;46;add_test;/work/main/tests/CMakeLists.txt;0;")
add_test([=[clang_format]=] "bash" "/work/main/scripts/check-format.sh")
set_tests_properties([=[clang_format]=] PROPERTIES  LABELS "lint" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;50;add_test;/work/main/tests/CMakeLists.txt;0;")

# Empty dependencies file for test_rapl_perf.
# This may be replaced when dependencies are built.

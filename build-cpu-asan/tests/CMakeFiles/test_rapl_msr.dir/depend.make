# Empty dependencies file for test_rapl_msr.
# This may be replaced when dependencies are built.

# Empty dependencies file for test_dram_model.
# This may be replaced when dependencies are built.

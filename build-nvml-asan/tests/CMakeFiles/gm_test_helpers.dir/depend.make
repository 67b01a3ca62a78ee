# Empty dependencies file for gm_test_helpers.
# This may be replaced when dependencies are built.

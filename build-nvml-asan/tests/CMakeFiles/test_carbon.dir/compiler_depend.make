# Empty compiler generated dependencies file for test_carbon.
# This may be replaced when dependencies are built.

# Empty compiler generated dependencies file for test_cpu_model.
# This may be replaced when dependencies are built.

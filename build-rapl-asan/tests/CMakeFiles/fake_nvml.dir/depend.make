# Empty dependencies file for fake_nvml.
# This may be replaced when dependencies are built.

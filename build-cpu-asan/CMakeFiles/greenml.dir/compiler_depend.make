# Empty compiler generated dependencies file for greenml.
# This may be replaced when dependencies are built.

# Empty dependencies file for greenml_static.
# This may be replaced when dependencies are built.

# Empty dependencies file for greenml_obj.
# This may be replaced when dependencies are built.

# Empty dependencies file for greenml_cli.
# This may be replaced when dependencies are built.

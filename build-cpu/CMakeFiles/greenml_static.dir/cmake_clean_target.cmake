file(REMOVE_RECURSE
  "libgreenml_static.a"
)

file(REMOVE_RECURSE
  "libgm_test_helpers.a"
)

/* absent.c: the PostgreSQL store of a greenml built without libpq
 * (GREENML_POSTGRES=OFF, or AUTO where libpq-dev was not installed): its
 * locations are recognised and refused with what to install. */
#include "store/store_ops.h"

static enum gm_status open_absent(struct gm_store *st, const char *location,
                                  bool read_only) {
  (void)location;
  (void)read_only;
  return gm__store_error(
      st, GM_ERR_UNSUPPORTED,
      "this greenml was built without PostgreSQL support: install libpq "
      "(Debian: apt-get install libpq-dev) and build it again with "
      "-DGREENML_POSTGRES=ON");
}

static void close_absent(struct gm_store *st) { st->impl = NULL; }

static int version_absent(struct gm_store *st) {
  (void)st;
  return -1;
}

const struct gm__store_ops gm__store_postgres = {
    .api_version = GM__STORE_API_VERSION,
    .name = "postgres",
    .scheme = "postgresql",
    .alias = "postgres",
    .locations = "postgresql://... (not built in: needs libpq)",
    .paths = false,
    .open = open_absent,
    .close = close_absent,
    .schema_version = version_absent,
};

/* registry.c: the only file that lists the store implementations. The
 * first that takes paths serves a location without a scheme; the others
 * are reached by their scheme ("SCHEME:..."). To add one (PostgreSQL, say):
 * write src/store/<name>/ exporting `const struct gm__store_ops
 * gm__store_<name>` (store_ops.h), list it here and in store_ops.h, and
 * give tests/unit/test_store_contract.c a fixture for it. */
#include "store/store_ops.h"

const struct gm__store_ops *const gm__stores[] = {
    &gm__store_sqlite,
    &gm__store_postgres,
};

const size_t gm__store_count = sizeof(gm__stores) / sizeof(gm__stores[0]);

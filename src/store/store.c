/* store.c: see greenml/store.h. Picks the implementation from the location
 * (registry.c), keeps the read-only mode, and dispatches the run, sample and
 * idle calls through the handle's ops (store_ops.h). The bench calls are in
 * bench.c, the queries in query.c; SQL lives only in src/store/sqlite/. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "store/store_ops.h"

enum gm_status gm__store_error(struct gm_store *st, enum gm_status rc,
                               const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(st->err, sizeof(st->err), fmt, ap);
  va_end(ap);
  return rc;
}

void gm__store_supported(char *buf, size_t size) {
  size_t len = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < gm__store_count && len + 1 < size; i++) {
    int n = snprintf(buf + len, size - len, "%s%s (%s)", i ? ", " : "",
                     gm__stores[i]->name, gm__stores[i]->locations);
    if (n < 0)
      break;
    len += (size_t)n < size - len ? (size_t)n : size - len - 1;
  }
}

/* The length of location's scheme ("postgresql" in "postgresql://h/db"),
 * or 0 when it has none: a scheme is letters, digits, '+', '-' and '.'
 * after a letter, then ':'. */
static size_t scheme_len(const char *location) {
  size_t i = 0;
  if (!((location[0] >= 'a' && location[0] <= 'z') ||
        (location[0] >= 'A' && location[0] <= 'Z')))
    return 0;
  while (location[i] && location[i] != ':') {
    char c = location[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.';
    if (!ok)
      return 0;
    i++;
  }
  return location[i] == ':' ? i : 0;
}

/* The implementation for location and the rest of it after the scheme, or
 * NULL. A registered "SCHEME:" is that implementation's; any other
 * "SCHEME://" is no one's; everything else is a file path, served by the
 * first implementation that takes paths. */
static const struct gm__store_ops *pick(const char *location,
                                        const char **rest) {
  size_t n = scheme_len(location);
  if (n) {
    for (size_t i = 0; i < gm__store_count; i++) {
      const struct gm__store_ops *ops = gm__stores[i];
      if (strlen(ops->scheme) == n && strncmp(ops->scheme, location, n) == 0) {
        *rest = location + n + 1;
        return ops;
      }
    }
    if (strncmp(location + n, "://", 3) == 0)
      return NULL;
  }
  for (size_t i = 0; i < gm__store_count; i++)
    if (gm__stores[i]->paths) {
      *rest = location;
      return gm__stores[i];
    }
  return NULL;
}

bool gm_store_location_file(const char *location, char *path, size_t size) {
  const char *rest = NULL;
  const struct gm__store_ops *ops =
      location && *location ? pick(location, &rest) : NULL;
  if (!ops || !ops->paths || !*rest || strlen(rest) >= size)
    return false;
  gm__strlcpy(path, rest, size);
  return true;
}

static enum gm_status open_store(const char *location, bool read_only,
                                 struct gm_store **out, char *err,
                                 size_t err_size) {
  if (!out)
    return GM_ERR_INVALID_ARG;
  *out = NULL;
  struct gm_store *st = calloc(1, sizeof(*st));
  if (!st)
    return GM_ERR_NO_MEMORY;
  st->read_only = read_only;
  enum gm_status rc;
  const char *rest = NULL;
  if (!location || !*location) {
    rc = gm__store_error(st, GM_ERR_INVALID_ARG, "no store location given");
  } else if (!(st->ops = pick(location, &rest))) {
    char supported[256];
    gm__store_supported(supported, sizeof(supported));
    rc = gm__store_error(st, GM_ERR_UNSUPPORTED,
                         "unsupported store '%s': this greenml stores results "
                         "in %s",
                         location, supported);
  } else {
    rc = GM_OK;
  }
  if (rc == GM_OK && st->ops->api_version != GM__STORE_API_VERSION)
    rc = gm__store_error(st, GM_ERR_UNSUPPORTED,
                         "the %s store was built for store API %d, not %d",
                         st->ops->name, st->ops->api_version,
                         GM__STORE_API_VERSION);
  if (rc == GM_OK)
    rc = st->ops->open(st, rest, read_only);
  if (rc != GM_OK) {
    if (err && err_size)
      gm__strlcpy(err, st->err, err_size);
    if (st->impl)
      st->ops->close(st);
    free(st);
    return rc;
  }
  *out = st;
  return GM_OK;
}

enum gm_status gm_store_open(const char *location, struct gm_store **out,
                             char *err, size_t err_size) {
  return open_store(location, false, out, err, err_size);
}

enum gm_status gm_store_open_readonly(const char *location,
                                      struct gm_store **out, char *err,
                                      size_t err_size) {
  return open_store(location, true, out, err, err_size);
}

void gm_store_close(struct gm_store *st) {
  if (!st)
    return;
  if (st->impl)
    st->ops->close(st);
  free(st);
}

const char *gm_store_last_error(const struct gm_store *st) {
  return st && st->err[0] ? st->err : "no error";
}

int gm_store_schema_version(struct gm_store *st) {
  return st ? st->ops->schema_version(st) : -1;
}

const char *gm_store_kind(const struct gm_store *st) {
  return st ? st->ops->name : "";
}

bool gm_store_is_readonly(const struct gm_store *st) {
  return st && st->read_only;
}

enum gm_status gm__store_writable(struct gm_store *st) {
  if (!st)
    return GM_ERR_INVALID_ARG;
  if (st->read_only)
    return gm__store_error(st, GM_ERR_STATE,
                           "the store was opened read-only: nothing can be "
                           "written through this handle");
  return GM_OK;
}

enum gm_status gm_store_put_host(struct gm_store *st, const struct gm_host *h,
                                 int64_t *host_id) {
  enum gm_status rc = gm__store_writable(st);
  if (rc != GM_OK)
    return rc;
  if (!h || !host_id)
    return GM_ERR_INVALID_ARG;
  return st->ops->put_host(st, h, host_id);
}

enum gm_status
gm_store_begin_run(struct gm_store *st, int64_t host_id,
                   const struct gm_run_meta *meta, size_t n_components,
                   const struct gm_component_info *components, size_t n_metrics,
                   const struct gm_metric_info *metrics, int64_t *run_id) {
  enum gm_status rc = gm__store_writable(st);
  if (rc != GM_OK)
    return rc;
  if (!meta || !run_id || (n_components && !components) ||
      (n_metrics && !metrics))
    return GM_ERR_INVALID_ARG;
  return st->ops->begin_run(st, host_id, meta, n_components, components,
                            n_metrics, metrics, run_id);
}

enum gm_status gm_store_add_sample(struct gm_store *st, int64_t run_id,
                                   const struct gm_sample *s) {
  enum gm_status rc = gm__store_writable(st);
  if (rc != GM_OK)
    return rc;
  if (!s)
    return GM_ERR_INVALID_ARG;
  return st->ops->add_sample(st, run_id, s);
}

enum gm_status gm_store_commit(struct gm_store *st) {
  if (!st)
    return GM_ERR_INVALID_ARG;
  if (st->read_only)
    return GM_OK; /* nothing can be pending */
  return st->ops->commit(st);
}

enum gm_status gm_store_finish_run(struct gm_store *st, int64_t run_id,
                                   const struct gm_run_result *res,
                                   const struct gm_run_record *rec) {
  enum gm_status rc = gm__store_writable(st);
  if (rc != GM_OK)
    return rc;
  if (!res || !rec)
    return GM_ERR_INVALID_ARG;
  return st->ops->finish_run(st, run_id, res, rec);
}

enum gm_status gm_store_save_idle(struct gm_store *st, int64_t host_id,
                                  int64_t run_id,
                                  const struct gm_idle_baseline *b,
                                  int64_t *baseline_id) {
  enum gm_status rc = gm__store_writable(st);
  if (rc != GM_OK)
    return rc;
  if (!b || !baseline_id || (b->n && !b->entries))
    return GM_ERR_INVALID_ARG;
  return st->ops->save_idle(st, host_id, run_id, b, baseline_id);
}

enum gm_status gm_store_load_idle(struct gm_store *st, int64_t host_id,
                                  struct gm_idle_baseline **out) {
  if (!st || !out)
    return GM_ERR_INVALID_ARG;
  *out = NULL;
  return st->ops->load_idle(st, host_id, false, out);
}

enum gm_status gm_store_load_idle_id(struct gm_store *st, int64_t baseline_id,
                                     struct gm_idle_baseline **out) {
  if (!st || !out)
    return GM_ERR_INVALID_ARG;
  *out = NULL;
  return st->ops->load_idle(st, baseline_id, true, out);
}

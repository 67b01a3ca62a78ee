/* store.c: see greenml/store.h. Picks the implementation from the location
 * (registry.c), keeps the read-only mode, and dispatches the run, sample and
 * idle calls through the handle's ops (store_ops.h). The samples are
 * buffered here, for every implementation: written in batches, kept while
 * the store cannot take them (in bounded memory), and accounted per run, so
 * that a run is recorded complete only when all of its samples are stored.
 * The bench calls are in bench.c, the queries in query.c; SQL lives only in
 * src/store/sqlite/. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <math.h>
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
      bool alias = ops->alias && strlen(ops->alias) == n &&
                   strncmp(ops->alias, location, n) == 0;
      if (alias || (strlen(ops->scheme) == n &&
                    strncmp(ops->scheme, location, n) == 0)) {
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
  st->lock_wait_s = GM_STORE_LOCK_WAIT_S;
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

static enum gm_status flush(struct gm_store *st, double wait_s, double budget_s,
                            bool *locked);

static void free_pending(struct gm_store *st) {
  for (size_t i = 0; i < st->n_pending; i++)
    free(st->pending[i]);
  free(st->pending);
  st->pending = NULL;
  st->n_pending = st->cap_pending = st->pending_bytes = 0;
}

void gm_store_close(struct gm_store *st) {
  if (!st)
    return;
  if (st->impl && st->n_pending) {
    bool locked = false;
    flush(st, st->lock_wait_s, 0, &locked);
  }
  if (st->impl)
    st->ops->close(st);
  free_pending(st);
  free(st->tallies);
  free(st);
}

enum gm_status gm_store_set_lock_wait(struct gm_store *st, double seconds) {
  if (!st || !isfinite(seconds) || seconds < 0 || seconds > 86400)
    return GM_ERR_INVALID_ARG;
  st->lock_wait_s = seconds;
  if (st->impl && st->ops->set_lock_wait)
    st->ops->set_lock_wait(st);
  return GM_OK;
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

/* ---- samples ------------------------------------------------------------ */

/* gm_store_commit, on the meter's writer thread, waits a quarter of a
 * second for another process's lock and writes for about half a second at
 * most, so that the meter's queue to it never fills; a backlog (after a
 * lock) is caught up over the next commits, far faster than samples come. */
#define COMMIT_WAIT_S 0.25
#define COMMIT_BUDGET_S 0.5
#define BATCH_SAMPLES 4096 /* samples per write transaction */

static struct gm__store_tally *tally_of(struct gm_store *st, int64_t run_id,
                                        bool create) {
  for (size_t i = 0; i < st->n_tallies; i++)
    if (st->tallies[i].run_id == run_id)
      return &st->tallies[i];
  if (!create)
    return NULL;
  if (st->n_tallies == st->cap_tallies) {
    size_t cap = st->cap_tallies ? 2 * st->cap_tallies : 4;
    struct gm__store_tally *t = realloc(st->tallies, cap * sizeof(*t));
    if (!t)
      return NULL;
    st->tallies = t;
    st->cap_tallies = cap;
  }
  struct gm__store_tally *t = &st->tallies[st->n_tallies++];
  memset(t, 0, sizeof(*t));
  t->run_id = run_id;
  t->pub.stored_until_s = NAN;
  return t;
}

/* The first cause of a loss is the one recorded. */
static void __attribute__((format(printf, 2, 3)))
set_cause(struct gm__store_tally *t, const char *fmt, ...) {
  if (t->pub.cause[0])
    return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(t->pub.cause, sizeof(t->pub.cause), fmt, ap);
  va_end(ap);
}

/* Why the buffered samples are not written yet, for messages. */
static void why_pending(const struct gm_store *st, char *buf, size_t size) {
  if (st->write_err[0])
    snprintf(buf, size, "%s", st->write_err);
  else if (st->locked_since_ns)
    snprintf(buf, size, "the store was locked by another process for %.1f s",
             (double)(gm__now_ns() - st->locked_since_ns) / 1e9);
  else
    snprintf(buf, size, "they were not written in time");
}

enum gm_status gm_store_add_sample(struct gm_store *st, int64_t run_id,
                                   const struct gm_sample *s) {
  enum gm_status rc = gm__store_writable(st);
  if (rc != GM_OK)
    return rc;
  if (!s || (s->n_components && (!s->energy_j || !s->power_w)) ||
      (s->n_metrics && !s->metrics))
    return GM_ERR_INVALID_ARG;
  struct gm__store_tally *t = tally_of(st, run_id, true);
  if (!t)
    return gm__store_error(st, GM_ERR_NO_MEMORY,
                           "out of memory for the samples of run %" PRId64,
                           run_id);
  t->pub.added++;
  if (s->seq > t->next_seq) { /* the meter dropped these */
    uint64_t missing = s->seq - t->next_seq;
    t->pub.lost += missing;
    t->meter_gaps += missing;
    t->gap = true;
    set_cause(t,
              "%" PRIu64 " samples never reached the store (the meter's "
              "queue to its writer was full)",
              missing);
  }
  if (s->seq >= t->next_seq)
    t->next_seq = s->seq + 1;
  size_t nv = 2 * s->n_components + s->n_metrics;
  size_t bytes = sizeof(struct gm__store_sample) + nv * sizeof(double);
  struct gm__store_sample *p = NULL;
  if (st->pending_bytes + bytes <= GM_STORE_PENDING_MAX_BYTES) {
    if (st->n_pending == st->cap_pending) {
      size_t cap = st->cap_pending ? 2 * st->cap_pending : 256;
      struct gm__store_sample **np = realloc(st->pending, cap * sizeof(*np));
      if (np) {
        st->pending = np;
        st->cap_pending = cap;
      }
    }
    if (st->n_pending < st->cap_pending)
      p = malloc(bytes);
  }
  if (!p) {
    char why[256];
    why_pending(st, why, sizeof(why));
    t->pub.lost++;
    t->gap = true;
    set_cause(t,
              "samples were dropped: %s, and the %zu MiB that hold samples "
              "until they are written were full",
              why, GM_STORE_PENDING_MAX_BYTES >> 20);
    return gm__store_error(st, GM_ERR_DATABASE,
                           "sample %" PRIu64 " of run %" PRId64
                           " dropped: %s, and the %zu MiB that hold samples "
                           "until they are written are full",
                           s->seq, run_id, why,
                           GM_STORE_PENDING_MAX_BYTES >> 20);
  }
  double *v = (double *)(p + 1);
  p->run_id = run_id;
  p->prefix = !t->gap;
  p->bytes = bytes;
  p->s = *s;
  if (s->n_components) {
    memcpy(v, s->energy_j, s->n_components * sizeof(double));
    memcpy(v + s->n_components, s->power_w, s->n_components * sizeof(double));
  }
  if (s->n_metrics)
    memcpy(v + 2 * s->n_components, s->metrics, s->n_metrics * sizeof(double));
  p->s.energy_j = v;
  p->s.power_w = v + s->n_components;
  p->s.metrics = v + 2 * s->n_components;
  st->pending[st->n_pending++] = p;
  st->pending_bytes += bytes;
  t->pub.pending++;
  return GM_OK;
}

/* Releases the first n buffered samples: stored, or lost. */
static void release_pending(struct gm_store *st, size_t first, size_t n,
                            bool stored) {
  for (size_t i = first; i < first + n; i++) {
    struct gm__store_sample *p = st->pending[i];
    struct gm__store_tally *t = tally_of(st, p->run_id, false);
    if (t) {
      t->pub.pending--;
      if (stored) {
        t->pub.stored++;
        if (p->prefix)
          t->pub.stored_until_s = (double)p->s.t_ns / 1e9;
      } else {
        t->pub.lost++;
        t->gap = true;
      }
    }
    st->pending_bytes -= p->bytes;
    free(p);
    st->pending[i] = NULL;
  }
}

/* Writes the buffered samples, oldest first, BATCH_SAMPLES a transaction,
 * each waiting up to wait_s for another process's lock (*locked: it gave
 * up waiting), until none is left or, budget_s > 0, that many seconds have
 * gone into it. GM_OK when it stopped for no error; what is not written
 * stays buffered. */
static enum gm_status flush(struct gm_store *st, double wait_s, double budget_s,
                            bool *locked) {
  *locked = false;
  size_t done = 0;
  enum gm_status rc = GM_OK;
  int64_t t0 = gm__now_ns();
  while (done < st->n_pending &&
         (budget_s <= 0 || (double)(gm__now_ns() - t0) < budget_s * 1e9)) {
    size_t n = st->n_pending - done;
    if (n > BATCH_SAMPLES)
      n = BATCH_SAMPLES;
    rc = st->ops->write_samples(st, n, st->pending + done, wait_s, locked);
    if (rc != GM_OK) {
      if (*locked) {
        if (!st->locked_since_ns)
          st->locked_since_ns = gm__now_ns();
      } else {
        gm__strlcpy(st->write_err, st->err, sizeof(st->write_err));
      }
      break;
    }
    st->locked_since_ns = 0;
    st->write_err[0] = '\0';
    release_pending(st, done, n, true);
    done += n;
  }
  memmove(st->pending, st->pending + done,
          (st->n_pending - done) * sizeof(*st->pending));
  st->n_pending -= done;
  return rc;
}

enum gm_status gm_store_commit(struct gm_store *st) {
  if (!st)
    return GM_ERR_INVALID_ARG;
  if (st->read_only || !st->n_pending)
    return GM_OK; /* nothing can be pending */
  bool locked = false;
  enum gm_status rc = flush(st, COMMIT_WAIT_S, COMMIT_BUDGET_S, &locked);
  return locked ? GM_OK : rc; /* kept for the next call */
}

/* Drops the buffered samples of run_id: they will never be written. */
static void drop_run_pending(struct gm_store *st, int64_t run_id) {
  size_t keep = 0;
  for (size_t i = 0; i < st->n_pending; i++) {
    if (st->pending[i]->run_id == run_id)
      release_pending(st, i, 1, false);
    else
      st->pending[keep++] = st->pending[i];
  }
  st->n_pending = keep;
}

enum gm_status gm_store_sample_tally(struct gm_store *st, int64_t run_id,
                                     struct gm_store_sample_tally *out) {
  if (!st || !out)
    return GM_ERR_INVALID_ARG;
  const struct gm__store_tally *t = tally_of(st, run_id, false);
  if (t) {
    *out = t->pub;
  } else {
    memset(out, 0, sizeof(*out));
    out->stored_until_s = NAN;
  }
  return GM_OK;
}

enum gm_status gm_store_finish_run(struct gm_store *st, int64_t run_id,
                                   const struct gm_run_result *res,
                                   const struct gm_run_record *rec) {
  enum gm_status rc = gm__store_writable(st);
  if (rc != GM_OK)
    return rc;
  if (!res || !rec)
    return GM_ERR_INVALID_ARG;
  struct gm__store_tally *t = tally_of(st, run_id, true);
  if (!t)
    return gm__store_error(st, GM_ERR_NO_MEMORY,
                           "out of memory for the samples of run %" PRId64,
                           run_id);
  /* What is still buffered is written now or never. */
  bool locked = false;
  if (t->pub.pending && flush(st, st->lock_wait_s, 0, &locked) != GM_OK) {
    if (locked)
      set_cause(t,
                "the store stayed locked by another process for more than "
                "%g s after the run",
                st->lock_wait_s);
    else
      set_cause(t, "%s", st->write_err);
  }
  if (t->pub.pending)
    drop_run_pending(st, run_id);
  if (rec->dropped_samples > t->meter_gaps) { /* at the end of the run */
    uint64_t missing = rec->dropped_samples - t->meter_gaps;
    t->pub.lost += missing;
    t->meter_gaps = rec->dropped_samples;
    set_cause(t,
              "%" PRIu64 " samples never reached the store (the meter's "
              "queue to its writer was full)",
              missing);
  }
  struct gm__store_loss loss = {.lost = t->pub.lost,
                                .stored_until_s = t->pub.stored_until_s,
                                .cause = t->pub.cause};
  st->last_locked = false;
  rc = st->ops->finish_run(st, run_id, res, rec, t->pub.lost ? &loss : NULL);
  if (rc == GM_OK && !t->pub.lost)
    return GM_OK;
  char why[512] = "", samples[512];
  bool marked = rc == GM_OK;
  if (rc != GM_OK) {
    gm__strlcpy(why, st->err, sizeof(why));
    set_cause(t, "the run's summary could not be stored: %s", why);
    loss.cause = t->pub.cause;
    /* a store that stayed locked stays so: not waited for twice */
    marked = !st->last_locked &&
             st->ops->mark_incomplete(st, run_id, &loss) == GM_OK;
  }
  if (!t->pub.lost)
    gm__fmt(samples, sizeof(samples), "all its %" PRIu64 " samples are stored",
            t->pub.stored);
  else if (isnan(t->pub.stored_until_s))
    gm__fmt(samples, sizeof(samples),
            "%" PRIu64 " of %" PRIu64
            " samples could not be stored (%s); none is stored",
            t->pub.lost, t->pub.stored + t->pub.lost, t->pub.cause);
  else
    gm__fmt(samples, sizeof(samples),
            "%" PRIu64 " of %" PRIu64
            " samples could not be stored (%s); every sample up to %.3f s is "
            "stored",
            t->pub.lost, t->pub.stored + t->pub.lost, t->pub.cause,
            t->pub.stored_until_s);
  return gm__store_error(st, GM_ERR_DATABASE, "%s%srun %" PRId64 " %s: %s", why,
                         why[0] ? "; " : "", run_id,
                         marked ? "is recorded incomplete"
                                : "stays incomplete, without a cause recorded",
                         samples);
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

/* ---- merging ------------------------------------------------------------ */

void gm_store_merge_kinds(const struct gm_store *st, bool *from, bool *into) {
  if (from)
    *from = st && st->ops->merge_source;
  if (into)
    *into = st && st->ops->merge_sink;
}

enum gm_status gm_store_merge(struct gm_store *out, const char *in_location,
                              struct gm_store_merge_result *res) {
  enum gm_status rc = gm__store_writable(out);
  if (rc != GM_OK)
    return rc;
  if (!in_location || !res)
    return GM_ERR_INVALID_ARG;
  memset(res, 0, sizeof(*res));
  if (!out->ops->merge_sink)
    return gm__store_error(out, GM_ERR_UNSUPPORTED,
                           "the %s store cannot be merged into",
                           out->ops->name);
  /* the samples buffered on out go first: the merge is a transaction of
   * its own */
  bool locked = false;
  if (out->n_pending &&
      (rc = flush(out, out->lock_wait_s, 0, &locked)) != GM_OK)
    return rc;
  struct gm_store *in = NULL;
  char err[512] = "";
  rc = open_store(in_location, true, &in, err, sizeof(err));
  if (rc != GM_OK)
    return gm__store_error(out, rc, "%s", err);
  if (!in->ops->merge_source)
    rc = gm__store_error(out, GM_ERR_UNSUPPORTED,
                         "cannot merge from a %s store: the inputs of a merge "
                         "are SQLite files",
                         in->ops->name);
  else
    rc = gm__store_merge(out, in, res);
  gm_store_close(in);
  if (rc != GM_OK)
    memset(res, 0, sizeof(*res));
  return rc;
}

/* run.c: gm_study_run: the bench (new or resumed), the idle baseline, the
 * models, the ETA, the grid of cells and the bench's final status
 * (study.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "base/json_read.h"
#include "base/util.h"
#include "greenml/host.h"
#include "greenml/version.h"
#include "study/study_internal.h"

enum gm_status gm__study_fail(struct gm__study *s, enum gm_status rc,
                              const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(s->err, sizeof(s->err), fmt, ap);
  va_end(ap);
  return rc;
}

void gm__study_say(struct gm__study *s, enum gm_study_message_kind kind,
                   const char *fmt, ...) {
  if (!s->obs || !s->obs->message)
    return;
  char text[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(text, sizeof(text), fmt, ap);
  va_end(ap);
  s->obs->message(s->obs->ctx, kind, text);
}

bool gm__study_stopping(struct gm__study *s) {
  if (!s->stopped && s->obs && s->obs->stop && s->obs->stop(s->obs->ctx))
    s->stopped = true;
  return s->stopped;
}

void gm__study_gap(struct gm__study *s, int64_t dur_ns) {
  int64_t end = gm__now_ns() + dur_ns;
  while (!gm__study_stopping(s)) {
    int64_t left = end - gm__now_ns();
    if (left <= 0)
      break;
    if (left > 100 * INT64_C(1000000))
      left = 100 * INT64_C(1000000);
    struct timespec ts = {left / GM_NS_PER_S, left % GM_NS_PER_S};
    nanosleep(&ts, NULL);
  }
}

double gm__study_eta_s(const struct gm__study *s) {
  double rt = s->rate_train, ri = s->rate_infer;
  if (!(rt > 0) && !(ri > 0))
    return NAN;
  /* before the first of a kind is seen: training costs about 3x inference
   * per sample */
  if (!(rt > 0))
    rt = 3 * ri;
  if (!(ri > 0))
    ri = rt / 3;
  return s->left_train * rt + s->left_infer * ri;
}

static bool stop_cb(void *ctx) { return gm__study_stopping(ctx); }

/* Whether the study stored as stored_json (a bench's config_json) is the
 * one cfg describes: every member gm__study_config_json writes but the
 * front end's flags ("argv", which may be spelled or ordered otherwise) has
 * the same JSON text; a member an older greenml did not store is not
 * compared. why: the first difference. */
static bool same_study(const char *stored_json,
                       const struct gm_study_config *cfg, char *why,
                       size_t size) {
  struct gm_study_config now_cfg = *cfg;
  now_cfg.n_flags = 0;
  char *now_json = gm__study_config_json(&now_cfg);
  struct gm__json_value *now = NULL, *was = NULL;
  bool same = true;
  if (!now_json || gm__json_parse(now_json, &now) != GM_OK || !stored_json ||
      gm__json_parse(stored_json, &was) != GM_OK ||
      now->type != GM__JSON_OBJECT || was->type != GM__JSON_OBJECT) {
    gm__fmt(why, size, "its stored configuration cannot be read");
    same = false;
  }
  for (size_t i = 0; same && i < now->n; i++) {
    const char *key = now->keys[i];
    const struct gm__json_value *w = gm__json_get(was, key);
    if (strcmp(key, "argv") == 0 || !w)
      continue;
    char a[256], b[256];
    gm__json_text(w, a, sizeof(a));
    gm__json_text(&now->items[i], b, sizeof(b));
    if (strcmp(a, b) != 0) {
      gm__fmt(why, size, "%s: %s, not %s", key, a, b);
      same = false;
    }
  }
  gm__json_free(now);
  gm__json_free(was);
  free(now_json);
  return same;
}

/* The bench of that name into s (joined), when it exists and holds the
 * same study (*other set when it exists with another). */
static bool join_existing(struct gm__study *s, bool *other) {
  struct gm_bench_info bi;
  *other = false;
  if (gm_store_bench_find(s->st, s->cfg->name, &bi) != GM_OK)
    return false;
  char why[600];
  if (!same_study(bi.config_json, s->cfg, why, sizeof(why))) {
    gm__study_fail(s, GM_ERR_INVALID_ARG,
                   "bench '%s' was started with another study (%s); its "
                   "cells must all be run with the same grid, protocol and "
                   "measurement",
                   s->cfg->name, why);
    gm_bench_info_clear(&bi);
    *other = true;
    return false;
  }
  s->bench_id = bi.id;
  s->bench_idle_id = bi.idle_baseline_id;
  s->joined = true;
  gm_bench_info_clear(&bi);
  return true;
}

/* A new bench: the host, the configuration, the versions. With join (one
 * cell of a job array), an existing bench of that name is joined instead,
 * also when another task created it meanwhile; the host recorded is this
 * one either way (the cell's runs belong to it). */
static enum gm_status create_bench(struct gm__study *s, bool join) {
  const struct gm_study_config *cfg = s->cfg;
  struct gm_bench_info bi;
  bool other = false;
  if (join) {
    join_existing(s, &other);
    if (other)
      return GM_ERR_INVALID_ARG;
  } else if (gm_store_bench_find(s->st, cfg->name, &bi) == GM_OK) {
    gm__study_fail(s, GM_ERR_STATE, "a bench named '%s' exists (%s)", cfg->name,
                   bi.status);
    gm_bench_info_clear(&bi);
    return GM_ERR_STATE;
  }
  struct gm_meter_config mc = cfg->meter;
  mc.on_sample = NULL;
  mc.on_flush = NULL;
  struct gm_meter *probe = NULL;
  char *cfg_json = NULL, *host_json = NULL;
  char versions[1024];
  enum gm_status rc = gm_meter_create(&mc, &probe);
  if (rc != GM_OK)
    return gm__study_fail(s, rc, "cannot create the meter");
  struct gm_host h;
  gm_host_detect(probe, &h);
  if ((rc = gm_store_put_host(s->st, &h, &s->host_id)) != GM_OK) {
    gm__study_fail(s, rc, "%s", gm_store_last_error(s->st));
    goto out;
  }
  if (s->joined)
    goto out;
  cfg_json = gm__study_config_json(cfg);
  host_json = gm__study_host_json(probe, &s->threads);
  if (!cfg_json || !host_json) {
    rc = gm__study_fail(s, GM_ERR_NO_MEMORY, "out of memory");
    goto out;
  }
  if (cfg->versions_json)
    gm__fmt(versions, sizeof(versions), "%s", cfg->versions_json);
  else
    gm__fmt(versions, sizeof(versions), "{\"greenml\":\"%s\"}",
            GM_VERSION_STRING);
  struct gm_bench_meta meta = {.name = cfg->name,
                               .config_json = cfg_json,
                               .versions_json = versions,
                               .host_json = host_json};
  if ((rc = gm_store_bench_create(s->st, s->host_id, &meta, &s->bench_id)) !=
      GM_OK) {
    /* another task of the array may have created it first */
    if (join && join_existing(s, &other))
      rc = GM_OK;
    else if (other)
      rc = GM_ERR_INVALID_ARG;
    else
      gm__study_fail(s, rc, "%s", gm_store_last_error(s->st));
  }
out:
  free(cfg_json);
  free(host_json);
  gm_meter_destroy(probe);
  return rc;
}

/* The bench to resume, and its own baseline (not a newer one of the
 * host). */
static enum gm_status find_bench(struct gm__study *s) {
  struct gm_bench_info bi;
  enum gm_status rc = gm_store_bench_find(s->st, s->cfg->name, &bi);
  if (rc == GM_ERR_NOT_FOUND)
    return gm__study_fail(s, rc, "no bench '%s' in the database", s->cfg->name);
  if (rc != GM_OK)
    return gm__study_fail(s, rc, "%s", gm_store_last_error(s->st));
  if (strcmp(bi.status, "complete") == 0) {
    gm__study_fail(s, GM_ERR_STATE, "bench '%s' is complete; nothing to do",
                   bi.name);
    gm_bench_info_clear(&bi);
    return GM_ERR_STATE;
  }
  s->bench_id = bi.id;
  s->host_id = bi.host_id;
  if (bi.idle_baseline_id > 0 &&
      gm_store_load_idle_id(s->st, bi.idle_baseline_id, &s->idle) != GM_OK)
    s->idle = NULL;
  gm_bench_info_clear(&bi);
  return GM_OK;
}

/* Measures and stores the idle baseline of a new bench; with link, also
 * makes it the bench's. */
static enum gm_status measure_idle(struct gm__study *s, bool link) {
  const struct gm_study_config *cfg = s->cfg;
  gm__study_say(s, GM_STUDY_INFO,
                "measuring idle power for %.1f s; keep the machine quiet",
                (double)cfg->idle_ns / 1e9);
  char err[512] = "";
  enum gm_status rc = gm_idle_measure(&cfg->meter, cfg->idle_ns, stop_cb, s,
                                      &s->idle, err, sizeof(err));
  if (rc == GM_ERR_INTERRUPTED)
    return GM_OK; /* the stop request is seen by the caller */
  if (rc != GM_OK)
    return gm__study_fail(s, rc, "%s", err);
  if (s->idle->busy)
    gm__study_say(s, GM_STUDY_WARNING,
                  "the CPU was %.0f %% busy during the idle measurement "
                  "(threshold %.0f %%): the baseline is stored flagged as "
                  "busy and net energies from it are too low; stop other "
                  "work and run the bench again for a trustworthy net",
                  s->idle->cpu_util_pct, GM_IDLE_BUSY_PCT);
  int64_t id = 0;
  rc = gm_store_save_idle(s->st, s->host_id, 0, s->idle, &id);
  if (rc == GM_OK) {
    s->idle->id = id;
    if (link)
      rc = gm_store_bench_set_idle(s->st, s->bench_id, id);
  }
  if (rc != GM_OK)
    return gm__study_fail(s, rc, "%s", gm_store_last_error(s->st));
  return GM_OK;
}

/* One cell's idle baseline (study.h, idle_lock): under an exclusive lock
 * of the node-local file, the baseline whose id it holds, or one measured
 * now whose id it then holds. The bench links the first baseline stored
 * for it. *measured: by this call. */
static enum gm_status node_idle(struct gm__study *s, bool *measured) {
  const struct gm_study_config *cfg = s->cfg;
  *measured = false;
  if (!cfg->idle_lock) {
    enum gm_status rc = measure_idle(s, s->bench_idle_id == 0);
    *measured = rc == GM_OK && s->idle;
    return rc;
  }
  int fd = open(cfg->idle_lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return gm__study_fail(s, GM_ERR_IO, "cannot open the idle lock '%s': %s",
                          cfg->idle_lock, strerror(errno));
  int r;
  while ((r = flock(fd, LOCK_EX)) != 0 && errno == EINTR && !s->stopped)
    gm__study_stopping(s);
  if (r != 0) {
    close(fd);
    return s->stopped ? GM_OK
                      : gm__study_fail(s, GM_ERR_IO, "cannot lock '%s': %s",
                                       cfg->idle_lock, strerror(errno));
  }
  char buf[32] = "";
  ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
  long long id = 0;
  if (n > 0) {
    buf[n] = '\0';
    id = strtoll(buf, NULL, 10);
  }
  enum gm_status rc = GM_OK;
  if (id > 0 && gm_store_load_idle_id(s->st, id, &s->idle) == GM_OK) {
    gm__study_say(s, GM_STUDY_INFO,
                  "idle baseline %lld of this node (measured by an earlier "
                  "task at %s)",
                  id, s->idle->measured_at);
  } else {
    s->idle = NULL;
    rc = measure_idle(s, s->bench_idle_id == 0);
    if (rc == GM_OK && s->idle) {
      *measured = true;
      int len = snprintf(buf, sizeof(buf), "%lld\n", (long long)s->idle->id);
      if (ftruncate(fd, 0) != 0 || pwrite(fd, buf, (size_t)len, 0) != len)
        gm__study_say(s, GM_STUDY_WARNING,
                      "cannot record the idle baseline in '%s': %s; the "
                      "node's next task measures its own",
                      cfg->idle_lock, strerror(errno));
    }
  }
  close(fd); /* releases the lock */
  return rc;
}

/* The zoo's spelling of a model name. */
static const char *zoo_name(const char *model) {
  for (size_t k = 0; k < gm_nn_zoo_count(); k++)
    if (strcasecmp(model, gm_nn_zoo_name(k)) == 0)
      return gm_nn_zoo_name(k);
  return model;
}

size_t gm__study_n_precisions(const struct gm_study_config *cfg) {
  return cfg->n_precisions && cfg->precisions ? cfg->n_precisions : 1;
}

enum gm_nn_precision gm__study_precision(const struct gm_study_config *cfg,
                                         size_t i) {
  return cfg->n_precisions && cfg->precisions ? cfg->precisions[i] : GM_NN_FP32;
}

/* Whether the cell (model, batch, precision) has every row of the study:
 * each of its variants' epochs and passes, or its profile rows. */
static bool cell_done(struct gm__study *s, const char *model, int batch,
                      enum gm_nn_precision prec) {
  const struct gm_study_config *cfg = s->cfg;
  bool profile_only = cfg->profile_epochs > 0 && !cfg->verify;
  int first = profile_only ? 0 : 1, last = profile_only ? 0 : cfg->epochs;
  const char *kinds[2] = {profile_only ? "profile-train" : "train",
                          profile_only ? "profile-infer" : "infer"};
  for (int v = 0; v < 2; v++) {
    bool metered = v == 1;
    if (metered ? cfg->mode == GM_STUDY_UNMETERED
                : cfg->mode == GM_STUDY_METERED)
      continue;
    for (int e = first; e <= last; e++)
      for (int k = 0; k < 2; k++) {
        bool have = false;
        if (gm_store_bench_has_phase(s->st, s->bench_id, zoo_name(model), batch,
                                     gm_nn_precision_name(prec), kinds[k], e,
                                     metered, &have) != GM_OK ||
            !have)
          return false;
      }
  }
  return true;
}

/* Whether every cell of the grid has every row. */
static bool grid_done(struct gm__study *s) {
  const struct gm_study_config *cfg = s->cfg;
  const size_t np = gm__study_n_precisions(cfg);
  for (size_t i = 0; i < cfg->n_models; i++)
    for (size_t k = 0; k < cfg->n_batch_sizes; k++)
      for (size_t q = 0; q < np; q++)
        if (!cell_done(s, cfg->models[i], cfg->batch_sizes[k],
                       gm__study_precision(cfg, q)))
          return false;
  return true;
}

/* Records the models and the work the grid holds, for the ETA. */
static enum gm_status plan(struct gm__study *s) {
  const struct gm_study_config *cfg = s->cfg;
  size_t n = gm_cifar10_count(cfg->train);
  int variants = cfg->mode == GM_STUDY_OVERHEAD ? 2 : 1;
  const size_t np = gm__study_n_precisions(cfg);
  s->n_cells = (cfg->one_cell ? 1 : cfg->n_models * cfg->n_batch_sizes * np) *
               (size_t)variants;
  for (size_t i = 0; i < cfg->n_models; i++) {
    struct gm_nn_net *net = NULL;
    struct gm_nn_stats ns;
    enum gm_status rc = gm_nn_zoo_build(cfg->models[i], &net);
    if (rc == GM_OK)
      rc = gm_nn_net_stats(net, &ns);
    gm_nn_net_destroy(net);
    if (rc != GM_OK)
      return gm__study_fail(s, rc, "cannot build %s", cfg->models[i]);
    struct gm_bench_model bm = {.model = gm_nn_zoo_name(0),
                                .params = (int64_t)ns.params,
                                .trainable_params =
                                    (int64_t)ns.trainable_params,
                                .param_bytes = (int64_t)ns.param_bytes,
                                .buffer_bytes = (int64_t)ns.buffer_bytes,
                                .size_bytes = (int64_t)ns.size_bytes,
                                .macs = (int64_t)ns.macs,
                                .macs_per_param = ns.macs_per_param};
    for (size_t k = 0; k < gm_nn_zoo_count(); k++)
      if (strcasecmp(cfg->models[i], gm_nn_zoo_name(k)) == 0)
        bm.model = gm_nn_zoo_name(k);
    if ((rc = gm_store_bench_put_model(s->st, s->bench_id, &bm)) != GM_OK)
      return gm__study_fail(s, rc, "%s", gm_store_last_error(s->st));
    struct gm_train_config tc = gm_train_config_default();
    tc.limit_batches = cfg->limit_batches;
    for (size_t k = 0; k < cfg->n_batch_sizes * np; k++) {
      if (cfg->one_cell && i * cfg->n_batch_sizes * np + k != cfg->cell)
        continue; /* only this cell's work is left to this run */
      tc.batch_size = cfg->batch_sizes[k / np];
      long spe = gm_train_epoch_steps(&tc, n);
      double es = fmin((double)n, (double)spe * tc.batch_size);
      double mac = (double)ns.macs * variants;
      double samples = (double)cfg->infer_samples;
      if (cfg->profile_epochs > 0 && !cfg->verify) {
        s->left_train += es * cfg->profile_epochs * mac;
        s->left_infer += fmin(1.0, cfg->profile_epochs) * samples * mac;
      } else {
        s->left_train += es * cfg->epochs * mac;
        s->left_infer += samples * cfg->epochs * mac;
      }
    }
  }
  return GM_OK;
}

/* On resume: the work already recorded is not left to do. */
static void discount_done(struct gm__study *s) {
  struct gm_bench_work *w = NULL;
  size_t n = 0;
  if (gm_store_bench_work(s->st, s->bench_id, &w, &n) != GM_OK)
    return;
  for (size_t i = 0; i < n; i++) {
    if (strstr(w[i].kind, "train"))
      s->left_train = fmax(0, s->left_train - w[i].sample_macs);
    else
      s->left_infer = fmax(0, s->left_infer - w[i].sample_macs);
  }
  free(w);
}

static enum gm_status run_grid(struct gm__study *s) {
  const struct gm_study_config *cfg = s->cfg;
  enum gm_status rc = GM_OK;
  const size_t np = gm__study_n_precisions(cfg);
  for (size_t i = 0; i < cfg->n_models; i++)
    for (size_t k = 0; k < cfg->n_batch_sizes * np; k++) {
      const char *model = cfg->models[i];
      int batch = cfg->batch_sizes[k / np];
      enum gm_nn_precision prec = gm__study_precision(cfg, k % np);
      const size_t cell = i * cfg->n_batch_sizes * np + k;
      if (cfg->one_cell && cell != cfg->cell)
        continue;
      if (cfg->mode == GM_STUDY_OVERHEAD &&
          (rc = gm__study_warm_up(s, model, batch, prec)) != GM_OK)
        return rc;
      if (s->stopped)
        return GM_OK;
      /* an overhead pair alternates its order from cell to cell, so that
       * whatever favours the first or the second run cancels out */
      bool metered_first = cfg->mode == GM_STUDY_OVERHEAD && cell % 2;
      for (int v = 0; v < 2; v++) {
        bool metered = (v == 0) == metered_first;
        if (metered ? cfg->mode == GM_STUDY_UNMETERED
                    : cfg->mode == GM_STUDY_METERED)
          continue;
        s->cell_no++;
        if ((rc = gm__study_run_cell(s, model, batch, prec, metered)) !=
                GM_OK ||
            s->stopped)
          return rc;
      }
    }
  return GM_OK;
}

enum gm_status gm_study_run(const struct gm_study_config *cfg,
                            struct gm_store *st,
                            const struct gm_study_observer *obs,
                            struct gm_study_result *out, char *err,
                            size_t err_size) {
  if (out)
    memset(out, 0, sizeof(*out));
  struct gm__study *s = calloc(1, sizeof(*s));
  if (!s)
    return GM_ERR_NO_MEMORY;
  s->cfg = cfg;
  s->obs = obs;
  s->st = st;
  pthread_mutex_init(&s->st_mu, NULL);
  enum gm_status rc = gm_study_config_check(cfg, s->err, sizeof(s->err));
  if (rc != GM_OK)
    goto out;
  if (cfg->threads > 0) {
    s->threads = (struct gm_nn_threads){.threads = cfg->threads, .busy = -1};
    gm__fmt(s->threads.detail, sizeof(s->threads.detail), "configured");
  } else {
    (void)gm_nn_threads_choose(cfg->meter.procfs_root, &s->threads);
  }
  if (!st || !cfg->train || !cfg->test || !cfg->checkpoint_dir ||
      gm_cifar10_count(cfg->train) == 0 || gm_cifar10_count(cfg->test) == 0) {
    rc = gm__study_fail(s, GM_ERR_INVALID_ARG,
                        "a study needs a store, both data splits and a "
                        "checkpoint directory");
    goto out;
  }
  gm__study_say(s, GM_STUDY_INFO, "compute threads: %d (%s)",
                s->threads.threads, s->threads.detail);
  rc = cfg->one_cell ? create_bench(s, true)
       : cfg->resume ? find_bench(s)
                     : create_bench(s, false);
  if (rc != GM_OK)
    goto out;
  if (cfg->one_cell) {
    const size_t np = gm__study_n_precisions(cfg);
    const size_t nb = cfg->n_batch_sizes * np;
    if (cell_done(s, cfg->models[cfg->cell / nb],
                  cfg->batch_sizes[cfg->cell % nb / np],
                  gm__study_precision(cfg, cfg->cell % np))) {
      if (out)
        out->cell_complete = true;
      goto out; /* the bench's status is not this run's to change */
    }
  }
  bool measured = false;
  if (cfg->one_cell && cfg->mode != GM_STUDY_UNMETERED && cfg->idle_ns > 0) {
    if ((rc = node_idle(s, &measured)) != GM_OK || s->stopped)
      goto done;
  } else if (!cfg->resume && !cfg->one_cell &&
             cfg->mode != GM_STUDY_UNMETERED && cfg->idle_ns > 0) {
    if ((rc = measure_idle(s, true)) != GM_OK || s->stopped)
      goto done;
    measured = true;
  }
  if ((rc = plan(s)) != GM_OK)
    goto done;
  if (cfg->resume && !cfg->one_cell)
    discount_done(s);
  if (obs && obs->begin) {
    struct gm_study_begin b = {.name = cfg->name,
                               .bench_id = s->bench_id,
                               .resumed =
                                   cfg->one_cell ? s->joined : cfg->resume,
                               .idle = s->idle,
                               .idle_measured = measured,
                               .n_cells = s->n_cells};
    obs->begin(obs->ctx, &b);
  }
  rc = run_grid(s);
done:
  /* one cell of several: the bench is complete once every cell is */
  if (cfg->one_cell && rc == GM_OK && !s->stopped) {
    if (grid_done(s))
      gm_store_bench_set_status(st, s->bench_id, "complete");
  } else {
    gm_store_bench_set_status(st, s->bench_id,
                              rc != GM_OK  ? "failed"
                              : s->stopped ? "interrupted"
                                           : "complete");
  }
out:
  if (out) {
    out->bench_id = s->bench_id;
    out->interrupted = rc == GM_OK && s->stopped;
  }
  if (rc != GM_OK && err && err_size)
    gm__fmt(err, err_size, "%s", s->err[0] ? s->err : gm_status_str(rc));
  gm_idle_baseline_free(s->idle);
  pthread_mutex_destroy(&s->st_mu);
  free(s);
  return rc;
}

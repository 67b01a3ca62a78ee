/* session.c: one measured run, from the meter to the stored record
 * (session.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/util.h"
#include "greenml/carbon.h"
#include "greenml/host.h"
#include "greenml/session.h"
#include "session_internal.h"

struct gm_session_config gm_session_config_default(void) {
  struct gm_session_config c;
  memset(&c, 0, sizeof(c));
  c.meter = gm_meter_config_default();
  c.idle = GM_SESSION_IDLE_AUTO;
  c.carbon_g_per_kwh = NAN;
  c.pue = 1.0;
  return c;
}

static void set_error(struct gm_session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void set_error(struct gm_session *s, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(s->error, sizeof(s->error), fmt, ap);
  va_end(ap);
}

static char *dup_or(const char *s, const char *fallback) {
  return strdup(s ? s : fallback);
}

/* The store first hands the sample to the database buffer, then to the
 * caller's callback. */
static void on_sample(void *ctx, const struct gm_sample *smp) {
  struct gm_session *s = ctx;
  if (s->st && s->run_id > 0)
    gm_store_add_sample(s->st, s->run_id, smp);
  if (s->user_on_sample)
    s->user_on_sample(s->user_ctx, smp);
}

static void on_flush(void *ctx) {
  struct gm_session *s = ctx;
  if (s->st)
    gm_store_commit(s->st);
  if (s->user_on_flush)
    s->user_on_flush(s->user_ctx);
}

bool gm_store_default_location(char *buf, size_t size) {
  const char *xdg = getenv("XDG_DATA_HOME");
  const char *home = getenv("HOME");
  if (xdg && *xdg)
    return gm__fmt(buf, size, "%s/greenml/greenml.db", xdg);
  if (home && *home)
    return gm__fmt(buf, size, "%s/.local/share/greenml/greenml.db", home);
  return gm__fmt(buf, size, "greenml.db");
}

/* mkdir -p of dir: 0, else errno. */
static int mkdirs(const char *dir) {
  char tmp[1024];
  if (strlen(dir) >= sizeof(tmp))
    return ENAMETOOLONG;
  strcpy(tmp, dir);
  for (char *p = tmp + 1; *p; p++) {
    if (*p != '/')
      continue;
    *p = '\0';
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
      return errno;
    *p = '/';
  }
  if (mkdir(tmp, 0755) == 0)
    return 0;
  if (errno != EEXIST)
    return errno;
  struct stat st;
  if (stat(tmp, &st) != 0)
    return errno;
  return S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
}

enum gm_status gm_store_make_dirs(const char *location, char *err,
                                  size_t err_size) {
  if (err && err_size)
    err[0] = '\0';
  if (!location)
    return GM_ERR_INVALID_ARG;
  char dir[1024];
  if (!gm_store_location_file(location, dir, sizeof(dir)))
    return GM_OK; /* not a file: nothing to make */
  char *slash = strrchr(dir, '/');
  if (!slash || slash == dir)
    return GM_OK;
  *slash = '\0';
  int e = mkdirs(dir);
  if (!e)
    return GM_OK;
  if (err)
    snprintf(err, err_size, "cannot create the database directory '%s': %s",
             dir, strerror(e));
  return gm__status_from_errno(e);
}

enum gm_status gm_session_open(const struct gm_session_config *cfg,
                               struct gm_session **out, char *err,
                               size_t err_size) {
  if (err && err_size)
    err[0] = '\0';
  if (!out)
    return GM_ERR_INVALID_ARG;
  *out = NULL;
  if (!cfg) {
    if (err)
      snprintf(err, err_size, "no session configuration given");
    return GM_ERR_INVALID_ARG;
  }
  if (cfg->store && cfg->db) {
    if (err)
      snprintf(err, err_size,
               "a session takes a store or a location, not "
               "both");
    return GM_ERR_INVALID_ARG;
  }
  if (cfg->idle != GM_SESSION_IDLE_AUTO && cfg->idle != GM_SESSION_IDLE_NONE) {
    if (err)
      snprintf(err, err_size, "unknown idle mode %d", (int)cfg->idle);
    return GM_ERR_INVALID_ARG;
  }
  struct gm_session *s = calloc(1, sizeof(*s));
  if (!s)
    return GM_ERR_NO_MEMORY;
  s->idle = cfg->idle;
  s->kind = dup_or(cfg->kind, "measure");
  s->command = dup_or(cfg->command, "");
  s->tags_json = cfg->tags_json ? strdup(cfg->tags_json) : NULL;
  s->carbon_source = dup_or(cfg->carbon_source, "");
  s->intensity = cfg->carbon_g_per_kwh;
  s->pue = cfg->pue > 0 && isfinite(cfg->pue) ? cfg->pue : 1.0;
  s->command_cpu_s = NAN;
  s->process_cpu_s = NAN;
  s->interval_s = (double)(cfg->meter.interval_ns > 0
                               ? cfg->meter.interval_ns
                               : gm_meter_config_default().interval_ns) /
                  1e9;
  if (!s->kind || !s->command || !s->carbon_source ||
      (cfg->tags_json && !s->tags_json)) {
    gm_session_close(s);
    return GM_ERR_NO_MEMORY;
  }
  gm_json_init(&s->doc);

  enum gm_status rc = GM_OK;
  if (cfg->db) {
    rc = gm_store_make_dirs(cfg->db, err, err_size);
    if (rc == GM_OK)
      rc = gm_store_open(cfg->db, &s->own_st, err, err_size);
    if (rc != GM_OK) {
      gm_session_close(s);
      return rc;
    }
    s->st = s->own_st;
  } else {
    s->st = cfg->store;
  }

  struct gm_meter_config mc = cfg->meter;
  s->user_on_sample = mc.on_sample;
  s->user_on_flush = mc.on_flush;
  s->user_ctx = mc.callback_ctx;
  if (s->st || mc.on_sample || mc.on_flush) {
    mc.on_sample = on_sample;
    mc.on_flush = on_flush;
    mc.callback_ctx = s;
  }
  char why[512];
  rc = gm_meter_create_err(&mc, &s->m, why, sizeof(why));
  if (rc != GM_OK) {
    if (err)
      snprintf(err, err_size, "cannot create the meter: %s", why);
    gm_session_close(s);
    return rc;
  }
  if (s->st) {
    struct gm_host h;
    gm_host_detect(s->m, &h);
    rc = gm_store_put_host(s->st, &h, &s->host_id);
    if (rc != GM_OK) {
      if (err)
        snprintf(err, err_size, "%s", gm_store_last_error(s->st));
      gm_session_close(s);
      return rc;
    }
  }
  *out = s;
  return GM_OK;
}

void gm_session_close(struct gm_session *s) {
  if (!s)
    return;
  if (s->m)
    gm_meter_stop(s->m);
  gm_meter_destroy(s->m);
  gm_store_close(s->own_st);
  gm_idle_baseline_free(s->own_base);
  gm_run_record_free(s->rec);
  gm_json_release(&s->doc);
  free(s->kind);
  free(s->command);
  free(s->tags_json);
  free(s->carbon_source);
  free(s);
}

struct gm_meter *gm_session_meter(struct gm_session *s) {
  return s ? s->m : NULL;
}
struct gm_store *gm_session_store(struct gm_session *s) {
  return s ? s->st : NULL;
}
int64_t gm_session_host_id(const struct gm_session *s) {
  return s ? s->host_id : 0;
}
int64_t gm_session_run_id(const struct gm_session *s) {
  return s ? s->run_id : 0;
}

enum gm_status gm_session_set_baseline(struct gm_session *s,
                                       const struct gm_idle_baseline *b) {
  if (!s)
    return GM_ERR_INVALID_ARG;
  if (s->started) {
    set_error(s, "the baseline is chosen before the session starts");
    return GM_ERR_STATE;
  }
  s->base = b;
  s->base_given = true;
  return GM_OK;
}

const struct gm_idle_baseline *gm_session_baseline(const struct gm_session *s) {
  return s ? s->base : NULL;
}

const char *gm_session_idle_note(const struct gm_session *s) {
  return s ? s->idle_note : "";
}

static void choose_baseline(struct gm_session *s) {
  if (s->base_given || s->idle != GM_SESSION_IDLE_AUTO)
    return;
  if (!s->st) {
    snprintf(s->idle_note, sizeof(s->idle_note),
             "no store: no stored idle baseline; measure one first "
             "(gm_idle_measure, 'greenml idle') and store the runs");
    return;
  }
  if (gm_store_load_idle(s->st, s->host_id, &s->own_base) == GM_OK)
    s->base = s->own_base;
  else
    snprintf(s->idle_note, sizeof(s->idle_note),
             "no idle baseline for this host, net energy not computed: "
             "run 'greenml idle' once, or pass --idle 30s");
}

enum gm_status gm_session_start(struct gm_session *s) {
  if (!s)
    return GM_ERR_INVALID_ARG;
  if (s->started) {
    set_error(s, "the session has already started");
    return GM_ERR_STATE;
  }
  choose_baseline(s);
  if (s->st) {
    struct gm_run_meta meta = {.kind = s->kind,
                               .interval_s = s->interval_s,
                               .command = s->command,
                               .tags_json = s->tags_json,
                               .carbon_g_per_kwh = s->intensity,
                               .carbon_source = s->carbon_source,
                               .pue = s->pue,
                               .idle_baseline_id = s->base ? s->base->id : 0};
    enum gm_status rc = gm_store_begin_run(
        s->st, s->host_id, &meta, gm_meter_component_count(s->m),
        gm_meter_components(s->m), gm_meter_metric_count(s->m),
        gm_meter_metrics(s->m), &s->run_id);
    if (rc != GM_OK) {
      set_error(s, "%s", gm_store_last_error(s->st));
      s->run_id = 0;
      return rc;
    }
  }
  enum gm_status rc = gm_meter_start(s->m);
  if (rc != GM_OK) {
    set_error(s, "cannot start the meter: %s", gm_meter_last_error(s->m));
    return rc;
  }
  s->started = true;
  return GM_OK;
}

enum gm_status gm_session_phase_begin(struct gm_session *s, const char *name,
                                      int64_t t_ns) {
  if (!s)
    return GM_ERR_INVALID_ARG;
  if (!gm_phase_name_valid(name)) {
    set_error(s,
              "a phase name is 1 to %d bytes without control characters, "
              "not only spaces",
              GM_MARK_NAME_MAX);
    return GM_ERR_INVALID_ARG;
  }
  enum gm_status rc = gm_meter_phase_begin(s->m, name, t_ns);
  if (rc == GM_ERR_STATE)
    set_error(s, "the session is not running");
  else if (rc == GM_ERR_INVALID_ARG)
    set_error(s, "the phase's time is before the run, before the last "
                 "boundary or in the future");
  return rc;
}

enum gm_status gm_session_phase_end(struct gm_session *s, int64_t t_ns) {
  if (!s)
    return GM_ERR_INVALID_ARG;
  enum gm_status rc = gm_meter_phase_end(s->m, t_ns);
  if (rc == GM_ERR_STATE)
    set_error(s, "the session is not running");
  else if (rc == GM_ERR_INVALID_ARG)
    set_error(s, "the phase's end is before the run, before the last "
                 "boundary or in the future");
  return rc;
}

enum gm_status gm_session_stop(struct gm_session *s, int exit_code) {
  if (!s)
    return GM_ERR_INVALID_ARG;
  if (!s->started) {
    set_error(s, "the session has not started");
    return GM_ERR_STATE;
  }
  if (s->stopped)
    return s->stop_status;
  s->stopped = true;
  s->exit_code = exit_code;
  gm_meter_stop(s->m);
  enum gm_status rc = gm_run_record_from_meter(s->m, s->base, &s->rec);
  if (rc != GM_OK) {
    set_error(s, "cannot build the run's record: %s", gm_status_str(rc));
    s->stop_status = rc;
    return rc;
  }
  s->carbon_g = gm_carbon_grams(s->rec->total.gross_j, s->intensity, s->pue);
  s->carbon_net_g = gm_carbon_grams(s->rec->total.net_j, s->intensity, s->pue);
  if (s->st && s->run_id > 0) {
    struct gm_run_result res = {.exit_code = exit_code,
                                .carbon_g = s->carbon_g};
    rc = gm_store_finish_run(s->st, s->run_id, &res, s->rec);
    gm_store_sample_tally(s->st, s->run_id, &s->tally);
    s->have_tally = true;
    s->store_complete = rc == GM_OK;
    if (rc != GM_OK)
      set_error(s, "%s", gm_store_last_error(s->st));
  }
  s->stop_status = rc;
  return rc;
}

const struct gm_run_record *gm_session_record(const struct gm_session *s) {
  return s ? s->rec : NULL;
}

enum gm_status gm_session_tally(const struct gm_session *s,
                                struct gm_store_sample_tally *out) {
  if (!s || !out)
    return GM_ERR_INVALID_ARG;
  if (!s->have_tally)
    return GM_ERR_STATE;
  *out = s->tally;
  return GM_OK;
}

void gm_session_set_cpu(struct gm_session *s, double command_cpu_s,
                        double process_cpu_s) {
  if (!s)
    return;
  s->command_cpu_s = command_cpu_s;
  s->process_cpu_s = process_cpu_s;
}

void gm_session_set_markers(struct gm_session *s, unsigned bad_lines,
                            const struct gm_mark_rejected *rejected) {
  if (!s)
    return;
  s->have_markers = rejected != NULL;
  s->marker_bad_lines = bad_lines;
  if (rejected)
    s->marker_rejected = *rejected;
}

const char *gm_session_last_error(const struct gm_session *s) {
  return s ? s->error : "";
}

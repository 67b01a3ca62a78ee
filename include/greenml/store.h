/* store.h: the SQLite results store. One file per user (default in the XDG
 * data directory), WAL journal, versioned schema with forward migrations.
 * Samples are written in batched transactions (one per gm_store_commit, which
 * the meter's flush callback calls about once a second), so a run killed with
 * SIGKILL keeps everything up to its last second and stays marked
 * incomplete. A database written by a newer greenml is refused and left
 * untouched (GM_ERR_SCHEMA_NEWER).
 *
 * A store handle may be used from one thread at a time; the sample calls
 * normally come from the meter's writer thread while the main thread waits.
 */
#ifndef GREENML_STORE_H
#define GREENML_STORE_H

#include <stdint.h>

#include "greenml/api.h"
#include "greenml/host.h"
#include "greenml/meter.h"
#include "greenml/status.h"

/* The schema version this greenml writes. */
#define GM_STORE_SCHEMA_VERSION 1

struct gm_store;

/* Opens (creating when absent) the database at path and migrates it to the
 * current schema. The parent directory must exist. *out is owned by the
 * caller: gm_store_close. On error *out is NULL and, for
 * GM_ERR_SCHEMA_NEWER, the file is not modified. err (optional) receives the
 * specific message. */
GM_API enum gm_status gm_store_open(const char *path, struct gm_store **out,
                                    char *err, size_t err_size);
GM_API void gm_store_close(struct gm_store *st); /* NULL is a no-op */
GM_API const char *gm_store_last_error(const struct gm_store *st);
/* PRAGMA user_version of the open database. */
GM_API int gm_store_schema_version(struct gm_store *st);

/* Inserts or refreshes the host (keyed by its fingerprint). */
GM_API enum gm_status gm_store_put_host(struct gm_store *st,
                                        const struct gm_host *h,
                                        int64_t *host_id);

struct gm_run_meta {
  const char *kind;      /* "measure" or "idle" */
  double interval_s;     /* sampling period */
  const char *command;   /* the measured command line, or NULL */
  const char *tags_json; /* JSON object of --tag K=V, or NULL */
  double carbon_g_per_kwh;
  const char
      *carbon_source; /* "region FR (Ember 2023)", "--carbon-intensity" */
  double pue;
  int64_t idle_baseline_id; /* 0: none */
};

/* Records a new run (complete = 0) with the meter's components and metrics,
 * and commits. Call after gm_meter_create, before or after start. */
GM_API enum gm_status gm_store_begin_run(struct gm_store *st, int64_t host_id,
                                         const struct gm_run_meta *meta,
                                         const struct gm_meter *m,
                                         int64_t *run_id);
/* Appends one sample to the open transaction (begun on demand). */
GM_API enum gm_status gm_store_add_sample(struct gm_store *st, int64_t run_id,
                                          const struct gm_sample *s);
/* Commits the open transaction, if any. */
GM_API enum gm_status gm_store_commit(struct gm_store *st);

struct gm_run_result {
  int exit_code;
  double duration_s;
  double total_energy_j;
  double total_net_energy_j;
  double carbon_g;
  double sampler_cpu_s;
  uint64_t dropped_samples;
  const double *idle_power_w; /* per component, NULL: none */
};

/* Writes the per-component statistics, phases and totals and marks the run
 * complete. The meter must be stopped. */
GM_API enum gm_status gm_store_finish_run(struct gm_store *st, int64_t run_id,
                                          const struct gm_run_result *res,
                                          struct gm_meter *m);

/* One component's idle power. */
struct gm_idle_entry {
  char name[48];
  char source[24];
  double mean_power_w;
  double sd_power_w;
  uint64_t n_intervals;
};

struct gm_idle_baseline {
  int64_t id;
  char measured_at[32]; /* UTC, ISO 8601 */
  double duration_s;
  size_t n;
  struct gm_idle_entry *entries; /* owned by the baseline */
};

/* Stores the idle power of every component of a stopped meter. */
GM_API enum gm_status gm_store_save_idle(struct gm_store *st, int64_t host_id,
                                         int64_t run_id, struct gm_meter *m,
                                         int64_t *baseline_id);
/* Loads the newest baseline of the host. GM_ERR_NOT_FOUND when none.
 * Free with gm_idle_baseline_free. */
GM_API enum gm_status gm_store_load_idle(struct gm_store *st, int64_t host_id,
                                         struct gm_idle_baseline **out);
GM_API void gm_idle_baseline_free(struct gm_idle_baseline *b);

/* Raw access for tools that read the database (runs, report): the sqlite3
 * connection, borrowed. */
struct sqlite3;
GM_API struct sqlite3 *gm_store_db(struct gm_store *st);

#endif

/* reads.c: the PostgreSQL store's reads behind greenml/store.h's queries
 * and the study queries: rows only, as the SQLite store reads them (same
 * columns, same order; text is ordered by bytes, COLLATE "C", as SQLite
 * orders it), each query in one read-only snapshot. A database without
 * greenml's tables (opened read-only) reads as empty. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json_read.h"
#include "store/postgres/pg.h"

/* Reads inside one snapshot when no transaction is open. */
static bool begin_read(struct gm_store *st) {
  if (PQtransactionStatus(gm__pg_conn(st)) != PQTRANS_IDLE)
    return false;
  return gm__pg_cmd(st, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
                    "cannot read") == GM_OK;
}

static void end_read(struct gm_store *st, bool began) {
  if (began)
    gm__pg_rollback(st); /* nothing was written */
}

static bool has_tables(struct gm_store *st) { return gm__pg(st)->version > 0; }

static long find_idx(const int *idx, size_t n, int v) {
  for (size_t i = 0; i < n; i++)
    if (idx[i] == v)
      return (long)i;
  return -1;
}

/* ---- idle baselines ------------------------------------------------------ */

enum gm_status gm__pg_load_idle(struct gm_store *st, int64_t key, bool by_id,
                                struct gm_idle_baseline **out) {
  const char *none = by_id ? "no idle baseline with that id"
                           : "no idle baseline stored for this host";
  const char *what = "cannot read the idle baseline";
  *out = NULL;
  if (!has_tables(st))
    return gm__store_error(st, GM_ERR_NOT_FOUND, "%s", none);
  bool began = begin_read(st);
  struct gm__pg_params p = {0};
  gm__pg_int(&p, key);
  PGresult *r = gm__pg_exec(
      st,
      by_id ? "SELECT id, measured_at, duration_s, interval_s, cpu_tdp_w, "
              "dimm_capacitance_f, cpu_util_pct, busy FROM idle_baselines "
              "WHERE id=$1"
            : "SELECT id, measured_at, duration_s, interval_s, cpu_tdp_w, "
              "dimm_capacitance_f, cpu_util_pct, busy FROM idle_baselines "
              "WHERE host_id=$1 ORDER BY id DESC LIMIT 1",
      &p, what);
  enum gm_status rc = GM_OK;
  struct gm_idle_baseline *b = NULL;
  if (!r) {
    rc = GM_ERR_DATABASE;
    goto out;
  }
  if (PQntuples(r) == 0) {
    rc = gm__store_error(st, GM_ERR_NOT_FOUND, "%s", none);
    goto out;
  }
  if (!(b = calloc(1, sizeof(*b)))) {
    rc = GM_ERR_NO_MEMORY;
    goto out;
  }
  b->id = gm__pg_get_int(r, 0, 0);
  gm__pg_get_text(r, 0, 1, b->measured_at, sizeof(b->measured_at));
  b->duration_s = gm__pg_get_real(r, 0, 2);
  b->interval_s = gm__pg_get_real(r, 0, 3);
  b->cpu_tdp_w = gm__pg_get_real(r, 0, 4);
  b->dimm_capacitance_f = gm__pg_get_real(r, 0, 5);
  b->cpu_util_pct = gm__pg_get_real(r, 0, 6);
  b->busy = gm__pg_get_int(r, 0, 7) != 0;
  PQclear(r);
  p.n = 0;
  gm__pg_int(&p, b->id);
  r = gm__pg_exec(st,
                  "SELECT name, source, mean_power_w, sd_power_w, "
                  "n_intervals, detail FROM idle_components WHERE "
                  "baseline_id=$1 ORDER BY name COLLATE \"C\"",
                  &p, what);
  if (!r) {
    rc = GM_ERR_DATABASE;
    goto out;
  }
  int nr = PQntuples(r);
  if (nr && !(b->entries = calloc((size_t)nr, sizeof(*b->entries)))) {
    rc = GM_ERR_NO_MEMORY;
    goto out;
  }
  for (int i = 0; i < nr; i++) {
    struct gm_idle_entry *e = &b->entries[b->n++];
    gm__pg_get_text(r, i, 0, e->name, sizeof(e->name));
    gm__pg_get_text(r, i, 1, e->source, sizeof(e->source));
    e->mean_power_w = gm__pg_get_real(r, i, 2);
    e->sd_power_w = gm__pg_get_real(r, i, 3);
    e->n_intervals = (uint64_t)gm__pg_get_int(r, i, 4);
    gm__pg_get_text(r, i, 5, e->detail, sizeof(e->detail));
  }
out:
  PQclear(r);
  end_read(st, began);
  if (rc == GM_OK)
    *out = b;
  else
    gm_idle_baseline_free(b);
  return rc;
}

/* ---- benches: finding one, its phases ------------------------------------ */

enum gm_status gm__pg_bench_find(struct gm_store *st, const char *name,
                                 struct gm_bench_info *out) {
  const char *none = name ? "no bench of that name" : "no unfinished bench";
  if (!has_tables(st))
    return gm__store_error(st, GM_ERR_NOT_FOUND, "%s", none);
  struct gm__pg_params p = {0};
  if (name)
    gm__pg_text(&p, name);
  PGresult *r = gm__pg_exec(
      st,
      name ? "SELECT id, host_id, idle_baseline_id, name, status, config_json "
             "FROM benches WHERE name=$1"
           : "SELECT id, host_id, idle_baseline_id, name, status, config_json "
             "FROM benches WHERE status<>'complete' ORDER BY id DESC LIMIT 1",
      &p, "cannot read the benches");
  if (!r)
    return GM_ERR_DATABASE;
  enum gm_status rc = GM_OK;
  if (PQntuples(r) == 0) {
    rc = gm__store_error(st, GM_ERR_NOT_FOUND, "%s", none);
  } else {
    out->id = gm__pg_get_int(r, 0, 0);
    out->host_id = gm__pg_get_int(r, 0, 1);
    out->idle_baseline_id = gm__pg_get_int(r, 0, 2);
    gm__pg_get_text(r, 0, 3, out->name, sizeof(out->name));
    gm__pg_get_text(r, 0, 4, out->status, sizeof(out->status));
    const char *cfg = gm__pg_get_str(r, 0, 5);
    if (!(out->config_json = strdup(cfg ? cfg : "{}")))
      rc = GM_ERR_NO_MEMORY;
  }
  PQclear(r);
  return rc;
}

enum gm_status gm__pg_bench_has_phase(struct gm_store *st, int64_t bench_id,
                                      const char *model, int batch_size,
                                      const char *precision, const char *kind,
                                      int epoch, bool metered, bool *exists) {
  *exists = false;
  if (!has_tables(st))
    return GM_OK;
  struct gm__pg_params p = {0};
  gm__pg_int(&p, bench_id);
  gm__pg_text(&p, model);
  gm__pg_int(&p, batch_size);
  gm__pg_text(&p, kind);
  gm__pg_int(&p, epoch);
  gm__pg_int(&p, metered);
  gm__pg_text(&p, gm__store_precision(precision));
  PGresult *r = gm__pg_exec(st,
                            "SELECT 1 FROM bench_phases WHERE bench_id=$1 AND "
                            "model=$2 AND batch_size=$3 AND kind=$4 AND "
                            "epoch=$5 AND metered=$6 AND precision=$7",
                            &p, "cannot read the phases");
  if (!r)
    return GM_ERR_DATABASE;
  *exists = PQntuples(r) > 0;
  PQclear(r);
  return GM_OK;
}

/* ---- runs ---------------------------------------------------------------- */

static enum gm_provenance provenance_of(const char *prov, const char *signal) {
  if (prov && strcmp(prov, "modelled") == 0)
    return GM_PROV_MODELLED;
  if (signal && strcmp(signal, "power sensor") == 0)
    return GM_PROV_MEASURED_POWER;
  return GM_PROV_MEASURED_COUNTER;
}

static bool dup_into(char **dst, const char *v) {
  return !v || (*dst = strdup(v)) != NULL;
}

/* The components of row's run; with samples, each one's last cumulative
 * energy and the time of the last sample. */
static enum gm_status run_parts(struct gm_store *st,
                                struct gm__store_run_row *row, bool samples) {
  const char *what = "cannot read the runs";
  struct gm__pg_params p = {0};
  gm__pg_int(&p, row->run.id);
  PGresult *r = gm__pg_exec(st,
                            "SELECT idx, provenance, signal, in_total FROM "
                            "components WHERE run_id=$1 ORDER BY idx",
                            &p, what);
  if (!r)
    return GM_ERR_DATABASE;
  int nr = PQntuples(r);
  if (nr && !(row->parts = calloc((size_t)nr, sizeof(*row->parts)))) {
    PQclear(r);
    return GM_ERR_NO_MEMORY;
  }
  for (int i = 0; i < nr; i++) {
    struct gm_energy_part *e = &row->parts[row->n_parts++];
    e->provenance =
        provenance_of(gm__pg_get_str(r, i, 1), gm__pg_get_str(r, i, 2));
    e->in_total = gm__pg_get_int(r, i, 3) != 0;
    e->gross_j = 0;
    e->idle_w = NAN;
  }
  PQclear(r);
  if (!samples)
    return GM_OK;
  r = gm__pg_exec(st,
                  "SELECT component_idx, max(energy_j) FROM samples WHERE "
                  "run_id=$1 GROUP BY component_idx",
                  &p, what);
  if (!r)
    return GM_ERR_DATABASE;
  for (int i = 0; i < PQntuples(r); i++) {
    int64_t idx = gm__pg_get_int(r, i, 0);
    if (idx >= 0 && (size_t)idx < row->n_parts)
      row->parts[idx].gross_j = gm__pg_get_real(r, i, 1);
  }
  PQclear(r);
  r = gm__pg_exec(st, "SELECT max(t_s) FROM samples WHERE run_id=$1", &p, what);
  if (!r)
    return GM_ERR_DATABASE;
  row->last_sample_s = gm__pg_get_real(r, 0, 0);
  PQclear(r);
  return GM_OK;
}

enum gm_status gm__pg_list_runs(struct gm_store *st, size_t limit,
                                struct gm__store_run_rows *out) {
  if (!has_tables(st))
    return GM_OK;
  bool began = begin_read(st);
  struct gm__pg_params p = {0};
  if (limit)
    gm__pg_int(&p, (int64_t)limit);
  else
    gm__pg_text(&p, NULL); /* LIMIT NULL: every row */
  PGresult *r = gm__pg_exec(
      st,
      "SELECT r.id, r.started_at, r.kind, r.complete, r.duration_s, "
      "r.total_energy_j, r.total_net_energy_j, r.exit_code, r.command, "
      "r.incomplete_cause, r.lost_samples, r.stored_until_s, "
      "r.total_partial, r.attributed_to, r.attributed_j, "
      "r.attributed_net_j, r.attributed_provenance, r.attributed_partial, "
      "h.id, h.hostname, h.fingerprint FROM runs r LEFT JOIN hosts h ON "
      "h.id = r.host_id ORDER BY r.id DESC LIMIT $1::bigint",
      &p, "cannot read the runs");
  enum gm_status rc = GM_OK;
  if (!r) {
    rc = GM_ERR_DATABASE;
    goto out;
  }
  int nr = PQntuples(r);
  if (nr && !(out->rows = calloc((size_t)nr, sizeof(*out->rows)))) {
    rc = GM_ERR_NO_MEMORY;
    goto out;
  }
  for (int i = 0; i < nr && rc == GM_OK; i++) {
    struct gm__store_run_row *row = &out->rows[out->n++];
    struct gm_store_run *run = &row->run;
    run->id = gm__pg_get_int(r, i, 0);
    gm__pg_get_text(r, i, 1, run->started_at, sizeof(run->started_at));
    gm__pg_get_text(r, i, 2, run->kind, sizeof(run->kind));
    run->complete = gm__pg_get_int(r, i, 3) != 0;
    run->duration_s = gm__pg_get_real(r, i, 4);
    run->energy_j = gm__pg_get_real(r, i, 5);
    run->net_energy_j = gm__pg_get_real(r, i, 6);
    run->has_exit_code = !gm__pg_isnull(r, i, 7);
    run->exit_code = (int)gm__pg_get_int(r, i, 7);
    if (!dup_into(&row->command, gm__pg_get_str(r, i, 8)) ||
        !dup_into(&row->incomplete_cause, gm__pg_get_str(r, i, 9)) ||
        !dup_into(&row->attributed_to, gm__pg_get_str(r, i, 13)) ||
        !dup_into(&row->attributed_provenance, gm__pg_get_str(r, i, 16))) {
      rc = GM_ERR_NO_MEMORY;
      break;
    }
    run->command = row->command;
    run->incomplete_cause = row->incomplete_cause;
    run->lost_samples = gm__pg_isnull(r, i, 10) ? -1 : gm__pg_get_int(r, i, 10);
    run->stored_until_s = gm__pg_get_real(r, i, 11);
    run->partial = gm__pg_get_int(r, i, 12) != 0;
    run->attributed_to = row->attributed_to;
    run->attributed_provenance = row->attributed_provenance;
    run->attributed_j = gm__pg_get_real(r, i, 14);
    run->attributed_net_j = gm__pg_get_real(r, i, 15);
    run->attributed_partial = gm__pg_get_int(r, i, 17) != 0;
    run->host_id = gm__pg_get_int(r, i, 18);
    gm__pg_get_text(r, i, 19, run->hostname, sizeof(run->hostname));
    gm__pg_get_text(r, i, 20, run->fingerprint, sizeof(run->fingerprint));
    row->last_sample_s = NAN;
    rc = run_parts(st, row, isnan(run->duration_s) || isnan(run->energy_j));
  }
out:
  PQclear(r);
  end_read(st, began);
  return rc;
}

/* ---- benches: every row -------------------------------------------------- */

static enum gm_status read_benches(struct gm_store *st, int64_t only,
                                   struct gm_store_bench_set *set) {
  struct gm__pg_params p = {0};
  gm__pg_int(&p, only);
  PGresult *r = gm__pg_exec(
      st,
      "SELECT b.id, b.host_id, b.idle_baseline_id, b.name, b.status, "
      "b.created_at, b.updated_at, b.config_json, b.versions_json, "
      "b.host_json, h.hostname, h.cpu_model FROM benches b LEFT JOIN hosts h "
      "ON h.id = b.host_id WHERE $1::bigint = 0 OR b.id = $1::bigint ORDER "
      "BY b.id",
      &p, "cannot read the benches");
  if (!r)
    return GM_ERR_DATABASE;
  int nr = PQntuples(r);
  bool oom = nr && !(set->benches = calloc((size_t)nr, sizeof(*set->benches)));
  for (int i = 0; i < nr && !oom; i++) {
    struct gm_store_bench *b = &set->benches[set->n_benches++];
    b->id = gm__pg_get_int(r, i, 0);
    b->host_id = gm__pg_get_int(r, i, 1);
    b->idle_baseline_id = gm__pg_get_int(r, i, 2);
    gm__pg_get_text(r, i, 3, b->name, sizeof(b->name));
    gm__pg_get_text(r, i, 4, b->status, sizeof(b->status));
    gm__pg_get_text(r, i, 5, b->created_at, sizeof(b->created_at));
    gm__pg_get_text(r, i, 6, b->updated_at, sizeof(b->updated_at));
    b->config_json = gm__store_strdup(set, gm__pg_get_str(r, i, 7), &oom);
    b->versions_json = gm__store_strdup(set, gm__pg_get_str(r, i, 8), &oom);
    b->host_json = gm__store_strdup(set, gm__pg_get_str(r, i, 9), &oom);
    gm__pg_get_text(r, i, 10, b->hostname, sizeof(b->hostname));
    gm__pg_get_text(r, i, 11, b->cpu_model, sizeof(b->cpu_model));
  }
  PQclear(r);
  return oom ? GM_ERR_NO_MEMORY : GM_OK;
}

static enum gm_status read_models(struct gm_store *st, int64_t only,
                                  struct gm_store_bench_set *set) {
  struct gm__pg_params p = {0};
  gm__pg_int(&p, only);
  PGresult *r = gm__pg_exec(st,
                            "SELECT bench_id, model, params, "
                            "trainable_params, param_bytes, buffer_bytes, "
                            "size_bytes, macs, macs_per_param FROM "
                            "bench_models WHERE $1::bigint = 0 OR bench_id = "
                            "$1::bigint ORDER BY bench_id, ord",
                            &p, "cannot read the models");
  if (!r)
    return GM_ERR_DATABASE;
  int nr = PQntuples(r);
  if (nr && !(set->models = calloc((size_t)nr, sizeof(*set->models)))) {
    PQclear(r);
    return GM_ERR_NO_MEMORY;
  }
  for (int i = 0; i < nr; i++) {
    struct gm_store_bench_model *m = &set->models[set->n_models++];
    m->bench_id = gm__pg_get_int(r, i, 0);
    gm__pg_get_text(r, i, 1, m->model, sizeof(m->model));
    m->params = gm__pg_get_int(r, i, 2);
    m->trainable_params = gm__pg_get_int(r, i, 3);
    m->param_bytes = gm__pg_get_int(r, i, 4);
    m->buffer_bytes = gm__pg_get_int(r, i, 5);
    m->size_bytes = gm__pg_get_int(r, i, 6);
    m->macs = gm__pg_get_int(r, i, 7);
    m->macs_per_param = gm__pg_get_real(r, i, 8);
  }
  PQclear(r);
  return GM_OK;
}

/* Whether phase row i of r is phase ph (the key of its components). */
static bool same_phase(const PGresult *r, int i,
                       const struct gm_store_bench_phase *ph) {
  return gm__pg_get_int(r, i, 0) == ph->bench_id &&
         strcmp(PQgetvalue(r, i, 1), ph->model) == 0 &&
         gm__pg_get_int(r, i, 2) == ph->batch_size &&
         strcmp(PQgetvalue(r, i, 3), ph->kind) == 0 &&
         gm__pg_get_int(r, i, 4) == ph->epoch &&
         (gm__pg_get_int(r, i, 5) != 0) == ph->metered &&
         strcmp(PQgetvalue(r, i, 14), ph->precision) == 0;
}

static enum gm_status read_phases(struct gm_store *st, int64_t only,
                                  struct gm_store_bench_set *set) {
  struct gm__pg_params p = {0};
  gm__pg_int(&p, only);
  char sql[1024], csql[1024];
  /* an older database read as it is: schema 9 added the precision (every
   * earlier row is fp32) */
  const bool v9 = gm__pg(st)->version >= 9;
  snprintf(sql, sizeof(sql),
           "SELECT bench_id, model, batch_size, kind, epoch, metered, run_id, "
           "phase_idx, ended_at, start_s, duration_s, steps, samples, "
           "step_time_s, samples_per_s, loss, accuracy, lr, energy_j, "
           "net_energy_j, j_per_sample, net_j_per_sample, avg_power_w, "
           "peak_power_w, provenance, cpu_util_pct, dram_used_bytes, "
           "gpu_util_pct, vram_used_bytes, %s, %s FROM bench_phases WHERE "
           "$1::bigint = 0 OR bench_id = $1::bigint ORDER BY bench_id, ord",
           gm__pg(st)->version >= 8 ? "tags_json" : "NULL::text",
           v9 ? "precision" : "'fp32'::text");
  PGresult *r = gm__pg_exec(st, sql, &p, "cannot read the phases");
  if (!r)
    return GM_ERR_DATABASE;
  /* every component of the phases read, in the phases' order, then in
   * recorded order: matched to their phase by key */
  snprintf(
      csql, sizeof(csql),
      "SELECT c.bench_id, c.model, c.batch_size, c.kind, c.epoch, c.metered, "
      "c.component, c.component_kind, c.provenance, c.in_total, c.energy_j, "
      "c.net_energy_j, c.avg_power_w, c.peak_power_w, %s FROM "
      "bench_phase_components c JOIN bench_phases p ON p.bench_id = "
      "c.bench_id AND p.model = c.model AND p.batch_size = c.batch_size AND "
      "p.kind = c.kind AND p.epoch = c.epoch AND p.metered = c.metered%s "
      "WHERE $1::bigint = 0 OR c.bench_id = $1::bigint ORDER BY p.bench_id, "
      "p.ord, c.ord",
      v9 ? "c.precision" : "'fp32'::text",
      v9 ? " AND p.precision = c.precision" : "");
  PGresult *c = gm__pg_exec(st, csql, &p, "cannot read the phase components");
  if (!c) {
    PQclear(r);
    return GM_ERR_DATABASE;
  }
  enum gm_status rc = GM_OK;
  int nr = PQntuples(r), nc = PQntuples(c), ci = 0;
  if (nr && !(set->phases = calloc((size_t)nr, sizeof(*set->phases))))
    rc = GM_ERR_NO_MEMORY;
  for (int i = 0; i < nr && rc == GM_OK; i++) {
    struct gm_store_bench_phase *ph = &set->phases[set->n_phases++];
    int k = 0;
    ph->bench_id = gm__pg_get_int(r, i, k++);
    gm__pg_get_text(r, i, k++, ph->model, sizeof(ph->model));
    ph->batch_size = (int)gm__pg_get_int(r, i, k++);
    gm__pg_get_text(r, i, k++, ph->kind, sizeof(ph->kind));
    ph->epoch = (int)gm__pg_get_int(r, i, k++);
    ph->metered = gm__pg_get_int(r, i, k++) != 0;
    ph->run_id = gm__pg_get_int(r, i, k++);
    ph->phase_idx = gm__pg_isnull(r, i, k) ? -1 : (int)gm__pg_get_int(r, i, k);
    k++;
    gm__pg_get_text(r, i, k++, ph->ended_at, sizeof(ph->ended_at));
    ph->start_s = gm__pg_get_real(r, i, k++);
    ph->duration_s = gm__pg_get_real(r, i, k++);
    ph->steps = gm__pg_get_int(r, i, k++);
    ph->samples = gm__pg_get_int(r, i, k++);
    ph->step_time_s = gm__pg_get_real(r, i, k++);
    ph->samples_per_s = gm__pg_get_real(r, i, k++);
    ph->loss = gm__pg_get_real(r, i, k++);
    ph->accuracy = gm__pg_get_real(r, i, k++);
    ph->lr = gm__pg_get_real(r, i, k++);
    ph->energy_j = gm__pg_get_real(r, i, k++);
    ph->net_energy_j = gm__pg_get_real(r, i, k++);
    ph->j_per_sample = gm__pg_get_real(r, i, k++);
    ph->net_j_per_sample = gm__pg_get_real(r, i, k++);
    ph->avg_power_w = gm__pg_get_real(r, i, k++);
    ph->peak_power_w = gm__pg_get_real(r, i, k++);
    gm__pg_get_text(r, i, k++, ph->provenance, sizeof(ph->provenance));
    ph->cpu_util_pct = gm__pg_get_real(r, i, k++);
    ph->dram_used_bytes = gm__pg_get_real(r, i, k++);
    ph->gpu_util_pct = gm__pg_get_real(r, i, k++);
    ph->vram_used_bytes = gm__pg_get_real(r, i, k++);
    bool oom = false;
    ph->tags_json = gm__store_strdup(set, gm__pg_get_str(r, i, k++), &oom);
    gm__pg_get_text(r, i, k++, ph->precision, sizeof(ph->precision));
    if (oom) {
      rc = GM_ERR_NO_MEMORY;
      break;
    }
    int first = ci;
    while (ci < nc && same_phase(c, ci, ph))
      ci++;
    size_t n = (size_t)(ci - first);
    if (!n)
      continue;
    struct gm_store_phase_component *dst = gm__store_components(set, n);
    if (!dst) {
      rc = GM_ERR_NO_MEMORY;
      break;
    }
    for (size_t j = 0; j < n; j++) {
      int row = first + (int)j;
      struct gm_store_phase_component *pc = &dst[j];
      memset(pc, 0, sizeof(*pc));
      gm__pg_get_text(c, row, 6, pc->name, sizeof(pc->name));
      gm__pg_get_text(c, row, 7, pc->kind, sizeof(pc->kind));
      gm__pg_get_text(c, row, 8, pc->provenance, sizeof(pc->provenance));
      pc->in_total = gm__pg_get_int(c, row, 9) != 0;
      pc->energy_j = gm__pg_get_real(c, row, 10);
      pc->net_energy_j = gm__pg_get_real(c, row, 11);
      pc->avg_power_w = gm__pg_get_real(c, row, 12);
      pc->peak_power_w = gm__pg_get_real(c, row, 13);
    }
    ph->components = dst;
    ph->n_components = n;
  }
  PQclear(r);
  PQclear(c);
  return rc;
}

static enum gm_status read_predictions(struct gm_store *st, int64_t only,
                                       struct gm_store_bench_set *set) {
  struct gm__pg_params p = {0};
  gm__pg_int(&p, only);
  char sql[1024];
  snprintf(sql, sizeof(sql),
           "SELECT bench_id, model, batch_size, kind, made_at, profile_epochs, "
           "profile_steps, target_steps, target_samples, level, duration_s, "
           "duration_lo_s, duration_hi_s, energy_j, energy_lo_j, energy_hi_j, "
           "net_energy_j, provenance, actual_duration_s, actual_energy_j, "
           "duration_error_rel, energy_error_rel, %s FROM bench_predictions "
           "WHERE $1::bigint = 0 OR bench_id = $1::bigint ORDER BY bench_id, "
           "ord",
           gm__pg(st)->version >= 9 ? "precision" : "'fp32'::text");
  PGresult *r = gm__pg_exec(st, sql, &p, "cannot read the predictions");
  if (!r)
    return GM_ERR_DATABASE;
  int nr = PQntuples(r);
  if (nr &&
      !(set->predictions = calloc((size_t)nr, sizeof(*set->predictions)))) {
    PQclear(r);
    return GM_ERR_NO_MEMORY;
  }
  for (int i = 0; i < nr; i++) {
    struct gm_store_bench_prediction *pr =
        &set->predictions[set->n_predictions++];
    int k = 0;
    pr->bench_id = gm__pg_get_int(r, i, k++);
    gm__pg_get_text(r, i, k++, pr->model, sizeof(pr->model));
    pr->batch_size = (int)gm__pg_get_int(r, i, k++);
    gm__pg_get_text(r, i, k++, pr->kind, sizeof(pr->kind));
    gm__pg_get_text(r, i, k++, pr->made_at, sizeof(pr->made_at));
    pr->profile_epochs = gm__pg_get_real(r, i, k++);
    pr->profile_steps = gm__pg_get_int(r, i, k++);
    pr->target_steps = gm__pg_get_int(r, i, k++);
    pr->target_samples = gm__pg_get_int(r, i, k++);
    pr->level = gm__pg_get_real(r, i, k++);
    pr->duration_s = gm__pg_get_real(r, i, k++);
    pr->duration_lo_s = gm__pg_get_real(r, i, k++);
    pr->duration_hi_s = gm__pg_get_real(r, i, k++);
    pr->energy_j = gm__pg_get_real(r, i, k++);
    pr->energy_lo_j = gm__pg_get_real(r, i, k++);
    pr->energy_hi_j = gm__pg_get_real(r, i, k++);
    pr->net_energy_j = gm__pg_get_real(r, i, k++);
    gm__pg_get_text(r, i, k++, pr->provenance, sizeof(pr->provenance));
    pr->actual_duration_s = gm__pg_get_real(r, i, k++);
    pr->actual_energy_j = gm__pg_get_real(r, i, k++);
    pr->duration_error_rel = gm__pg_get_real(r, i, k++);
    pr->energy_error_rel = gm__pg_get_real(r, i, k++);
    gm__pg_get_text(r, i, k++, pr->precision, sizeof(pr->precision));
  }
  PQclear(r);
  return GM_OK;
}

enum gm_status gm__pg_load_benches(struct gm_store *st,
                                   const struct gm_store_bench_filter *f,
                                   struct gm_store_bench_set *out) {
  if (!has_tables(st))
    return GM_OK;
  bool began = begin_read(st);
  enum gm_status rc = read_benches(st, f->bench_id, out);
  if (rc == GM_OK && f->rows && out->n_benches)
    if ((rc = read_models(st, f->bench_id, out)) == GM_OK &&
        (rc = read_phases(st, f->bench_id, out)) == GM_OK)
      rc = read_predictions(st, f->bench_id, out);
  end_read(st, began);
  return rc;
}

/* ---- time series --------------------------------------------------------- */

enum gm_status gm__pg_load_series(struct gm_store *st, int64_t run_id,
                                  bool columns_only,
                                  struct gm_store_series *s) {
  if (!has_tables(st))
    return gm__store_error(st, GM_ERR_NOT_FOUND, "no run %lld",
                           (long long)run_id);
  const char *what = "cannot read the time series";
  bool began = begin_read(st);
  int *cidx = NULL, *midx = NULL;
  enum gm_status rc = GM_OK;
  struct gm__pg_params p = {0};
  gm__pg_int(&p, run_id);
  PGresult *r =
      gm__pg_exec(st,
                  "SELECT (SELECT count(*) FROM components WHERE run_id=$1), "
                  "(SELECT count(*) FROM metrics WHERE run_id=$1), "
                  "(SELECT count(DISTINCT seq) FROM samples WHERE run_id=$1) "
                  "FROM runs WHERE id=$1",
                  &p, what);
  if (!r)
    goto dberr;
  if (PQntuples(r) == 0) {
    rc =
        gm__store_error(st, GM_ERR_NOT_FOUND, "no run %lld", (long long)run_id);
    goto out;
  }
  s->n_components = (size_t)gm__pg_get_int(r, 0, 0);
  s->n_metrics = (size_t)gm__pg_get_int(r, 0, 1);
  s->n_rows = columns_only ? 0 : (size_t)gm__pg_get_int(r, 0, 2);
  PQclear(r);
  r = NULL;
  size_t nc = s->n_components ? s->n_components : 1;
  size_t nm = s->n_metrics ? s->n_metrics : 1;
  size_t nr = s->n_rows ? s->n_rows : 1;
  s->components = calloc(nc, sizeof(*s->components));
  s->metrics = calloc(nm, sizeof(*s->metrics));
  cidx = calloc(nc, sizeof(int));
  midx = calloc(nm, sizeof(int));
  s->seq = calloc(nr, sizeof(*s->seq));
  s->t_s = calloc(nr, sizeof(double));
  s->energy_j = malloc(nr * nc * sizeof(double));
  s->power_w = malloc(nr * nc * sizeof(double));
  s->metric = malloc(nr * nm * sizeof(double));
  if (!s->components || !s->metrics || !cidx || !midx || !s->seq || !s->t_s ||
      !s->energy_j || !s->power_w || !s->metric) {
    rc = GM_ERR_NO_MEMORY;
    goto out;
  }
  for (size_t i = 0; i < nr * nc; i++)
    s->energy_j[i] = s->power_w[i] = NAN;
  for (size_t i = 0; i < nr * nm; i++)
    s->metric[i] = NAN;
  if (!(r = gm__pg_exec(st,
                        "SELECT idx, name, kind, provenance, in_total FROM "
                        "components WHERE run_id=$1 ORDER BY idx",
                        &p, what)))
    goto dberr;
  for (size_t i = 0; i < s->n_components && (int)i < PQntuples(r); i++) {
    int row = (int)i;
    cidx[i] = (int)gm__pg_get_int(r, row, 0);
    gm__pg_get_text(r, row, 1, s->components[i].name,
                    sizeof(s->components[i].name));
    gm__pg_get_text(r, row, 2, s->components[i].kind,
                    sizeof(s->components[i].kind));
    gm__pg_get_text(r, row, 3, s->components[i].provenance,
                    sizeof(s->components[i].provenance));
    s->components[i].in_total = gm__pg_get_int(r, row, 4) != 0;
  }
  PQclear(r);
  if (!(r = gm__pg_exec(st,
                        "SELECT idx, name, unit FROM metrics WHERE run_id=$1 "
                        "ORDER BY idx",
                        &p, what)))
    goto dberr;
  for (size_t i = 0; i < s->n_metrics && (int)i < PQntuples(r); i++) {
    midx[i] = (int)gm__pg_get_int(r, (int)i, 0);
    gm__pg_get_text(r, (int)i, 1, s->metrics[i].name,
                    sizeof(s->metrics[i].name));
    gm__pg_get_text(r, (int)i, 2, s->metrics[i].unit,
                    sizeof(s->metrics[i].unit));
  }
  PQclear(r);
  r = NULL;
  if (!columns_only) {
    /* samples, ordered by tick: a new seq opens the next row */
    if (!(r = gm__pg_exec(st,
                          "SELECT seq, t_s, component_idx, energy_j, power_w "
                          "FROM samples WHERE run_id=$1 ORDER BY seq, "
                          "component_idx",
                          &p, what)))
      goto dberr;
    long row = -1;
    for (int i = 0; i < PQntuples(r); i++) {
      int64_t seq = gm__pg_get_int(r, i, 0);
      if (row < 0 || s->seq[row] != seq) {
        if ((size_t)(row + 1) >= s->n_rows)
          break;
        row++;
        s->seq[row] = seq;
        s->t_s[row] = gm__pg_get_real(r, i, 1);
      }
      long c = find_idx(cidx, s->n_components, (int)gm__pg_get_int(r, i, 2));
      if (c < 0)
        continue;
      s->energy_j[(size_t)row * nc + (size_t)c] = gm__pg_get_real(r, i, 3);
      s->power_w[(size_t)row * nc + (size_t)c] = gm__pg_get_real(r, i, 4);
    }
    s->n_rows = (size_t)(row + 1);
    PQclear(r);
    r = NULL;
  }
  if (s->n_metrics && s->n_rows) {
    if (!(r = gm__pg_exec(st,
                          "SELECT seq, metric_idx, value FROM metric_samples "
                          "WHERE run_id=$1 ORDER BY seq, metric_idx",
                          &p, what)))
      goto dberr;
    size_t k = 0;
    for (int i = 0; i < PQntuples(r); i++) {
      int64_t seq = gm__pg_get_int(r, i, 0);
      while (k < s->n_rows && s->seq[k] < seq)
        k++;
      if (k == s->n_rows)
        break;
      if (s->seq[k] != seq)
        continue; /* a tick without energy samples */
      long m = find_idx(midx, s->n_metrics, (int)gm__pg_get_int(r, i, 1));
      if (m >= 0)
        s->metric[k * nm + (size_t)m] = gm__pg_get_real(r, i, 2);
    }
  }
  goto out;
dberr:
  rc = GM_ERR_DATABASE;
out:
  PQclear(r);
  end_read(st, began);
  free(cidx);
  free(midx);
  return rc;
}

/* ---- a measured run's phases --------------------------------------------- */

enum gm_status gm__pg_load_run_phases(struct gm_store *st, int64_t run_id,
                                      struct gm_store_run_phases *out) {
  if (!has_tables(st))
    return gm__store_error(st, GM_ERR_NOT_FOUND, "no run %lld",
                           (long long)run_id);
  const char *what = "cannot read the run's phases";
  bool began = begin_read(st);
  enum gm_status rc = GM_OK;
  int *cidx = NULL;
  struct gm__pg_params p = {0};
  gm__pg_int(&p, run_id);
  PGresult *r = gm__pg_exec(st, "SELECT 1 FROM runs WHERE id=$1", &p, what);
  if (!r)
    goto dberr;
  if (PQntuples(r) == 0) {
    rc =
        gm__store_error(st, GM_ERR_NOT_FOUND, "no run %lld", (long long)run_id);
    goto out;
  }
  PQclear(r);
  if (!(r = gm__pg_exec(st,
                        "SELECT idx, name, start_s, duration_s, energy_j, "
                        "net_energy_j, ended_by_stop, total_partial, "
                        "attributed_j, attributed_net_j FROM phases WHERE "
                        "run_id=$1 ORDER BY idx",
                        &p, what)))
    goto dberr;
  int nr = PQntuples(r);
  if (nr && !(out->phases = calloc((size_t)nr, sizeof(*out->phases)))) {
    rc = GM_ERR_NO_MEMORY;
    goto out;
  }
  for (int i = 0; i < nr; i++) {
    struct gm_store_run_phase *ph = &out->phases[out->n++];
    ph->idx = (int)gm__pg_get_int(r, i, 0);
    gm__pg_get_text(r, i, 1, ph->name, sizeof(ph->name));
    ph->start_s = gm__pg_get_real(r, i, 2);
    ph->duration_s = gm__pg_get_real(r, i, 3);
    ph->energy_j = gm__pg_get_real(r, i, 4);
    ph->net_energy_j = gm__pg_get_real(r, i, 5);
    ph->ended_by_stop = gm__pg_get_int(r, i, 6) != 0;
    ph->partial = gm__pg_get_int(r, i, 7) != 0;
    ph->attributed_j = gm__pg_get_real(r, i, 8);
    ph->attributed_net_j = gm__pg_get_real(r, i, 9);
  }
  PQclear(r);
  if (!(r = gm__pg_exec(st,
                        "SELECT idx, name FROM components WHERE run_id=$1 "
                        "ORDER BY idx",
                        &p, what)))
    goto dberr;
  int ncomp = PQntuples(r);
  if (ncomp &&
      (!(out->component = calloc((size_t)ncomp, sizeof(*out->component))) ||
       !(cidx = calloc((size_t)ncomp, sizeof(int))))) {
    rc = GM_ERR_NO_MEMORY;
    goto out;
  }
  for (int i = 0; i < ncomp; i++) {
    cidx[i] = (int)gm__pg_get_int(r, i, 0);
    gm__pg_get_text(r, i, 1, out->component[out->n_components],
                    sizeof(out->component[0]));
    out->n_components++;
  }
  PQclear(r);
  r = NULL;
  size_t cells =
      (out->n ? out->n : 1) * (out->n_components ? out->n_components : 1);
  out->component_energy_j = malloc(cells * sizeof(double));
  out->component_net_energy_j = malloc(cells * sizeof(double));
  if (!out->component_energy_j || !out->component_net_energy_j) {
    rc = GM_ERR_NO_MEMORY;
    goto out;
  }
  for (size_t i = 0; i < cells; i++)
    out->component_energy_j[i] = out->component_net_energy_j[i] = NAN;
  if (!(r = gm__pg_exec(st,
                        "SELECT phase_idx, component_idx, energy_j, "
                        "net_energy_j FROM phase_components WHERE run_id=$1",
                        &p, what)))
    goto dberr;
  for (int i = 0; i < PQntuples(r); i++) {
    int pi = (int)gm__pg_get_int(r, i, 0), ci = (int)gm__pg_get_int(r, i, 1);
    long row = -1, col = find_idx(cidx, out->n_components, ci);
    for (size_t k = 0; k < out->n && row < 0; k++)
      if (out->phases[k].idx == pi)
        row = (long)k;
    if (row < 0 || col < 0)
      continue;
    size_t at = (size_t)row * out->n_components + (size_t)col;
    out->component_energy_j[at] = gm__pg_get_real(r, i, 2);
    out->component_net_energy_j[at] = gm__pg_get_real(r, i, 3);
  }
  goto out;
dberr:
  rc = GM_ERR_DATABASE;
out:
  PQclear(r);
  free(cidx);
  end_read(st, began);
  return rc;
}

/* ---- the study queries --------------------------------------------------- */

enum gm_status gm__pg_bench_flags(struct gm_store *st, int64_t bench_id,
                                  struct gm_bench_flags *out) {
  if (!has_tables(st))
    return gm__store_error(st, GM_ERR_NOT_FOUND, "no bench with id %lld",
                           (long long)bench_id);
  struct gm__pg_params p = {0};
  gm__pg_int(&p, bench_id);
  PGresult *r = gm__pg_exec(st, "SELECT config_json FROM benches WHERE id=$1",
                            &p, "cannot read the bench's flags");
  if (!r)
    return GM_ERR_DATABASE;
  if (PQntuples(r) == 0) {
    PQclear(r);
    return gm__store_error(st, GM_ERR_NOT_FOUND, "no bench with id %lld",
                           (long long)bench_id);
  }
  /* the argv array of the configuration, as SQLite's json_each reads it:
   * strings decoded, other values as their text */
  struct gm__json_value *cfg = NULL;
  const char *text = gm__pg_get_str(r, 0, 0);
  enum gm_status rc = text ? gm__json_parse(text, &cfg) : GM_ERR_PARSE;
  if (rc == GM_ERR_PARSE) {
    rc = gm__store_error(st, GM_ERR_PARSE,
                         "the configuration of bench %lld is not JSON",
                         (long long)bench_id);
  }
  const struct gm__json_value *argv =
      rc == GM_OK ? gm__json_get(cfg, "argv") : NULL;
  size_t n = argv && argv->type == GM__JSON_ARRAY ? argv->n : 0;
  if (n && !(out->flags = calloc(n, sizeof(char *))))
    rc = GM_ERR_NO_MEMORY;
  for (size_t i = 0; i < n && rc == GM_OK; i++) {
    const struct gm__json_value *v = &argv->items[i];
    char buf[4096];
    if (v->type == GM__JSON_STRING)
      gm__strlcpy(buf, v->string, sizeof(buf));
    else
      gm__json_text(v, buf, sizeof(buf));
    if (!(out->flags[out->n] = strdup(buf)))
      rc = GM_ERR_NO_MEMORY;
    else
      out->n++;
  }
  gm__json_free(cfg);
  PQclear(r);
  return rc;
}

enum gm_status gm__pg_bench_work(struct gm_store *st, int64_t bench_id,
                                 struct gm_bench_work **rows, size_t *n) {
  if (!has_tables(st))
    return GM_OK;
  struct gm__pg_params p = {0};
  gm__pg_int(&p, bench_id);
  PGresult *r = gm__pg_exec(
      st,
      "SELECT p.kind, sum(p.samples::float8 * m.macs) FROM bench_phases p "
      "JOIN bench_models m ON m.bench_id = p.bench_id AND m.model = p.model "
      "WHERE p.bench_id=$1 GROUP BY p.kind ORDER BY p.kind COLLATE \"C\"",
      &p, "cannot read the work done");
  if (!r)
    return GM_ERR_DATABASE;
  int nr = PQntuples(r);
  enum gm_status rc = GM_OK;
  if (nr && !(*rows = calloc((size_t)nr, sizeof(**rows))))
    rc = GM_ERR_NO_MEMORY;
  for (int i = 0; i < nr && rc == GM_OK; i++) {
    struct gm_bench_work *w = &(*rows)[(*n)++];
    gm__pg_get_text(r, i, 0, w->kind, sizeof(w->kind));
    w->sample_macs = gm__pg_get_real(r, i, 1);
  }
  PQclear(r);
  return rc;
}

enum gm_status gm__pg_bench_summary(struct gm_store *st, int64_t bench_id,
                                    struct gm_bench_summary_row **rows,
                                    size_t *n) {
  if (!has_tables(st))
    return GM_OK;
  struct gm__pg_params p = {0};
  gm__pg_int(&p, bench_id);
  PGresult *r = gm__pg_exec(
      st,
      "SELECT model, batch_size, kind, count(*), avg(duration_s), "
      "avg(energy_j), avg(net_energy_j), avg(j_per_sample), "
      "avg(samples_per_s), string_agg(DISTINCT provenance, ','), precision "
      "FROM bench_phases WHERE bench_id=$1 AND metered=1 GROUP BY model, "
      "batch_size, precision, kind ORDER BY min(ord)",
      &p, "cannot read the summary");
  if (!r)
    return GM_ERR_DATABASE;
  int nr = PQntuples(r);
  enum gm_status rc = GM_OK;
  if (nr && !(*rows = calloc((size_t)nr, sizeof(**rows))))
    rc = GM_ERR_NO_MEMORY;
  for (int i = 0; i < nr && rc == GM_OK; i++) {
    struct gm_bench_summary_row *s = &(*rows)[(*n)++];
    gm__pg_get_text(r, i, 0, s->model, sizeof(s->model));
    s->batch_size = (int)gm__pg_get_int(r, i, 1);
    gm__pg_get_text(r, i, 2, s->kind, sizeof(s->kind));
    s->phases = (int)gm__pg_get_int(r, i, 3);
    s->duration_s = gm__pg_get_real(r, i, 4);
    s->energy_j = gm__pg_get_real(r, i, 5);
    s->net_energy_j = gm__pg_get_real(r, i, 6);
    s->j_per_sample = gm__pg_get_real(r, i, 7);
    s->samples_per_s = gm__pg_get_real(r, i, 8);
    gm__pg_get_text(r, i, 9, s->provenance, sizeof(s->provenance));
    gm__pg_get_text(r, i, 10, s->precision, sizeof(s->precision));
  }
  PQclear(r);
  return rc;
}

enum gm_status gm__pg_bench_overhead(struct gm_store *st, int64_t bench_id,
                                     struct gm_bench_overhead_row **rows,
                                     size_t *n) {
  if (!has_tables(st))
    return GM_OK;
  struct gm__pg_params p = {0};
  gm__pg_int(&p, bench_id);
  PGresult *r = gm__pg_exec(
      st,
      "SELECT u.kind, sum(u.duration_s), sum(m.duration_s), count(*) FROM "
      "bench_phases u JOIN bench_phases m ON u.bench_id=m.bench_id AND "
      "u.model=m.model AND u.batch_size=m.batch_size AND "
      "u.precision=m.precision AND u.kind=m.kind AND u.epoch=m.epoch AND "
      "u.metered=0 AND m.metered=1 WHERE u.bench_id=$1 "
      "GROUP BY u.kind ORDER BY u.kind COLLATE \"C\" DESC",
      &p, "cannot read the overhead");
  if (!r)
    return GM_ERR_DATABASE;
  int nr = PQntuples(r);
  enum gm_status rc = GM_OK;
  if (nr && !(*rows = calloc((size_t)nr, sizeof(**rows))))
    rc = GM_ERR_NO_MEMORY;
  for (int i = 0; i < nr && rc == GM_OK; i++) {
    struct gm_bench_overhead_row *o = &(*rows)[(*n)++];
    gm__pg_get_text(r, i, 0, o->kind, sizeof(o->kind));
    o->unmetered_s = gm__pg_get_real(r, i, 1);
    o->metered_s = gm__pg_get_real(r, i, 2);
    o->phases = (int)gm__pg_get_int(r, i, 3);
  }
  PQclear(r);
  return rc;
}

/* writes.c: the PostgreSQL store's writes: hosts, runs and their samples,
 * idle baselines, the study runner's rows. A write of several statements
 * is one transaction, rolled back whole when one fails. A batch of samples
 * goes in two prepared statements (one per table) that insert arrays of
 * values with unnest: one round trip per table and batch. Rows that the
 * SQLite store writes with INSERT OR REPLACE are upserts here (ON
 * CONFLICT ... DO UPDATE), and the bench rows' insertion order (ord) is
 * renewed when they are replaced, as SQLite's rowid is. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "greenml/version.h"
#include "store/postgres/pg.h"

#define INS_SAMPLES "gm_ins_samples"
#define INS_METRICS "gm_ins_metrics"

enum gm_status gm__pg_prepare(struct gm_store *st) {
  struct gm__pg *q = gm__pg(st);
  const char *what = "cannot prepare statements";
  PGresult *r = PQprepare(
      q->conn, INS_SAMPLES,
      "INSERT INTO samples(run_id, seq, component_idx, t_s, energy_j, "
      "power_w) SELECT * FROM unnest($1::bigint[], $2::bigint[], "
      "$3::bigint[], $4::float8[], $5::float8[], $6::float8[]) "
      "ON CONFLICT (run_id, seq, component_idx) DO UPDATE SET "
      "t_s = EXCLUDED.t_s, energy_j = EXCLUDED.energy_j, "
      "power_w = EXCLUDED.power_w",
      6, NULL);
  if (!r || PQresultStatus(r) != PGRES_COMMAND_OK) {
    gm__pg_fail(st, what, r);
    PQclear(r);
    return GM_ERR_DATABASE;
  }
  PQclear(r);
  r = PQprepare(q->conn, INS_METRICS,
                "INSERT INTO metric_samples(run_id, seq, metric_idx, value) "
                "SELECT * FROM unnest($1::bigint[], $2::bigint[], "
                "$3::bigint[], $4::float8[]) ON CONFLICT (run_id, seq, "
                "metric_idx) DO UPDATE SET value = EXCLUDED.value",
                4, NULL);
  if (!r || PQresultStatus(r) != PGRES_COMMAND_OK) {
    gm__pg_fail(st, what, r);
    PQclear(r);
    return GM_ERR_DATABASE;
  }
  PQclear(r);
  q->prepared = true;
  return GM_OK;
}

/* Runs a statement that returns nothing; GM_OK or GM_ERR_DATABASE. */
static enum gm_status run(struct gm_store *st, const char *sql,
                          const struct gm__pg_params *p, const char *what) {
  PGresult *r = gm__pg_exec(st, sql, p, what);
  PQclear(r);
  return r ? GM_OK : GM_ERR_DATABASE;
}

/* Runs an INSERT ... RETURNING id into *id. */
static enum gm_status insert_id(struct gm_store *st, const char *sql,
                                const struct gm__pg_params *p, const char *what,
                                int64_t *id) {
  PGresult *r = gm__pg_exec(st, sql, p, what);
  if (!r)
    return GM_ERR_DATABASE;
  if (PQntuples(r) != 1) {
    PQclear(r);
    return gm__store_error(st, GM_ERR_DATABASE, "%s: no id returned", what);
  }
  *id = gm__pg_get_int(r, 0, 0);
  PQclear(r);
  return GM_OK;
}

static enum gm_status begin(struct gm_store *st, const char *what) {
  return gm__pg_cmd(st, "BEGIN", what);
}

/* Commits; on failure rolls back and returns what failed. */
static enum gm_status commit(struct gm_store *st, const char *what) {
  enum gm_status rc = gm__pg_cmd(st, "COMMIT", what);
  if (rc != GM_OK)
    gm__pg_rollback(st);
  return rc;
}

static enum gm_status abort_tx(struct gm_store *st) {
  gm__pg_rollback(st);
  return GM_ERR_DATABASE;
}

enum gm_status gm__pg_put_host(struct gm_store *st, const struct gm_host *h,
                               int64_t *host_id) {
  char now[32];
  gm__pg_utc_now(now, sizeof(now));
  struct gm__pg_params p = {0};
  gm__pg_text(&p, h->fingerprint);
  gm__pg_text(&p, h->hostname);
  gm__pg_text(&p, h->cpu_model);
  gm__pg_int(&p, h->logical_cpus);
  gm__pg_int(&p, h->sockets);
  gm__pg_real(&p, h->mem_total_bytes);
  gm__pg_text(&p, h->dimms_json);
  gm__pg_text(&p, h->gpus_json);
  gm__pg_text(&p, h->kernel);
  gm__pg_int(&p, h->virtualised);
  gm__pg_text(&p, h->virt_detail);
  gm__pg_text(&p, now);
  gm__pg_text(&p, now);
  return insert_id(
      st,
      "INSERT INTO hosts(fingerprint, hostname, cpu_model, logical_cpus, "
      "sockets, mem_total_bytes, dimms_json, gpus_json, kernel, virtualised, "
      "virt_detail, first_seen, last_seen) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,"
      "$9,$10,$11,$12,$13) ON CONFLICT (fingerprint) DO UPDATE SET "
      "dimms_json = EXCLUDED.dimms_json, gpus_json = EXCLUDED.gpus_json, "
      "kernel = EXCLUDED.kernel, virtualised = EXCLUDED.virtualised, "
      "virt_detail = EXCLUDED.virt_detail, last_seen = EXCLUDED.last_seen "
      "RETURNING id",
      &p, "cannot store the host", host_id);
}

enum gm_status
gm__pg_begin_run(struct gm_store *st, int64_t host_id,
                 const struct gm_run_meta *meta, size_t n_components,
                 const struct gm_component_info *components, size_t n_metrics,
                 const struct gm_metric_info *metrics, int64_t *run_id) {
  const char *what = "cannot record the run";
  char now[32];
  gm__pg_utc_now(now, sizeof(now));
  if (begin(st, what) != GM_OK)
    return GM_ERR_DATABASE;
  struct gm__pg_params p = {0};
  gm__pg_int(&p, host_id);
  gm__pg_text(&p, meta->kind ? meta->kind : "measure");
  gm__pg_text(&p, now);
  gm__pg_text(&p, meta->command);
  gm__pg_text(&p, meta->tags_json);
  gm__pg_dbl(&p, meta->interval_s);
  gm__pg_text(&p, GM_VERSION_STRING);
  gm__pg_real(&p, meta->carbon_g_per_kwh);
  gm__pg_text(&p, meta->carbon_source);
  gm__pg_real(&p, meta->pue);
  gm__pg_id(&p, meta->idle_baseline_id);
  if (insert_id(st,
                "INSERT INTO runs(host_id, kind, started_at, command, "
                "tags_json, interval_s, greenml_version, carbon_g_per_kwh, "
                "carbon_source, pue, idle_baseline_id) VALUES ($1,$2,$3,$4,"
                "$5,$6,$7,$8,$9,$10,$11) RETURNING id",
                &p, what, run_id) != GM_OK)
    return abort_tx(st);
  for (size_t i = 0; i < n_components; i++) {
    const struct gm_component_info *ci = &components[i];
    p.n = 0;
    gm__pg_int(&p, *run_id);
    gm__pg_int(&p, (int64_t)i);
    gm__pg_text(&p, ci->name);
    gm__pg_text(&p, gm_kind_name(ci->kind));
    gm__pg_text(&p, gm_domain_name(ci->domain));
    gm__pg_text(&p, ci->source);
    gm__pg_text(&p, ci->detail);
    gm__pg_text(&p, gm_provenance_name(ci->provenance));
    gm__pg_text(&p, gm_provenance_detail(ci->provenance));
    gm__pg_int(&p, ci->in_total);
    if (run(st,
            "INSERT INTO components(run_id, idx, name, kind, domain, source, "
            "detail, provenance, signal, in_total) VALUES ($1,$2,$3,$4,$5,$6,"
            "$7,$8,$9,$10)",
            &p, what) != GM_OK)
      return abort_tx(st);
  }
  for (size_t i = 0; i < n_metrics; i++) {
    const struct gm_metric_info *mi = &metrics[i];
    p.n = 0;
    gm__pg_int(&p, *run_id);
    gm__pg_int(&p, (int64_t)i);
    gm__pg_text(&p, mi->name);
    gm__pg_text(&p, mi->unit);
    gm__pg_text(&p, mi->source);
    if (run(st,
            "INSERT INTO metrics(run_id, idx, name, unit, source) VALUES "
            "($1,$2,$3,$4,$5)",
            &p, what) != GM_OK)
      return abort_tx(st);
  }
  return commit(st, what);
}

/* ---- samples ------------------------------------------------------------- */

/* A growing text: an array literal of PostgreSQL ("{1,2,NULL}"). */
struct arr {
  char *s;
  size_t len, cap;
  bool oom;
};

static void arr_put(struct arr *a, const char *v) {
  size_t n = strlen(v);
  if (a->oom)
    return;
  if (a->len + n + 3 > a->cap) {
    size_t c = a->cap ? a->cap : 4096;
    while (a->len + n + 3 > c)
      c *= 2;
    char *p = realloc(a->s, c);
    if (!p) {
      a->oom = true;
      return;
    }
    a->s = p;
    a->cap = c;
  }
  char sep = a->len ? ',' : '{';
  a->s[a->len++] = sep;
  memcpy(a->s + a->len, v, n);
  a->len += n;
  a->s[a->len] = '\0';
}

static void arr_int(struct arr *a, int64_t v) {
  char b[32];
  snprintf(b, sizeof(b), "%lld", (long long)v);
  arr_put(a, b);
}

/* NULL when NAN (nan_null) or not finite (the SQLite store's binds). */
static void arr_dbl(struct arr *a, double v, bool finite_only) {
  char b[40];
  if (isnan(v) || (finite_only && !isfinite(v))) {
    arr_put(a, "NULL");
    return;
  }
  gm__pg_fmt_double(b, sizeof(b), v);
  arr_put(a, b);
}

/* The closed literal ("{}" when empty). */
static const char *arr_end(struct arr *a) {
  if (a->oom)
    return NULL;
  if (a->len + 3 > a->cap) {
    char *p = realloc(a->s, a->len + 3);
    if (!p)
      return NULL;
    a->s = p;
    a->cap = a->len + 3;
  }
  if (!a->len)
    a->s[a->len++] = '{';
  a->s[a->len++] = '}';
  a->s[a->len] = '\0';
  return a->s;
}

/* Executes a prepared insert of n array parameters. */
static enum gm_status exec_prepared(struct gm_store *st, const char *name,
                                    struct arr *cols, int n, const char *what) {
  const char *v[6];
  for (int i = 0; i < n; i++)
    if (!(v[i] = arr_end(&cols[i])))
      return GM_ERR_NO_MEMORY;
  PGresult *r = PQexecPrepared(gm__pg_conn(st), name, n, v, NULL, NULL, 0);
  enum gm_status rc = GM_OK;
  if (!r || PQresultStatus(r) != PGRES_COMMAND_OK)
    rc = gm__pg_fail(st, what, r);
  PQclear(r);
  return rc;
}

enum gm_status gm__pg_write_samples(struct gm_store *st, size_t n,
                                    struct gm__store_sample *const *samples,
                                    double wait_s, bool *locked) {
  const char *what = "cannot store samples";
  *locked = false;
  struct arr c[6], m[4];
  memset(c, 0, sizeof(c));
  memset(m, 0, sizeof(m));
  size_t n_metric_rows = 0;
  for (size_t i = 0; i < n; i++) {
    const struct gm__store_sample *p = samples[i];
    const struct gm_sample *smp = &p->s;
    double t_s = (double)smp->t_ns / 1e9;
    for (size_t k = 0; k < smp->n_components; k++) {
      arr_int(&c[0], p->run_id);
      arr_int(&c[1], (int64_t)smp->seq);
      arr_int(&c[2], (int64_t)k);
      arr_dbl(&c[3], t_s, false);
      arr_dbl(&c[4], smp->energy_j[k], false);
      arr_dbl(&c[5], smp->seq == 0 ? NAN : smp->power_w[k], true);
    }
    for (size_t k = 0; k < smp->n_metrics; k++) {
      if (isnan(smp->metrics[k]))
        continue; /* unavailable this tick: no row */
      arr_int(&m[0], p->run_id);
      arr_int(&m[1], (int64_t)smp->seq);
      arr_int(&m[2], (int64_t)k);
      arr_dbl(&m[3], smp->metrics[k], false);
      n_metric_rows++;
    }
  }
  enum gm_status rc = GM_OK;
  char sql[96];
  long ms = (long)(wait_s * 1000 + 0.5);
  snprintf(sql, sizeof(sql), "BEGIN; SET LOCAL lock_timeout = %ld",
           ms > 0 ? ms : 1);
  if ((rc = gm__pg_cmd(st, sql, what)) == GM_OK &&
      (rc = exec_prepared(st, INS_SAMPLES, c, 6, what)) == GM_OK &&
      (n_metric_rows == 0 ||
       (rc = exec_prepared(st, INS_METRICS, m, 4, what)) == GM_OK))
    rc = gm__pg_cmd(st, "COMMIT", what);
  if (rc != GM_OK) {
    *locked = st->last_locked;
    gm__pg_rollback(st);
  }
  for (int i = 0; i < 6; i++)
    free(c[i].s);
  for (int i = 0; i < 4; i++)
    free(m[i].s);
  return rc;
}

/* What a run's row says about its samples: complete, cause, time, count. */
static void put_loss(struct gm__pg_params *p,
                     const struct gm__store_loss *loss) {
  gm__pg_int(p, loss == NULL);
  gm__pg_text(p, loss ? loss->cause : NULL);
  gm__pg_real(p, loss ? loss->stored_until_s : NAN);
  gm__pg_int(p, loss ? (int64_t)loss->lost : 0);
}

enum gm_status gm__pg_mark_incomplete(struct gm_store *st, int64_t run_id,
                                      const struct gm__store_loss *loss) {
  struct gm__pg_params p = {0};
  put_loss(&p, loss);
  gm__pg_int(&p, run_id);
  return run(st,
             "UPDATE runs SET complete=$1, incomplete_cause=$2, "
             "stored_until_s=$3, lost_samples=$4 WHERE id=$5",
             &p, "cannot mark the run incomplete");
}

/* The command's share of the run's energy. */
static enum gm_status write_attribution(struct gm_store *st, int64_t run_id,
                                        const struct gm_run_record *rec,
                                        const char *what) {
  const struct gm_run_attribution *a = &rec->attribution;
  struct gm__pg_params p = {0};
  gm__pg_text(&p, a->subject);
  gm__pg_dbl(&p, a->energy_j);
  gm__pg_real(&p, a->net_j);
  gm__pg_text(&p, a->provenance);
  gm__pg_int(&p, a->partial);
  gm__pg_int(&p, run_id);
  if (run(st,
          "UPDATE runs SET attributed_to=$1, attributed_j=$2, "
          "attributed_net_j=$3, attributed_provenance=$4, "
          "attributed_partial=$5 WHERE id=$6",
          &p, what) != GM_OK)
    return GM_ERR_DATABASE;
  for (size_t i = 0; i < rec->n_components; i++) {
    const struct gm_run_component *c = &rec->components[i];
    p.n = 0;
    gm__pg_dbl(&p, c->attr.energy_j);
    gm__pg_real(&p, c->attr_net_j);
    gm__pg_dbl(&p, c->attr.share_s);
    gm__pg_dbl(&p, c->attr.unknown_j);
    gm__pg_text(&p, gm_attrib_method_name(c->attr.method));
    gm__pg_int(&p, run_id);
    gm__pg_int(&p, (int64_t)i);
    if (run(st,
            "UPDATE components SET attributed_j=$1, attributed_net_j=$2, "
            "attributed_share_s=$3, attributed_unknown_j=$4, "
            "attributed_method=$5 WHERE run_id=$6 AND idx=$7",
            &p, what) != GM_OK)
      return GM_ERR_DATABASE;
  }
  for (size_t k = 0; k < rec->n_phases; k++) {
    const struct gm_run_phase *ph = &rec->phases[k];
    if (!ph->attributed_j)
      continue;
    p.n = 0;
    gm__pg_dbl(&p, ph->attributed_total_j);
    gm__pg_real(&p, ph->attributed_total_net_j);
    gm__pg_int(&p, run_id);
    gm__pg_int(&p, (int64_t)k);
    if (run(st,
            "UPDATE phases SET attributed_j=$1, attributed_net_j=$2 WHERE "
            "run_id=$3 AND idx=$4",
            &p, what) != GM_OK)
      return GM_ERR_DATABASE;
  }
  return GM_OK;
}

enum gm_status gm__pg_finish_run(struct gm_store *st, int64_t run_id,
                                 const struct gm_run_result *res,
                                 const struct gm_run_record *rec,
                                 const struct gm__store_loss *loss) {
  const char *what = "cannot finish the run";
  if (begin(st, what) != GM_OK)
    return GM_ERR_DATABASE;
  struct gm__pg_params p = {0};
  size_t nc = rec->n_components;
  for (size_t i = 0; i < nc; i++) {
    const struct gm_component_stats cs = rec->components[i].stats;
    const struct gm_component_info *ci = &rec->components[i].info;
    p.n = 0;
    gm__pg_dbl(&p, cs.energy_j);
    gm__pg_real(&p, rec->components[i].net_energy_j);
    gm__pg_dbl(&p, cs.avg_power_w);
    gm__pg_dbl(&p, cs.peak_power_w);
    gm__pg_real(&p, rec->components[i].idle_w);
    gm__pg_real(&p, cs.power_energy_j >= 0 ? cs.power_energy_j : NAN);
    gm__pg_real(&p, cs.xcheck_rel >= 0 ? cs.xcheck_rel : NAN);
    gm__pg_int(&p, (int64_t)cs.wraps);
    gm__pg_int(&p, (int64_t)cs.resets);
    gm__pg_int(&p, (int64_t)cs.read_errors);
    gm__pg_int(&p, (int64_t)cs.glitches);
    gm__pg_real(&p, ci->max_power_w > 0 ? ci->max_power_w : NAN);
    gm__pg_text(&p, ci->max_power_origin);
    gm__pg_real(&p, cs.counter_stopped ? cs.counter_stopped_at_s : NAN);
    gm__pg_real(&p, cs.lost ? cs.lost_at_s : NAN);
    gm__pg_int(&p, run_id);
    gm__pg_int(&p, (int64_t)i);
    if (run(st,
            "UPDATE components SET energy_j=$1, net_energy_j=$2, "
            "avg_power_w=$3, peak_power_w=$4, idle_power_w=$5, "
            "power_energy_j=$6, xcheck_rel=$7, wraps=$8, resets=$9, "
            "read_errors=$10, glitches=$11, max_power_w=$12, "
            "max_power_origin=$13, counter_stopped_at_s=$14, lost_at_s=$15 "
            "WHERE run_id=$16 AND idx=$17",
            &p, what) != GM_OK)
      return abort_tx(st);
  }
  for (size_t k = 0; k < rec->n_metrics; k++) {
    p.n = 0;
    gm__pg_real(&p, rec->metrics[k].mean);
    gm__pg_real(&p, rec->metrics[k].max);
    gm__pg_int(&p, run_id);
    gm__pg_int(&p, (int64_t)k);
    if (run(st, "UPDATE metrics SET mean=$1, max=$2 WHERE run_id=$3 AND idx=$4",
            &p, what) != GM_OK)
      return abort_tx(st);
  }
  for (size_t k = 0; k < rec->n_phases; k++) {
    const struct gm_run_phase *ph = &rec->phases[k];
    for (size_t c = 0; c < nc; c++) {
      p.n = 0;
      gm__pg_int(&p, run_id);
      gm__pg_int(&p, (int64_t)k);
      gm__pg_int(&p, (int64_t)c);
      gm__pg_dbl(&p, ph->energy_j[c]);
      gm__pg_real(&p, ph->net_energy_j[c]);
      if (run(st,
              "INSERT INTO phase_components(run_id, phase_idx, "
              "component_idx, energy_j, net_energy_j) VALUES ($1,$2,$3,$4,"
              "$5) ON CONFLICT (run_id, phase_idx, component_idx) DO UPDATE "
              "SET energy_j = EXCLUDED.energy_j, net_energy_j = "
              "EXCLUDED.net_energy_j",
              &p, what) != GM_OK)
        return abort_tx(st);
    }
    p.n = 0;
    gm__pg_int(&p, run_id);
    gm__pg_int(&p, (int64_t)k);
    gm__pg_text(&p, ph->name);
    gm__pg_dbl(&p, ph->start_s);
    gm__pg_dbl(&p, ph->duration_s);
    gm__pg_dbl(&p, ph->total.gross_j);
    gm__pg_real(&p, ph->total.net_j);
    gm__pg_int(&p, ph->ended_by_stop);
    gm__pg_int(&p, ph->total.partial);
    if (run(st,
            "INSERT INTO phases(run_id, idx, name, start_s, duration_s, "
            "energy_j, net_energy_j, ended_by_stop, total_partial) VALUES "
            "($1,$2,$3,$4,$5,$6,$7,$8,$9) ON CONFLICT (run_id, idx) DO "
            "UPDATE SET name = EXCLUDED.name, start_s = EXCLUDED.start_s, "
            "duration_s = EXCLUDED.duration_s, energy_j = EXCLUDED.energy_j, "
            "net_energy_j = EXCLUDED.net_energy_j, ended_by_stop = "
            "EXCLUDED.ended_by_stop, total_partial = EXCLUDED.total_partial, "
            "attributed_j = NULL, attributed_net_j = NULL",
            &p, what) != GM_OK)
      return abort_tx(st);
  }
  p.n = 0;
  gm__pg_int(&p, res->exit_code);
  gm__pg_dbl(&p, rec->duration_s);
  gm__pg_dbl(&p, rec->total.gross_j);
  gm__pg_real(&p, rec->total.net_j);
  gm__pg_real(&p, res->carbon_g);
  gm__pg_dbl(&p, rec->meter_cpu_s);
  gm__pg_int(&p, (int64_t)rec->dropped_samples);
  put_loss(&p, loss);
  gm__pg_int(&p, rec->total.partial);
  gm__pg_text(&p, rec->partial_why[0] ? rec->partial_why : NULL);
  gm__pg_int(&p, run_id);
  if (run(st,
          "UPDATE runs SET exit_code=$1, duration_s=$2, total_energy_j=$3, "
          "total_net_energy_j=$4, carbon_g=$5, sampler_cpu_s=$6, "
          "dropped_samples=$7, complete=$8, incomplete_cause=$9, "
          "stored_until_s=$10, lost_samples=$11, total_partial=$12, "
          "partial_why=$13 WHERE id=$14",
          &p, what) != GM_OK)
    return abort_tx(st);
  if (rec->attributed && write_attribution(st, run_id, rec, what) != GM_OK)
    return abort_tx(st);
  for (size_t i = 0; i < rec->n_missing; i++) {
    const struct gm_missing *x = &rec->missing[i];
    p.n = 0;
    gm__pg_int(&p, run_id);
    gm__pg_int(&p, (int64_t)i);
    gm__pg_text(&p, x->name);
    gm__pg_text(&p, x->source[0] ? x->source : NULL);
    gm__pg_text(&p, gm_kind_name(x->kind));
    gm__pg_int(&p, x->in_total);
    gm__pg_text(&p, x->reason);
    if (run(st,
            "INSERT INTO run_missing(run_id, idx, name, source, kind, "
            "in_total, reason) VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT "
            "(run_id, idx) DO UPDATE SET name = EXCLUDED.name, source = "
            "EXCLUDED.source, kind = EXCLUDED.kind, in_total = "
            "EXCLUDED.in_total, reason = EXCLUDED.reason",
            &p, what) != GM_OK)
      return abort_tx(st);
  }
  return commit(st, what);
}

/* ---- idle baselines ------------------------------------------------------ */

enum gm_status gm__pg_save_idle(struct gm_store *st, int64_t host_id,
                                int64_t run_id,
                                const struct gm_idle_baseline *b,
                                int64_t *baseline_id) {
  const char *what = "cannot store the baseline";
  char now[32];
  gm__pg_utc_now(now, sizeof(now));
  if (begin(st, what) != GM_OK)
    return GM_ERR_DATABASE;
  struct gm__pg_params p = {0};
  gm__pg_int(&p, host_id);
  gm__pg_id(&p, run_id);
  gm__pg_text(&p, now);
  gm__pg_dbl(&p, b->duration_s);
  gm__pg_real(&p, b->interval_s);
  gm__pg_real(&p, b->cpu_tdp_w);
  gm__pg_real(&p, b->dimm_capacitance_f);
  gm__pg_real(&p, b->cpu_util_pct);
  gm__pg_int(&p, b->busy ? 1 : 0);
  if (insert_id(st,
                "INSERT INTO idle_baselines(host_id, run_id, measured_at, "
                "duration_s, interval_s, cpu_tdp_w, dimm_capacitance_f, "
                "cpu_util_pct, busy) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) "
                "RETURNING id",
                &p, what, baseline_id) != GM_OK)
    return abort_tx(st);
  for (size_t i = 0; i < b->n; i++) {
    const struct gm_idle_entry *e = &b->entries[i];
    p.n = 0;
    gm__pg_int(&p, *baseline_id);
    gm__pg_text(&p, e->name);
    gm__pg_text(&p, e->source);
    gm__pg_dbl(&p, e->mean_power_w);
    gm__pg_dbl(&p, e->sd_power_w);
    gm__pg_int(&p, (int64_t)e->n_intervals);
    gm__pg_text(&p, e->detail[0] ? e->detail : NULL);
    if (run(st,
            "INSERT INTO idle_components(baseline_id, name, source, "
            "mean_power_w, sd_power_w, n_intervals, detail) VALUES ($1,$2,"
            "$3,$4,$5,$6,$7)",
            &p, what) != GM_OK)
      return abort_tx(st);
  }
  return commit(st, what);
}

/* ---- the study runner's rows --------------------------------------------- */

static double per(double a, double b) { return b > 0 ? a / b : NAN; }

enum gm_status gm__pg_bench_create(struct gm_store *st, int64_t host_id,
                                   const struct gm_bench_meta *meta,
                                   int64_t *bench_id) {
  char now[32];
  gm__pg_utc_now(now, sizeof(now));
  struct gm__pg_params p = {0};
  gm__pg_text(&p, meta->name);
  gm__pg_int(&p, host_id);
  gm__pg_text(&p, now);
  gm__pg_text(&p, now);
  gm__pg_text(&p, meta->config_json);
  gm__pg_text(&p, meta->versions_json);
  gm__pg_text(&p, meta->host_json);
  gm__pg_id(&p, meta->idle_baseline_id);
  return insert_id(st,
                   "INSERT INTO benches(name, host_id, created_at, "
                   "updated_at, status, config_json, versions_json, "
                   "host_json, idle_baseline_id) VALUES ($1,$2,$3,$4,"
                   "'running',$5,$6,$7,$8) RETURNING id",
                   &p, "cannot record the bench", bench_id);
}

enum gm_status gm__pg_bench_update(struct gm_store *st, int64_t bench_id,
                                   const char *status, int64_t baseline_id) {
  char now[32];
  gm__pg_utc_now(now, sizeof(now));
  struct gm__pg_params p = {0};
  if (status)
    gm__pg_text(&p, status);
  else
    gm__pg_id(&p, baseline_id);
  gm__pg_text(&p, now);
  gm__pg_int(&p, bench_id);
  return run(st,
             status ? "UPDATE benches SET status=$1, updated_at=$2 WHERE id=$3"
                    : "UPDATE benches SET idle_baseline_id=$1, updated_at=$2 "
                      "WHERE id=$3",
             &p, "cannot update the bench");
}

enum gm_status gm__pg_bench_put_model(struct gm_store *st, int64_t bench_id,
                                      const struct gm_bench_model *m) {
  struct gm__pg_params p = {0};
  gm__pg_int(&p, bench_id);
  gm__pg_text(&p, m->model);
  gm__pg_int(&p, m->params);
  gm__pg_int(&p, m->trainable_params);
  gm__pg_int(&p, m->param_bytes);
  gm__pg_int(&p, m->buffer_bytes);
  gm__pg_int(&p, m->size_bytes);
  gm__pg_int(&p, m->macs);
  gm__pg_real(&p, m->macs_per_param);
  return run(st,
             "INSERT INTO bench_models(bench_id, model, params, "
             "trainable_params, param_bytes, buffer_bytes, size_bytes, macs, "
             "macs_per_param) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) ON "
             "CONFLICT (bench_id, model) DO UPDATE SET params = "
             "EXCLUDED.params, trainable_params = EXCLUDED.trainable_params, "
             "param_bytes = EXCLUDED.param_bytes, buffer_bytes = "
             "EXCLUDED.buffer_bytes, size_bytes = EXCLUDED.size_bytes, macs = "
             "EXCLUDED.macs, macs_per_param = EXCLUDED.macs_per_param, ord = "
             "DEFAULT",
             &p, "cannot record the model");
}

/* The key columns of a bench phase, $1 to $6. */
static void phase_key(struct gm__pg_params *p, int64_t bench_id,
                      const struct gm_bench_phase *ph) {
  gm__pg_int(p, bench_id);
  gm__pg_text(p, ph->model);
  gm__pg_int(p, ph->batch_size);
  gm__pg_text(p, ph->kind);
  gm__pg_int(p, ph->epoch);
  gm__pg_int(p, ph->metered);
}

enum gm_status gm__pg_bench_add_phase(struct gm_store *st, int64_t bench_id,
                                      const struct gm_bench_phase *ph) {
  const char *what = "cannot record the phase";
  char now[32];
  gm__pg_utc_now(now, sizeof(now));
  if (begin(st, what) != GM_OK)
    return GM_ERR_DATABASE;
  struct gm__pg_params p = {0};
  phase_key(&p, bench_id, ph);
  gm__pg_id(&p, ph->run_id);
  if (ph->run_id > 0)
    gm__pg_int(&p, ph->phase_idx);
  else
    gm__pg_text(&p, NULL);
  gm__pg_text(&p, now);
  gm__pg_real(&p, ph->start_s);
  gm__pg_dbl(&p, ph->duration_s);
  gm__pg_int(&p, ph->steps);
  gm__pg_int(&p, ph->samples);
  gm__pg_real(&p, per(ph->duration_s, (double)ph->steps));
  gm__pg_real(&p, per((double)ph->samples, ph->duration_s));
  gm__pg_real(&p, ph->loss);
  gm__pg_real(&p, ph->accuracy);
  gm__pg_real(&p, ph->lr);
  gm__pg_real(&p, ph->energy_j);
  gm__pg_real(&p, ph->net_energy_j);
  gm__pg_real(&p, per(ph->energy_j, (double)ph->samples));
  gm__pg_real(&p, per(ph->net_energy_j, (double)ph->samples));
  gm__pg_real(&p, ph->avg_power_w);
  gm__pg_real(&p, ph->peak_power_w);
  gm__pg_text(&p, ph->provenance);
  gm__pg_real(&p, ph->cpu_util_pct);
  gm__pg_real(&p, ph->dram_used_bytes);
  gm__pg_real(&p, ph->gpu_util_pct);
  gm__pg_real(&p, ph->vram_used_bytes);
  gm__pg_text(&p, ph->tags_json);
  gm__pg_text(&p, gm__store_precision(ph->precision));
  if (run(st,
          "INSERT INTO bench_phases(bench_id, model, batch_size, kind, epoch, "
          "metered, run_id, phase_idx, ended_at, start_s, duration_s, steps, "
          "samples, step_time_s, samples_per_s, loss, accuracy, lr, "
          "energy_j, net_energy_j, j_per_sample, net_j_per_sample, "
          "avg_power_w, peak_power_w, provenance, cpu_util_pct, "
          "dram_used_bytes, gpu_util_pct, vram_used_bytes, tags_json, "
          "precision) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,"
          "$15,$16,$17,$18,$19,$20,$21,$22,$23,$24,$25,$26,$27,$28,$29,$30,"
          "$31)",
          &p, what) != GM_OK)
    return abort_tx(st);
  for (size_t c = 0; c < ph->n_components; c++) {
    const struct gm_bench_component *bc = &ph->components[c];
    p.n = 0;
    phase_key(&p, bench_id, ph);
    gm__pg_text(&p, bc->name);
    gm__pg_text(&p, bc->kind);
    gm__pg_text(&p, bc->provenance);
    gm__pg_int(&p, bc->in_total);
    gm__pg_real(&p, bc->energy_j);
    gm__pg_real(&p, bc->net_energy_j);
    gm__pg_real(&p, bc->avg_power_w);
    gm__pg_real(&p, bc->peak_power_w);
    gm__pg_text(&p, gm__store_precision(ph->precision));
    if (run(st,
            "INSERT INTO bench_phase_components(bench_id, model, batch_size, "
            "kind, epoch, metered, component, component_kind, provenance, "
            "in_total, energy_j, net_energy_j, avg_power_w, peak_power_w, "
            "precision) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,"
            "$14,$15)",
            &p, what) != GM_OK)
      return abort_tx(st);
  }
  return commit(st, what);
}

enum gm_status
gm__pg_bench_put_prediction(struct gm_store *st, int64_t bench_id,
                            const struct gm_bench_prediction *pr) {
  char now[32];
  gm__pg_utc_now(now, sizeof(now));
  struct gm__pg_params p = {0};
  gm__pg_int(&p, bench_id);
  gm__pg_text(&p, pr->model);
  gm__pg_int(&p, pr->batch_size);
  gm__pg_text(&p, pr->kind);
  gm__pg_text(&p, now);
  gm__pg_real(&p, pr->profile_epochs);
  gm__pg_int(&p, pr->profile_steps);
  gm__pg_int(&p, pr->target_steps);
  gm__pg_int(&p, pr->target_samples);
  gm__pg_real(&p, pr->level);
  gm__pg_real(&p, pr->duration_s);
  gm__pg_real(&p, pr->duration_lo_s);
  gm__pg_real(&p, pr->duration_hi_s);
  gm__pg_real(&p, pr->energy_j);
  gm__pg_real(&p, pr->energy_lo_j);
  gm__pg_real(&p, pr->energy_hi_j);
  gm__pg_real(&p, pr->net_energy_j);
  gm__pg_text(&p, pr->provenance);
  gm__pg_real(&p, pr->actual_duration_s);
  gm__pg_real(&p, pr->actual_energy_j);
  gm__pg_real(
      &p, per(pr->duration_s - pr->actual_duration_s, pr->actual_duration_s));
  gm__pg_real(&p, per(pr->energy_j - pr->actual_energy_j, pr->actual_energy_j));
  gm__pg_text(&p, gm__store_precision(pr->precision));
  return run(
      st,
      "INSERT INTO bench_predictions(bench_id, model, batch_size, kind, "
      "made_at, profile_epochs, profile_steps, target_steps, target_samples, "
      "level, duration_s, duration_lo_s, duration_hi_s, energy_j, "
      "energy_lo_j, energy_hi_j, net_energy_j, provenance, "
      "actual_duration_s, actual_energy_j, duration_error_rel, "
      "energy_error_rel, precision) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,"
      "$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,$23) ON CONFLICT "
      "(bench_id, model, batch_size, precision, kind) DO UPDATE SET made_at = "
      "EXCLUDED.made_at, "
      "profile_epochs = EXCLUDED.profile_epochs, profile_steps = "
      "EXCLUDED.profile_steps, target_steps = EXCLUDED.target_steps, "
      "target_samples = EXCLUDED.target_samples, level = EXCLUDED.level, "
      "duration_s = EXCLUDED.duration_s, duration_lo_s = "
      "EXCLUDED.duration_lo_s, duration_hi_s = EXCLUDED.duration_hi_s, "
      "energy_j = EXCLUDED.energy_j, energy_lo_j = EXCLUDED.energy_lo_j, "
      "energy_hi_j = EXCLUDED.energy_hi_j, net_energy_j = "
      "EXCLUDED.net_energy_j, provenance = EXCLUDED.provenance, "
      "actual_duration_s = EXCLUDED.actual_duration_s, actual_energy_j = "
      "EXCLUDED.actual_energy_j, duration_error_rel = "
      "EXCLUDED.duration_error_rel, energy_error_rel = "
      "EXCLUDED.energy_error_rel, ord = DEFAULT",
      &p, "cannot record the prediction");
}

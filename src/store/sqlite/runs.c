/* runs.c: the SQLite store's hosts, runs and samples. Samples arrive in
 * batches (store.c buffers them), each written in one transaction that
 * takes the write lock first (BEGIN IMMEDIATE: a deferred transaction that
 * upgrades to writing cannot wait for the lock in WAL mode); a failed
 * batch is rolled back whole, its statements reset, and store.c retries it
 * later. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "greenml/version.h"
#include "store/sqlite/sqlite.h"

enum gm_status gm__sq_put_host(struct gm_store *st, const struct gm_host *h,
                               int64_t *host_id) {
  char now[32];
  gm__sq_utc_now(now, sizeof(now));
  sqlite3_stmt *s = NULL;
  const char *sql =
      "INSERT INTO hosts(fingerprint, hostname, cpu_model, logical_cpus, "
      "sockets, mem_total_bytes, dimms_json, gpus_json, kernel, virtualised, "
      "virt_detail, first_seen, last_seen) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?) "
      "ON CONFLICT(fingerprint) DO UPDATE SET dimms_json=excluded.dimms_json, "
      "gpus_json=excluded.gpus_json, kernel=excluded.kernel, "
      "virtualised=excluded.virtualised, virt_detail=excluded.virt_detail, "
      "last_seen=excluded.last_seen";
  if (sqlite3_prepare_v2(gm__sq_db(st), sql, -1, &s, NULL) != SQLITE_OK)
    return gm__sq_fail(st, "cannot store the host");
  gm__sq_bind_text(s, 1, h->fingerprint);
  gm__sq_bind_text(s, 2, h->hostname);
  gm__sq_bind_text(s, 3, h->cpu_model);
  sqlite3_bind_int(s, 4, h->logical_cpus);
  sqlite3_bind_int(s, 5, h->sockets);
  gm__sq_bind_real(s, 6, h->mem_total_bytes);
  gm__sq_bind_text(s, 7, h->dimms_json);
  gm__sq_bind_text(s, 8, h->gpus_json);
  gm__sq_bind_text(s, 9, h->kernel);
  sqlite3_bind_int(s, 10, h->virtualised);
  gm__sq_bind_text(s, 11, h->virt_detail);
  gm__sq_bind_text(s, 12, now);
  gm__sq_bind_text(s, 13, now);
  int rc = sqlite3_step(s);
  sqlite3_finalize(s);
  if (rc != SQLITE_DONE)
    return gm__sq_fail(st, "cannot store the host");
  if (sqlite3_prepare_v2(gm__sq_db(st),
                         "SELECT id FROM hosts WHERE fingerprint=?", -1, &s,
                         NULL) != SQLITE_OK)
    return gm__sq_fail(st, "cannot read the host");
  gm__sq_bind_text(s, 1, h->fingerprint);
  rc = sqlite3_step(s);
  if (rc == SQLITE_ROW)
    *host_id = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  return rc == SQLITE_ROW ? GM_OK : gm__sq_fail(st, "cannot read the host");
}

enum gm_status
gm__sq_begin_run(struct gm_store *st, int64_t host_id,
                 const struct gm_run_meta *meta, size_t n_components,
                 const struct gm_component_info *components, size_t n_metrics,
                 const struct gm_metric_info *metrics, int64_t *run_id) {
  char now[32];
  gm__sq_utc_now(now, sizeof(now));
  enum gm_status rc =
      gm__sq_exec(st, "BEGIN IMMEDIATE", "cannot record the run");
  if (rc != GM_OK)
    return rc;
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(
          gm__sq_db(st),
          "INSERT INTO runs(host_id, kind, started_at, command, tags_json, "
          "interval_s, greenml_version, carbon_g_per_kwh, carbon_source, pue, "
          "idle_baseline_id) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
          -1, &s, NULL) != SQLITE_OK)
    goto fail;
  sqlite3_bind_int64(s, 1, host_id);
  gm__sq_bind_text(s, 2, meta->kind ? meta->kind : "measure");
  gm__sq_bind_text(s, 3, now);
  gm__sq_bind_text(s, 4, meta->command);
  gm__sq_bind_text(s, 5, meta->tags_json);
  sqlite3_bind_double(s, 6, meta->interval_s);
  gm__sq_bind_text(s, 7, GM_VERSION_STRING);
  gm__sq_bind_real(s, 8, meta->carbon_g_per_kwh);
  gm__sq_bind_text(s, 9, meta->carbon_source);
  gm__sq_bind_real(s, 10, meta->pue);
  if (meta->idle_baseline_id > 0)
    sqlite3_bind_int64(s, 11, meta->idle_baseline_id);
  else
    sqlite3_bind_null(s, 11);
  if (sqlite3_step(s) != SQLITE_DONE)
    goto fail;
  sqlite3_finalize(s);
  s = NULL;
  *run_id = sqlite3_last_insert_rowid(gm__sq_db(st));

  if (sqlite3_prepare_v2(gm__sq_db(st),
                         "INSERT INTO components(run_id, idx, name, kind, "
                         "domain, source, detail, provenance, signal, "
                         "in_total) VALUES (?,?,?,?,?,?,?,?,?,?)",
                         -1, &s, NULL) != SQLITE_OK)
    goto fail;
  for (size_t i = 0; i < n_components; i++) {
    const struct gm_component_info *ci = &components[i];
    sqlite3_reset(s);
    sqlite3_bind_int64(s, 1, *run_id);
    sqlite3_bind_int64(s, 2, (int64_t)i);
    gm__sq_bind_text(s, 3, ci->name);
    gm__sq_bind_text(s, 4, gm_kind_name(ci->kind));
    gm__sq_bind_text(s, 5, gm_domain_name(ci->domain));
    gm__sq_bind_text(s, 6, ci->source);
    gm__sq_bind_text(s, 7, ci->detail);
    gm__sq_bind_text(s, 8, gm_provenance_name(ci->provenance));
    gm__sq_bind_text(s, 9, gm_provenance_detail(ci->provenance));
    sqlite3_bind_int(s, 10, ci->in_total);
    if (sqlite3_step(s) != SQLITE_DONE)
      goto fail;
  }
  sqlite3_finalize(s);
  s = NULL;
  if (sqlite3_prepare_v2(gm__sq_db(st),
                         "INSERT INTO metrics(run_id, idx, name, unit, "
                         "source) VALUES (?,?,?,?,?)",
                         -1, &s, NULL) != SQLITE_OK)
    goto fail;
  for (size_t i = 0; i < n_metrics; i++) {
    const struct gm_metric_info *mi = &metrics[i];
    sqlite3_reset(s);
    sqlite3_bind_int64(s, 1, *run_id);
    sqlite3_bind_int64(s, 2, (int64_t)i);
    gm__sq_bind_text(s, 3, mi->name);
    gm__sq_bind_text(s, 4, mi->unit);
    gm__sq_bind_text(s, 5, mi->source);
    if (sqlite3_step(s) != SQLITE_DONE)
      goto fail;
  }
  sqlite3_finalize(s);
  s = NULL;
  if (sqlite3_exec(gm__sq_db(st), "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
    goto fail;
  return GM_OK;
fail:
  rc = gm__sq_fail(st, "cannot record the run");
  sqlite3_finalize(s);
  gm__sq_abort(st, NULL);
  return rc;
}

/* ---- samples ------------------------------------------------------------
 * A batch's rows are inserted GM__SQ_ROWS_MAX to a statement, in the order
 * of the tables' keys: one multi-row INSERT costs far less than as many
 * single-row ones (fewer statement steps, resets and calls). */

/* The statement that inserts n rows (1 <= n <= GM__SQ_ROWS_MAX) into
 * samples (metrics false) or metric_samples; NULL when it cannot be
 * prepared. */
static sqlite3_stmt *insert_rows(struct gm_store *st, bool metrics, size_t n) {
  struct gm__sqlite *q = gm__sq(st);
  sqlite3_stmt **slot = metrics ? &q->ins_metrics[n] : &q->ins_samples[n];
  if (*slot)
    return *slot;
  const char *head = metrics ? "INSERT OR REPLACE INTO metric_samples(run_id, "
                               "seq, metric_idx, value) VALUES "
                             : "INSERT OR REPLACE INTO samples(run_id, seq, "
                               "component_idx, t_s, energy_j, power_w) VALUES ";
  const char *row = metrics ? "(?,?,?,?)" : "(?,?,?,?,?,?)";
  char sql[160 + GM__SQ_ROWS_MAX * 16];
  size_t len = (size_t)snprintf(sql, sizeof(sql), "%s", head);
  for (size_t r = 0; r < n && len < sizeof(sql); r++)
    len += (size_t)snprintf(sql + len, sizeof(sql) - len, "%s%s", r ? "," : "",
                            row);
  if (sqlite3_prepare_v3(q->db, sql, -1, SQLITE_PREPARE_PERSISTENT, slot,
                         NULL) != SQLITE_OK)
    *slot = NULL;
  return *slot;
}

enum gm_status gm__sq_prepare_inserts(struct gm_store *st) {
  if (!insert_rows(st, false, 1) || !insert_rows(st, true, 1))
    return gm__sq_fail(st, "cannot prepare statements");
  return GM_OK;
}

void gm__sq_finalize_inserts(struct gm_store *st) {
  struct gm__sqlite *q = gm__sq(st);
  for (size_t n = 0; n <= GM__SQ_ROWS_MAX; n++) {
    sqlite3_finalize(q->ins_samples[n]);
    sqlite3_finalize(q->ins_metrics[n]);
    q->ins_samples[n] = q->ins_metrics[n] = NULL;
  }
}

/* Rows waiting for their statement: one table's, in key order. */
struct rows {
  bool metrics;
  size_t n;
  struct {
    int64_t run_id, seq, idx;
    double t_s, v, power_w; /* v: energy_j, or a metric's value */
  } r[GM__SQ_ROWS_MAX];
};

/* Inserts the pending rows into the open transaction; false (the failed
 * statement in *failed, NULL when it could not be prepared) on error. */
static bool put_rows(struct gm_store *st, struct rows *rw,
                     sqlite3_stmt **failed) {
  if (rw->n == 0)
    return true;
  sqlite3_stmt *s = insert_rows(st, rw->metrics, rw->n);
  if (!s)
    return false;
  sqlite3_reset(s);
  int k = 1;
  for (size_t i = 0; i < rw->n; i++) {
    sqlite3_bind_int64(s, k++, rw->r[i].run_id);
    sqlite3_bind_int64(s, k++, rw->r[i].seq);
    sqlite3_bind_int64(s, k++, rw->r[i].idx);
    if (rw->metrics) {
      sqlite3_bind_double(s, k++, rw->r[i].v);
    } else {
      sqlite3_bind_double(s, k++, rw->r[i].t_s);
      sqlite3_bind_double(s, k++, rw->r[i].v);
      gm__sq_bind_real(s, k++, rw->r[i].power_w);
    }
  }
  rw->n = 0;
  if (sqlite3_step(s) != SQLITE_DONE) {
    *failed = s;
    return false;
  }
  return true;
}

/* Adds one sample's rows (a metric unavailable this tick has none). */
static bool add_sample_rows(struct gm_store *st,
                            const struct gm__store_sample *p, struct rows *cr,
                            struct rows *mr, sqlite3_stmt **failed) {
  const struct gm_sample *smp = &p->s;
  double t_s = (double)smp->t_ns / 1e9;
  for (size_t c = 0; c < smp->n_components; c++) {
    if (cr->n == GM__SQ_ROWS_MAX && !put_rows(st, cr, failed))
      return false;
    cr->r[cr->n].run_id = p->run_id;
    cr->r[cr->n].seq = (int64_t)smp->seq;
    cr->r[cr->n].idx = (int64_t)c;
    cr->r[cr->n].t_s = t_s;
    cr->r[cr->n].v = smp->energy_j[c];
    cr->r[cr->n].power_w = smp->seq == 0 ? NAN : smp->power_w[c];
    cr->n++;
  }
  for (size_t k = 0; k < smp->n_metrics; k++) {
    if (isnan(smp->metrics[k]))
      continue;
    if (mr->n == GM__SQ_ROWS_MAX && !put_rows(st, mr, failed))
      return false;
    mr->r[mr->n].run_id = p->run_id;
    mr->r[mr->n].seq = (int64_t)smp->seq;
    mr->r[mr->n].idx = (int64_t)k;
    mr->r[mr->n].v = smp->metrics[k];
    mr->n++;
  }
  return true;
}

enum gm_status gm__sq_write_samples(struct gm_store *st, size_t n,
                                    struct gm__store_sample *const *samples,
                                    double wait_s, bool *locked) {
  *locked = false;
  gm__sq_set_wait(st, wait_s);
  enum gm_status rc =
      gm__sq_exec(st, "BEGIN IMMEDIATE", "cannot store samples");
  *locked = rc != GM_OK && gm__sq_locked(st);
  gm__sq_set_wait(st, st->lock_wait_s);
  if (rc != GM_OK)
    return rc;
  sqlite3_stmt *failed = NULL;
  struct rows cr = {.metrics = false}, mr = {.metrics = true};
  for (size_t i = 0; i < n; i++)
    if (!add_sample_rows(st, samples[i], &cr, &mr, &failed))
      goto fail;
  if (!put_rows(st, &cr, &failed) || !put_rows(st, &mr, &failed))
    goto fail;
  if (sqlite3_exec(gm__sq_db(st), "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
    goto fail;
  return GM_OK;
fail:
  rc = gm__sq_fail(st, "cannot store samples");
  gm__sq_abort(st, failed);
  return rc;
}

enum gm_status gm__sq_commit(struct gm_store *st) {
  if (!gm__sq(st)->in_tx)
    return GM_OK;
  gm__sq(st)->in_tx = false;
  enum gm_status rc = gm__sq_exec(st, "COMMIT", "cannot commit");
  if (rc != GM_OK)
    gm__sq_abort(st, NULL);
  return rc;
}

/* Binds what a run's row says about its samples: complete, cause, time,
 * count. */
static void bind_loss(sqlite3_stmt *s, int i,
                      const struct gm__store_loss *loss) {
  sqlite3_bind_int(s, i, loss == NULL);
  gm__sq_bind_text(s, i + 1, loss ? loss->cause : NULL);
  gm__sq_bind_real(s, i + 2, loss ? loss->stored_until_s : NAN);
  sqlite3_bind_int64(s, i + 3, loss ? (int64_t)loss->lost : 0);
}

enum gm_status gm__sq_mark_incomplete(struct gm_store *st, int64_t run_id,
                                      const struct gm__store_loss *loss) {
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(gm__sq_db(st),
                         "UPDATE runs SET complete=?, incomplete_cause=?, "
                         "stored_until_s=?, lost_samples=? WHERE id=?",
                         -1, &s, NULL) != SQLITE_OK)
    return gm__sq_fail(st, "cannot mark the run incomplete");
  bind_loss(s, 1, loss);
  sqlite3_bind_int64(s, 5, run_id);
  int step = sqlite3_step(s);
  enum gm_status rc = step == SQLITE_DONE
                          ? GM_OK
                          : gm__sq_fail(st, "cannot mark the run incomplete");
  sqlite3_finalize(s);
  return rc;
}

/* The command's share of the run's energy (schema 6). */
static enum gm_status write_attribution(struct gm_store *st, int64_t run_id,
                                        const struct gm_run_record *rec) {
  sqlite3_stmt *s = NULL;
  const struct gm_run_attribution *a = &rec->attribution;
  if (sqlite3_prepare_v2(gm__sq_db(st),
                         "UPDATE runs SET attributed_to=?, attributed_j=?, "
                         "attributed_net_j=?, attributed_provenance=?, "
                         "attributed_partial=? WHERE id=?",
                         -1, &s, NULL) != SQLITE_OK)
    return GM_ERR_IO;
  gm__sq_bind_text(s, 1, a->subject);
  sqlite3_bind_double(s, 2, a->energy_j);
  gm__sq_bind_real(s, 3, a->net_j);
  gm__sq_bind_text(s, 4, a->provenance);
  sqlite3_bind_int(s, 5, a->partial);
  sqlite3_bind_int64(s, 6, run_id);
  int step = sqlite3_step(s);
  sqlite3_finalize(s);
  if (step != SQLITE_DONE ||
      sqlite3_prepare_v2(gm__sq_db(st),
                         "UPDATE components SET attributed_j=?, "
                         "attributed_net_j=?, attributed_share_s=?, "
                         "attributed_unknown_j=?, attributed_method=? WHERE "
                         "run_id=? AND idx=?",
                         -1, &s, NULL) != SQLITE_OK)
    return GM_ERR_IO;
  for (size_t i = 0; i < rec->n_components; i++) {
    const struct gm_run_component *c = &rec->components[i];
    sqlite3_reset(s);
    sqlite3_bind_double(s, 1, c->attr.energy_j);
    gm__sq_bind_real(s, 2, c->attr_net_j);
    sqlite3_bind_double(s, 3, c->attr.share_s);
    sqlite3_bind_double(s, 4, c->attr.unknown_j);
    gm__sq_bind_text(s, 5, gm_attrib_method_name(c->attr.method));
    sqlite3_bind_int64(s, 6, run_id);
    sqlite3_bind_int64(s, 7, (int64_t)i);
    if (sqlite3_step(s) != SQLITE_DONE) {
      sqlite3_finalize(s);
      return GM_ERR_IO;
    }
  }
  sqlite3_finalize(s);
  if (sqlite3_prepare_v2(gm__sq_db(st),
                         "UPDATE phases SET attributed_j=?, attributed_net_j=? "
                         "WHERE run_id=? AND idx=?",
                         -1, &s, NULL) != SQLITE_OK)
    return GM_ERR_IO;
  for (size_t p = 0; p < rec->n_phases; p++) {
    const struct gm_run_phase *ph = &rec->phases[p];
    if (!ph->attributed_j)
      continue;
    sqlite3_reset(s);
    sqlite3_bind_double(s, 1, ph->attributed_total_j);
    gm__sq_bind_real(s, 2, ph->attributed_total_net_j);
    sqlite3_bind_int64(s, 3, run_id);
    sqlite3_bind_int64(s, 4, (int64_t)p);
    if (sqlite3_step(s) != SQLITE_DONE) {
      sqlite3_finalize(s);
      return GM_ERR_IO;
    }
  }
  sqlite3_finalize(s);
  return GM_OK;
}

enum gm_status gm__sq_finish_run(struct gm_store *st, int64_t run_id,
                                 const struct gm_run_result *res,
                                 const struct gm_run_record *rec,
                                 const struct gm__store_loss *loss) {
  enum gm_status rc =
      gm__sq_exec(st, "BEGIN IMMEDIATE", "cannot finish the run");
  if (rc != GM_OK)
    return rc;
  sqlite3_stmt *s = NULL;
  size_t nc = rec->n_components;
  if (sqlite3_prepare_v2(
          gm__sq_db(st),
          "UPDATE components SET energy_j=?, net_energy_j=?, avg_power_w=?, "
          "peak_power_w=?, idle_power_w=?, power_energy_j=?, xcheck_rel=?, "
          "wraps=?, resets=?, read_errors=?, glitches=?, max_power_w=?, "
          "max_power_origin=?, counter_stopped_at_s=?, lost_at_s=? "
          "WHERE run_id=? AND idx=?",
          -1, &s, NULL) != SQLITE_OK)
    goto fail;
  for (size_t i = 0; i < nc; i++) {
    const struct gm_component_stats cs = rec->components[i].stats;
    double idle = rec->components[i].idle_w;
    sqlite3_reset(s);
    sqlite3_bind_double(s, 1, cs.energy_j);
    gm__sq_bind_real(s, 2, rec->components[i].net_energy_j);
    sqlite3_bind_double(s, 3, cs.avg_power_w);
    sqlite3_bind_double(s, 4, cs.peak_power_w);
    gm__sq_bind_real(s, 5, idle);
    gm__sq_bind_real(s, 6, cs.power_energy_j >= 0 ? cs.power_energy_j : NAN);
    gm__sq_bind_real(s, 7, cs.xcheck_rel >= 0 ? cs.xcheck_rel : NAN);
    sqlite3_bind_int64(s, 8, (int64_t)cs.wraps);
    sqlite3_bind_int64(s, 9, (int64_t)cs.resets);
    sqlite3_bind_int64(s, 10, (int64_t)cs.read_errors);
    const struct gm_component_info *ci = &rec->components[i].info;
    sqlite3_bind_int64(s, 11, (int64_t)cs.glitches);
    gm__sq_bind_real(s, 12, ci->max_power_w > 0 ? ci->max_power_w : NAN);
    gm__sq_bind_text(s, 13, ci->max_power_origin);
    gm__sq_bind_real(s, 14, cs.counter_stopped ? cs.counter_stopped_at_s : NAN);
    gm__sq_bind_real(s, 15, cs.lost ? cs.lost_at_s : NAN);
    sqlite3_bind_int64(s, 16, run_id);
    sqlite3_bind_int64(s, 17, (int64_t)i);
    if (sqlite3_step(s) != SQLITE_DONE)
      goto fail;
  }
  sqlite3_finalize(s);
  s = NULL;
  if (sqlite3_prepare_v2(gm__sq_db(st),
                         "UPDATE metrics SET mean=?, max=? WHERE run_id=? AND "
                         "idx=?",
                         -1, &s, NULL) != SQLITE_OK)
    goto fail;
  for (size_t k = 0; k < rec->n_metrics; k++) {
    sqlite3_reset(s);
    gm__sq_bind_real(s, 1, rec->metrics[k].mean);
    gm__sq_bind_real(s, 2, rec->metrics[k].max);
    sqlite3_bind_int64(s, 3, run_id);
    sqlite3_bind_int64(s, 4, (int64_t)k);
    if (sqlite3_step(s) != SQLITE_DONE)
      goto fail;
  }
  sqlite3_finalize(s);
  s = NULL;

  sqlite3_stmt *pc = NULL;
  if (sqlite3_prepare_v2(gm__sq_db(st),
                         "INSERT OR REPLACE INTO phases(run_id, idx, name, "
                         "start_s, duration_s, energy_j, net_energy_j, "
                         "ended_by_stop, total_partial) VALUES "
                         "(?,?,?,?,?,?,?,?,?)",
                         -1, &s, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(gm__sq_db(st),
                         "INSERT OR REPLACE INTO phase_components(run_id, "
                         "phase_idx, component_idx, energy_j, net_energy_j) "
                         "VALUES (?,?,?,?,?)",
                         -1, &pc, NULL) != SQLITE_OK) {
    sqlite3_finalize(pc);
    goto fail;
  }
  for (size_t p = 0; p < rec->n_phases; p++) {
    const struct gm_run_phase *ph = &rec->phases[p];
    for (size_t c = 0; c < nc; c++) {
      sqlite3_reset(pc);
      sqlite3_bind_int64(pc, 1, run_id);
      sqlite3_bind_int64(pc, 2, (int64_t)p);
      sqlite3_bind_int64(pc, 3, (int64_t)c);
      sqlite3_bind_double(pc, 4, ph->energy_j[c]);
      gm__sq_bind_real(pc, 5, ph->net_energy_j[c]);
      if (sqlite3_step(pc) != SQLITE_DONE) {
        sqlite3_finalize(pc);
        goto fail;
      }
    }
    sqlite3_reset(s);
    sqlite3_bind_int64(s, 1, run_id);
    sqlite3_bind_int64(s, 2, (int64_t)p);
    gm__sq_bind_text(s, 3, ph->name);
    sqlite3_bind_double(s, 4, ph->start_s);
    sqlite3_bind_double(s, 5, ph->duration_s);
    sqlite3_bind_double(s, 6, ph->total.gross_j);
    gm__sq_bind_real(s, 7, ph->total.net_j);
    sqlite3_bind_int(s, 8, ph->ended_by_stop);
    sqlite3_bind_int(s, 9, ph->total.partial);
    if (sqlite3_step(s) != SQLITE_DONE) {
      sqlite3_finalize(pc);
      goto fail;
    }
  }
  sqlite3_finalize(pc);
  sqlite3_finalize(s);
  s = NULL;

  if (sqlite3_prepare_v2(
          gm__sq_db(st),
          "UPDATE runs SET exit_code=?, duration_s=?, "
          "total_energy_j=?, total_net_energy_j=?, carbon_g=?, "
          "sampler_cpu_s=?, dropped_samples=?, complete=?, "
          "incomplete_cause=?, stored_until_s=?, lost_samples=?, "
          "total_partial=?, partial_why=? WHERE id=?",
          -1, &s, NULL) != SQLITE_OK)
    goto fail;
  sqlite3_bind_int(s, 1, res->exit_code);
  sqlite3_bind_double(s, 2, rec->duration_s);
  sqlite3_bind_double(s, 3, rec->total.gross_j);
  gm__sq_bind_real(s, 4, rec->total.net_j);
  gm__sq_bind_real(s, 5, res->carbon_g);
  sqlite3_bind_double(s, 6, rec->meter_cpu_s);
  sqlite3_bind_int64(s, 7, (int64_t)rec->dropped_samples);
  bind_loss(s, 8, loss);
  sqlite3_bind_int(s, 12, rec->total.partial);
  gm__sq_bind_text(s, 13, rec->partial_why[0] ? rec->partial_why : NULL);
  sqlite3_bind_int64(s, 14, run_id);
  if (sqlite3_step(s) != SQLITE_DONE)
    goto fail;
  sqlite3_finalize(s);
  s = NULL;
  if (rec->attributed && write_attribution(st, run_id, rec) != GM_OK)
    goto fail;
  if (sqlite3_prepare_v2(gm__sq_db(st),
                         "INSERT OR REPLACE INTO run_missing(run_id, idx, "
                         "name, source, kind, in_total, reason) VALUES "
                         "(?,?,?,?,?,?,?)",
                         -1, &s, NULL) != SQLITE_OK)
    goto fail;
  for (size_t i = 0; i < rec->n_missing; i++) {
    const struct gm_missing *x = &rec->missing[i];
    sqlite3_reset(s);
    sqlite3_bind_int64(s, 1, run_id);
    sqlite3_bind_int64(s, 2, (int64_t)i);
    gm__sq_bind_text(s, 3, x->name);
    gm__sq_bind_text(s, 4, x->source[0] ? x->source : NULL);
    gm__sq_bind_text(s, 5, gm_kind_name(x->kind));
    sqlite3_bind_int(s, 6, x->in_total);
    gm__sq_bind_text(s, 7, x->reason);
    if (sqlite3_step(s) != SQLITE_DONE)
      goto fail;
  }
  sqlite3_finalize(s);
  s = NULL;
  if (sqlite3_exec(gm__sq_db(st), "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
    goto fail;
  return GM_OK;
fail:
  rc = gm__sq_fail(st, "cannot finish the run");
  sqlite3_finalize(s);
  gm__sq_abort(st, NULL);
  return rc;
}

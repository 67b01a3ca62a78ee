/* report_data.c: what `greenml report` reads from the database: the selected
 * benches, grouped by host, each group's cells (model x batch size) summed
 * per kind of phase by SQL, per-epoch curves, per-part power, the models'
 * characteristics and how every component was measured. SQL and bookkeeping
 * only: no drawing, no printing (see report.h). */
#define _GNU_SOURCE
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "report.h"

/* The loader's state: the connection and the first error. */
struct loader {
  sqlite3 *db;
  char *err;
  size_t err_size;
  enum gm_status rc;
};

static sqlite3_stmt *prepare(struct loader *L, const char *sql) {
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(L->db, sql, -1, &s, NULL) != SQLITE_OK) {
    gm__fmt(L->err, L->err_size, "cannot read the benches: %s",
            sqlite3_errmsg(L->db));
    L->rc = GM_ERR_DATABASE;
    return NULL;
  }
  return s;
}

/* Steps s; false at the end, recording an error when there was one. */
static bool next_row(struct loader *L, sqlite3_stmt *s) {
  int step = sqlite3_step(s);
  if (step == SQLITE_ROW)
    return true;
  if (step != SQLITE_DONE && L->rc == GM_OK) {
    gm__fmt(L->err, L->err_size, "cannot read the benches: %s",
            sqlite3_errmsg(L->db));
    L->rc = GM_ERR_DATABASE;
  }
  return false;
}

static double col_real(sqlite3_stmt *s, int i) {
  return sqlite3_column_type(s, i) == SQLITE_NULL ? NAN
                                                  : sqlite3_column_double(s, i);
}

static const char *col_text(sqlite3_stmt *s, int i) {
  const char *t = (const char *)sqlite3_column_text(s, i);
  return t ? t : "";
}

/* Makes room for element n of an array whose capacity is 4, then doubles
 * at every power of two. */
static bool grow(void **arr, size_t n, size_t elem) {
  if (n && (n < 4 || (n & (n - 1))))
    return true;
  void *p = realloc(*arr, (n ? 2 * n : 4) * elem);
  if (!p)
    return false;
  *arr = p;
  return true;
}

static enum gm_status oom(struct loader *L) {
  gm__fmt(L->err, L->err_size, "out of memory reading the benches");
  return L->rc = GM_ERR_NO_MEMORY;
}

/* ---- benches ------------------------------------------------------------- */

/* Lists the names of the benches matching where (for messages). */
static void list_benches(struct loader *L, const char *where, char *buf,
                         size_t size) {
  char sql[256];
  gm__fmt(sql, sizeof(sql),
          "SELECT name || ' (' || status || ')' FROM benches %s ORDER BY id",
          where);
  buf[0] = '\0';
  sqlite3_stmt *s = prepare(L, sql);
  size_t len = 0;
  while (s && next_row(L, s) && len + 1 < size) {
    int n = snprintf(buf + len, size - len, "%s%s", len ? ", " : "",
                     col_text(s, 0));
    if (n < 0 || (size_t)n >= size - len)
      break;
    len += (size_t)n;
  }
  sqlite3_finalize(s);
}

static enum gm_status select_benches(struct loader *L, const char *run,
                                     struct rep_data *d) {
  sqlite3_stmt *s =
      prepare(L, "SELECT id, host_id, name, status, created_at, "
                 " CASE WHEN json_valid(config_json) THEN "
                 "  json_array_length(config_json, '$.models') END, "
                 " CASE WHEN json_valid(config_json) THEN "
                 "  json_extract(config_json, '$.batch_sizes') END, "
                 " CASE WHEN json_valid(config_json) THEN "
                 "  json_extract(config_json, '$.epochs') END, "
                 " CASE WHEN json_valid(config_json) THEN "
                 "  json_extract(config_json, '$.infer_samples') END "
                 "FROM benches WHERE (?1 IS NULL AND status = 'complete') "
                 " OR name = ?1 OR CAST(id AS TEXT) = ?1 ORDER BY id");
  if (!s)
    return L->rc;
  if (run)
    sqlite3_bind_text(s, 1, run, -1, SQLITE_STATIC);
  while (next_row(L, s)) {
    if (!grow((void **)&d->benches, d->n_benches, sizeof(*d->benches))) {
      sqlite3_finalize(s);
      return oom(L);
    }
    struct rep_bench *b = &d->benches[d->n_benches++];
    memset(b, 0, sizeof(*b));
    b->id = sqlite3_column_int64(s, 0);
    b->host_id = sqlite3_column_int64(s, 1);
    gm__strlcpy(b->name, col_text(s, 2), sizeof(b->name));
    gm__strlcpy(b->status, col_text(s, 3), sizeof(b->status));
    gm__strlcpy(b->created, col_text(s, 4), sizeof(b->created));
    gm__fmt(b->grid, sizeof(b->grid),
            "%d models, batch sizes %s, %d epochs, %lld inference samples "
            "per pass",
            sqlite3_column_int(s, 5), col_text(s, 6), sqlite3_column_int(s, 7),
            (long long)sqlite3_column_int64(s, 8));
  }
  sqlite3_finalize(s);
  if (L->rc != GM_OK || d->n_benches)
    return L->rc;
  char names[512];
  list_benches(L, "", names, sizeof(names));
  if (!names[0]) {
    d->missing = REP_MISSING_BENCHES;
    gm__fmt(L->err, L->err_size, "the database holds no bench");
  } else if (run) {
    d->missing = REP_MISSING_NAMED;
    gm__fmt(L->err, L->err_size,
            "no bench named '%s' (nor with that id); the database holds: %s",
            run, names);
  } else {
    d->missing = REP_MISSING_COMPLETE;
    gm__fmt(L->err, L->err_size, "no complete bench; the database holds: %s",
            names);
  }
  return L->rc != GM_OK ? L->rc : GM_ERR_NOT_FOUND;
}

/* ---- groups: host, components, provenance -------------------------------- */

static void describe_host(struct loader *L, struct rep_group *g,
                          int64_t bench_id) {
  sqlite3_stmt *s =
      prepare(L, "SELECT json_extract(host_json, '$.cpu_model'), "
                 " json_extract(host_json, '$.logical_cpus'), "
                 " json_extract(host_json, '$.mem_total_bytes'), "
                 " json_extract(host_json, '$.hostname'), "
                 " (SELECT group_concat(substr(d, 1, CASE WHEN instr(d, ',') "
                 "   THEN instr(d, ',') - 1 ELSE length(d) END), ' + ') FROM "
                 "   (SELECT json_extract(value, '$.detail') AS d FROM "
                 "    json_each(host_json, '$.gpus'))) "
                 "FROM benches WHERE id = ? AND json_valid(host_json)");
  if (!s)
    return;
  sqlite3_bind_int64(s, 1, bench_id);
  if (next_row(L, s)) {
    const char *gpus = col_text(s, 4);
    gm__fmt(g->host, sizeof(g->host),
            "%s: %s, %d logical CPUs, %.1f GiB memory, %s%s", col_text(s, 3),
            col_text(s, 0), sqlite3_column_int(s, 1),
            sqlite3_column_double(s, 2) / 1073741824.0,
            gpus[0] ? "GPU " : "no GPU", gpus);
  } else {
    gm__fmt(g->host, sizeof(g->host), "host %lld (not described)",
            (long long)g->host_id);
  }
  sqlite3_finalize(s);
}

/* "measured counter", "measured power" or "modelled". */
static void prov_label(const char *prov, const char *signal, char *out,
                       size_t size) {
  if (strcmp(prov, "modelled") == 0)
    gm__strlcpy(out, "modelled", size);
  else if (strcmp(signal, "energy counter") == 0)
    gm__strlcpy(out, "measured counter", size);
  else if (strcmp(signal, "power sensor") == 0)
    gm__strlcpy(out, "measured power", size);
  else
    gm__strlcpy(out, prov[0] ? prov : "unknown", size);
}

/* The components of every bench of the group, newest first, each once. */
static void load_components(struct loader *L, struct rep_group *g,
                            const struct rep_data *d) {
  sqlite3_stmt *s = prepare(
      L, "SELECT json_extract(value, '$.name'), json_extract(value, '$.kind'),"
         " json_extract(value, '$.source'), "
         " json_extract(value, '$.provenance'), "
         " json_extract(value, '$.signal'), json_extract(value, '$.detail'), "
         " json_extract(value, '$.in_total') "
         "FROM benches, json_each(benches.host_json, '$.components') "
         "WHERE benches.id = ? AND json_valid(benches.host_json)");
  for (size_t b = d->n_benches; s && b-- > 0;) {
    if (d->benches[b].host_id != g->host_id)
      continue;
    sqlite3_reset(s);
    sqlite3_bind_int64(s, 1, d->benches[b].id);
    while (next_row(L, s)) {
      const char *name = col_text(s, 0);
      bool seen = false;
      for (size_t i = 0; i < g->n_components; i++)
        seen = seen || strcmp(g->components[i].name, name) == 0;
      if (seen)
        continue;
      if (!grow((void **)&g->components, g->n_components,
                sizeof(*g->components))) {
        oom(L);
        break;
      }
      struct rep_component *c = &g->components[g->n_components++];
      memset(c, 0, sizeof(*c));
      gm__strlcpy(c->name, name, sizeof(c->name));
      gm__strlcpy(c->kind, col_text(s, 1), sizeof(c->kind));
      gm__strlcpy(c->source, col_text(s, 2), sizeof(c->source));
      prov_label(col_text(s, 3), col_text(s, 4), c->prov, sizeof(c->prov));
      gm__strlcpy(c->detail, col_text(s, 5), sizeof(c->detail));
      c->in_total = sqlite3_column_int(s, 6) != 0;
    }
  }
  sqlite3_finalize(s);
}

static int part_of(const char *kind) {
  if (strcmp(kind, "cpu") == 0)
    return REP_CPU;
  if (strcmp(kind, "dram") == 0)
    return REP_DRAM;
  if (strcmp(kind, "gpu") == 0)
    return REP_GPU;
  return -1;
}

/* How each part was measured in the phases used, with the signal from the
 * host description. */
static void load_part_provenance(struct loader *L, struct rep_group *g,
                                 int64_t bench_id) {
  sqlite3_stmt *s =
      prepare(L, "SELECT DISTINCT component, component_kind, provenance FROM "
                 "bench_phase_components WHERE bench_id = ? AND in_total = 1 "
                 "AND metered = 1 ORDER BY component");
  if (!s)
    return;
  sqlite3_bind_int64(s, 1, bench_id);
  while (next_row(L, s)) {
    int p = part_of(col_text(s, 1));
    if (p < 0)
      continue;
    const char *name = col_text(s, 0);
    char label[24];
    gm__strlcpy(label, col_text(s, 2), sizeof(label));
    for (size_t i = 0; i < g->n_components; i++)
      if (strcmp(g->components[i].name, name) == 0)
        gm__strlcpy(label, g->components[i].prov, sizeof(label));
    struct rep_part_info *pi = &g->part[p];
    if (!pi->present)
      gm__strlcpy(pi->prov, label, sizeof(pi->prov));
    else if (strcmp(pi->prov, label) != 0)
      gm__strlcpy(pi->prov, "mixed", sizeof(pi->prov));
    if (!strstr(pi->names, name)) {
      size_t len = strlen(pi->names);
      snprintf(pi->names + len, sizeof(pi->names) - len, "%s%s",
               len ? ", " : "", name);
    }
    pi->present = true;
  }
  sqlite3_finalize(s);
}

/* ---- cells --------------------------------------------------------------- */

static struct rep_cell *cell_get(struct loader *L, struct rep_group *g,
                                 const char *model, int batch,
                                 int64_t bench_id) {
  for (size_t i = 0; i < g->n_cells; i++)
    if (g->cells[i].batch == batch && strcmp(g->cells[i].model, model) == 0)
      return g->cells[i].bench_id == bench_id ? &g->cells[i] : NULL;
  if (!grow((void **)&g->cells, g->n_cells, sizeof(*g->cells))) {
    oom(L);
    return NULL;
  }
  struct rep_cell *c = &g->cells[g->n_cells++];
  memset(c, 0, sizeof(*c));
  gm__strlcpy(c->model, model, sizeof(c->model));
  c->batch = batch;
  c->bench_id = bench_id;
  for (int k = 0; k < REP_N_KINDS; k++) {
    c->ph[k].energy_j = c->ph[k].net_energy_j = NAN;
    c->ph[k].cpu_util_pct = c->ph[k].gpu_util_pct = NAN;
    c->ph[k].vram_bytes = NAN;
    for (int p = 0; p < REP_N_PARTS; p++)
      c->ph[k].power_w[p] = NAN;
  }
  return c;
}

/* Among rows of the same phase, the metered one (a bench with --overhead
 * has both). */
#define METERED_ROW                                                            \
  " AND p.metered = (SELECT MAX(q.metered) FROM bench_phases q WHERE "         \
  "  q.bench_id = p.bench_id AND q.model = p.model AND "                       \
  "  q.batch_size = p.batch_size AND q.kind = p.kind AND "                     \
  "  q.epoch = p.epoch) "

/* One bench's phases summed per (model, batch size, kind). A cell already
 * taken from a newer bench is skipped and counted. */
static void load_cells(struct loader *L, struct rep_group *g,
                       int64_t bench_id) {
  sqlite3_stmt *s = prepare(
      L,
      "SELECT model, batch_size, kind, COUNT(*), SUM(duration_s), "
      " SUM(samples), "
      " CASE WHEN COUNT(energy_j) = COUNT(*) THEN SUM(energy_j) END, "
      " CASE WHEN COUNT(net_energy_j) = COUNT(*) THEN SUM(net_energy_j) END, "
      " SUM(cpu_util_pct * duration_s) / "
      "  SUM(CASE WHEN cpu_util_pct IS NOT NULL THEN duration_s END), "
      " SUM(gpu_util_pct * duration_s) / "
      "  SUM(CASE WHEN gpu_util_pct IS NOT NULL THEN duration_s END), "
      " SUM(vram_used_bytes * duration_s) / "
      "  SUM(CASE WHEN vram_used_bytes IS NOT NULL THEN duration_s END), "
      " MAX(epoch) "
      "FROM bench_phases p WHERE p.bench_id = ? AND "
      " p.kind IN ('train', 'infer') " METERED_ROW
      "GROUP BY model, batch_size, kind ORDER BY MIN(rowid)");
  if (!s)
    return;
  sqlite3_bind_int64(s, 1, bench_id);
  while (next_row(L, s)) {
    const char *model = col_text(s, 0);
    int batch = sqlite3_column_int(s, 1);
    struct rep_cell *c = cell_get(L, g, model, batch, bench_id);
    if (!c) {
      if (L->rc != GM_OK)
        break;
      if (strcmp(col_text(s, 2), "train") == 0)
        g->n_superseded++;
      continue;
    }
    struct rep_phases *ph =
        &c->ph[strcmp(col_text(s, 2), "train") == 0 ? REP_TRAIN : REP_INFER];
    ph->n = sqlite3_column_int(s, 3);
    ph->duration_s = col_real(s, 4);
    ph->samples = col_real(s, 5);
    ph->energy_j = col_real(s, 6);
    ph->net_energy_j = col_real(s, 7);
    ph->cpu_util_pct = col_real(s, 8);
    ph->gpu_util_pct = col_real(s, 9);
    ph->vram_bytes = col_real(s, 10);
    int epochs = sqlite3_column_int(s, 11);
    if (epochs > c->n_epochs)
      c->n_epochs = epochs;
  }
  sqlite3_finalize(s);
}

/* Per-part mean power: the energy of the part's in-total components over
 * the metered phases' duration. */
static void load_part_power(struct loader *L, struct rep_group *g,
                            int64_t bench_id) {
  sqlite3_stmt *s =
      prepare(L, "SELECT model, batch_size, kind, component_kind, "
                 " SUM(energy_j) FROM bench_phase_components WHERE "
                 " bench_id = ? AND in_total = 1 AND metered = 1 AND "
                 " kind IN ('train', 'infer') AND energy_j IS NOT NULL "
                 "GROUP BY model, batch_size, kind, component_kind");
  if (!s)
    return;
  sqlite3_bind_int64(s, 1, bench_id);
  while (next_row(L, s)) {
    struct rep_cell *c = NULL;
    for (size_t i = 0; i < g->n_cells && !c; i++)
      if (g->cells[i].batch == sqlite3_column_int(s, 1) &&
          strcmp(g->cells[i].model, col_text(s, 0)) == 0)
        c = &g->cells[i];
    int p = part_of(col_text(s, 3));
    if (!c || c->bench_id != bench_id || p < 0)
      continue;
    struct rep_phases *ph =
        &c->ph[strcmp(col_text(s, 2), "train") == 0 ? REP_TRAIN : REP_INFER];
    if (ph->duration_s > 0)
      ph->power_w[p] = sqlite3_column_double(s, 4) / ph->duration_s;
  }
  sqlite3_finalize(s);
}

static void load_epochs(struct loader *L, struct rep_group *g,
                        int64_t bench_id) {
  for (size_t i = 0; i < g->n_cells && L->rc == GM_OK; i++) {
    struct rep_cell *c = &g->cells[i];
    if (c->bench_id != bench_id || c->epochs || c->n_epochs <= 0)
      continue;
    c->epochs = malloc((size_t)c->n_epochs * sizeof(*c->epochs));
    if (!c->epochs) {
      oom(L);
      return;
    }
    for (int e = 0; e < c->n_epochs; e++)
      c->epochs[e] = (struct rep_epoch){NAN, NAN, NAN, NAN, NAN, NAN};
  }
  sqlite3_stmt *s = prepare(
      L, "SELECT model, batch_size, kind, epoch, loss, accuracy, energy_j, "
         " net_energy_j FROM bench_phases p WHERE p.bench_id = ? AND "
         " p.kind IN ('train', 'infer') " METERED_ROW);
  if (!s)
    return;
  sqlite3_bind_int64(s, 1, bench_id);
  while (next_row(L, s)) {
    const struct rep_cell *c =
        rep_cell_find(g, col_text(s, 0), sqlite3_column_int(s, 1));
    int e = sqlite3_column_int(s, 3);
    if (!c || c->bench_id != bench_id || !c->epochs || e < 1 || e > c->n_epochs)
      continue;
    struct rep_epoch *ep = &c->epochs[e - 1];
    if (strcmp(col_text(s, 2), "train") == 0) {
      ep->train_loss = col_real(s, 4);
      ep->train_acc = col_real(s, 5);
      ep->train_energy_j = col_real(s, 6);
      ep->train_net_energy_j = col_real(s, 7);
    } else {
      ep->test_loss = col_real(s, 4);
      ep->test_acc = col_real(s, 5);
    }
  }
  sqlite3_finalize(s);
}

static void load_models(struct loader *L, struct rep_group *g,
                        int64_t bench_id) {
  sqlite3_stmt *s = prepare(L, "SELECT model, params, size_bytes, macs, "
                               " macs_per_param FROM bench_models WHERE "
                               " bench_id = ? ORDER BY rowid");
  if (!s)
    return;
  sqlite3_bind_int64(s, 1, bench_id);
  while (next_row(L, s)) {
    if (rep_model_find(g, col_text(s, 0)))
      continue;
    if (!grow((void **)&g->models, g->n_models, sizeof(*g->models))) {
      oom(L);
      break;
    }
    struct rep_model *m = &g->models[g->n_models++];
    gm__strlcpy(m->name, col_text(s, 0), sizeof(m->name));
    m->params = sqlite3_column_int64(s, 1);
    m->size_bytes = sqlite3_column_int64(s, 2);
    m->macs = sqlite3_column_int64(s, 3);
    m->macs_per_param = col_real(s, 4);
  }
  sqlite3_finalize(s);
}

/* The batch size measured for the most models; ties go to 128 (the
 * paper's), then to the one nearest 128. */
static int main_batch(const struct rep_group *g) {
  int best = 0;
  size_t best_n = 0;
  for (size_t i = 0; i < g->n_cells; i++) {
    int b = g->cells[i].batch;
    size_t n = 0;
    for (size_t j = 0; j < g->n_cells; j++)
      n += g->cells[j].batch == b;
    bool better = n > best_n || (n == best_n && best != 128 &&
                                 (b == 128 || abs(b - 128) < abs(best - 128)));
    if (better) {
      best = b;
      best_n = n;
    }
  }
  return best;
}

static void finish_group(struct rep_group *g) {
  static const char *const parts[] = {"CPU", "DRAM", "GPU"};
  g->main_batch = main_batch(g);
  g->net = true;
  for (size_t i = 0; i < g->n_cells; i++)
    for (int k = 0; k < REP_N_KINDS; k++) {
      const struct rep_phases *p = &g->cells[i].ph[k];
      if (p->n && !isnan(p->energy_j)) {
        g->metered = true;
        if (isnan(p->net_energy_j))
          g->net = false;
      }
    }
  g->net = g->net && g->metered;
  size_t len = 0;
  for (int p = 0; p < REP_N_PARTS; p++) {
    if (!g->part[p].present)
      continue;
    int n = snprintf(g->energy_prov + len, sizeof(g->energy_prov) - len,
                     "%s%s %s", len ? ", " : "", parts[p], g->part[p].prov);
    if (n > 0 && (size_t)n < sizeof(g->energy_prov) - len)
      len += (size_t)n;
  }
  if (!len)
    gm__strlcpy(g->energy_prov, "not measured", sizeof(g->energy_prov));
}

static enum gm_status load_groups(struct loader *L, struct rep_data *d) {
  for (size_t b = 0; b < d->n_benches; b++) {
    bool known = false;
    for (size_t i = 0; i < d->n_groups; i++)
      known = known || d->groups[i].host_id == d->benches[b].host_id;
    if (known)
      continue;
    if (!grow((void **)&d->groups, d->n_groups, sizeof(*d->groups)))
      return oom(L);
    struct rep_group *g = &d->groups[d->n_groups++];
    memset(g, 0, sizeof(*g));
    g->host_id = d->benches[b].host_id;
  }
  for (size_t i = 0; i < d->n_groups && L->rc == GM_OK; i++) {
    struct rep_group *g = &d->groups[i];
    if (d->n_groups > 1)
      gm__fmt(g->prefix, sizeof(g->prefix), "hc%zu", i + 1);
    load_components(L, g, d);
    size_t len = 0;
    for (size_t b = 0; b < d->n_benches; b++) {
      if (d->benches[b].host_id != g->host_id)
        continue;
      int n = snprintf(g->bench_names + len, sizeof(g->bench_names) - len,
                       "%s%s", len ? ", " : "", d->benches[b].name);
      if (n > 0 && (size_t)n < sizeof(g->bench_names) - len)
        len += (size_t)n;
    }
    int64_t newest = 0;
    /* newest first: a cell measured twice keeps the newer rows */
    for (size_t b = d->n_benches; b-- > 0 && L->rc == GM_OK;) {
      const struct rep_bench *rb = &d->benches[b];
      if (rb->host_id != g->host_id)
        continue;
      if (!newest)
        newest = rb->id;
      load_cells(L, g, rb->id);
      load_part_power(L, g, rb->id);
      load_epochs(L, g, rb->id);
      load_models(L, g, rb->id);
      load_part_provenance(L, g, rb->id);
    }
    describe_host(L, g, newest);
    finish_group(g);
  }
  return L->rc;
}

static double col_or_nan(sqlite3_stmt *s, int i) {
  return sqlite3_column_type(s, i) == SQLITE_NULL ? NAN
                                                  : sqlite3_column_double(s, i);
}

/* The predictions of the selected benches, in bench and model order. */
static enum gm_status load_predictions(struct loader *L, struct rep_data *d) {
  for (size_t b = 0; b < d->n_benches; b++) {
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(
            L->db,
            "SELECT model, batch_size, kind, profile_epochs, energy_j, "
            "energy_lo_j, energy_hi_j, duration_s, duration_lo_s, "
            "duration_hi_s, actual_energy_j, actual_duration_s, provenance "
            "FROM bench_predictions WHERE bench_id=? ORDER BY rowid",
            -1, &s, NULL) != SQLITE_OK) {
      gm__fmt(L->err, L->err_size, "cannot read the predictions: %s",
              sqlite3_errmsg(L->db));
      return GM_ERR_DATABASE;
    }
    sqlite3_bind_int64(s, 1, d->benches[b].id);
    while (sqlite3_step(s) == SQLITE_ROW) {
      struct rep_prediction *np = realloc(
          d->predictions, (d->n_predictions + 1) * sizeof(*d->predictions));
      if (!np) {
        sqlite3_finalize(s);
        return GM_ERR_NO_MEMORY;
      }
      d->predictions = np;
      struct rep_prediction *p = &d->predictions[d->n_predictions++];
      memset(p, 0, sizeof(*p));
      gm__strlcpy(p->bench, d->benches[b].name, sizeof(p->bench));
      const char *t = (const char *)sqlite3_column_text(s, 0);
      gm__strlcpy(p->model, t ? t : "", sizeof(p->model));
      p->batch = sqlite3_column_int(s, 1);
      t = (const char *)sqlite3_column_text(s, 2);
      gm__strlcpy(p->kind, t ? t : "", sizeof(p->kind));
      p->profile_epochs = col_or_nan(s, 3);
      p->energy_j = col_or_nan(s, 4);
      p->energy_lo_j = col_or_nan(s, 5);
      p->energy_hi_j = col_or_nan(s, 6);
      p->duration_s = col_or_nan(s, 7);
      p->duration_lo_s = col_or_nan(s, 8);
      p->duration_hi_s = col_or_nan(s, 9);
      p->actual_energy_j = col_or_nan(s, 10);
      p->actual_duration_s = col_or_nan(s, 11);
      t = (const char *)sqlite3_column_text(s, 12);
      gm__strlcpy(p->prov, t ? t : "", sizeof(p->prov));
    }
    sqlite3_finalize(s);
  }
  return GM_OK;
}

enum gm_status rep_data_load(struct sqlite3 *db, const char *run,
                             struct rep_data *out, char *err, size_t err_size) {
  memset(out, 0, sizeof(*out));
  struct loader L = {db, err, err_size, GM_OK};
  err[0] = '\0';
  enum gm_status rc = select_benches(&L, run, out);
  if (rc != GM_OK)
    return rc;
  rc = load_groups(&L, out);
  if (rc != GM_OK)
    return rc;
  rc = load_predictions(&L, out);
  if (rc != GM_OK)
    return rc;
  size_t cells = 0;
  for (size_t i = 0; i < out->n_groups; i++)
    cells += out->groups[i].n_cells;
  if (!cells) {
    out->missing = REP_MISSING_PHASES;
    gm__fmt(err, err_size,
            "the bench%s %s%s no training or inference phase recorded",
            out->n_benches > 1 ? "es" : "", out->groups[0].bench_names,
            out->n_benches > 1 ? " have" : " has");
    return GM_ERR_NOT_FOUND;
  }
  return GM_OK;
}

void rep_data_free(struct rep_data *d) {
  if (!d)
    return;
  for (size_t i = 0; i < d->n_groups; i++) {
    struct rep_group *g = &d->groups[i];
    for (size_t c = 0; c < g->n_cells; c++)
      free(g->cells[c].epochs);
    free(g->cells);
    free(g->models);
    free(g->components);
  }
  free(d->groups);
  free(d->benches);
  free(d->predictions);
  memset(d, 0, sizeof(*d));
}

const struct rep_cell *rep_cell_find(const struct rep_group *g,
                                     const char *model, int batch) {
  for (size_t i = 0; i < g->n_cells; i++)
    if (g->cells[i].batch == batch && strcmp(g->cells[i].model, model) == 0)
      return &g->cells[i];
  return NULL;
}

const struct rep_model *rep_model_find(const struct rep_group *g,
                                       const char *model) {
  for (size_t i = 0; i < g->n_models; i++)
    if (strcmp(g->models[i].name, model) == 0)
      return &g->models[i];
  return NULL;
}

double rep_energy(const struct rep_group *g, const struct rep_phases *p) {
  return g->net ? p->net_energy_j : p->energy_j;
}

const char *rep_part_label(enum rep_part p) {
  return p == REP_CPU ? "CPU" : p == REP_DRAM ? "DRAM" : "GPU";
}

/* load.c: the report's data (greenml/report.h) from the store's bench
 * tables (gm_store_load_benches): the benches selected, grouped by host,
 * each group's cells (model x batch size) summed per kind of phase,
 * per-epoch curves, per-part power, the models' characteristics, how every
 * component was measured (from the host description each bench stored as
 * JSON) and the predictions. Selection and arithmetic only: no SQL, no
 * drawing, no printing. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json_read.h"
#include "base/util.h"
#include "greenml/report.h"

/* The loader's state: the selection, its rows and the first error. */
struct loader {
  const struct gm_store_bench_set *set; /* rows of the selected benches */
  char *err;
  size_t err_size;
  enum gm_status rc;
};

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

static bool is_phase_kind(const char *kind) {
  return strcmp(kind, "train") == 0 || strcmp(kind, "infer") == 0;
}

static int kind_of(const char *kind) {
  return strcmp(kind, "train") == 0 ? GM_REPORT_TRAIN : GM_REPORT_INFER;
}

static int part_of(const char *kind) {
  if (strcmp(kind, "cpu") == 0)
    return GM_REPORT_CPU;
  if (strcmp(kind, "dram") == 0)
    return GM_REPORT_DRAM;
  if (strcmp(kind, "gpu") == 0)
    return GM_REPORT_GPU;
  return -1;
}

/* ---- JSON fields ----------------------------------------------------------
 * The bench's configuration and host description are JSON documents; a
 * field that is missing (or a document that does not parse) reads as 0 or
 * "", as SQLite's json_extract would give NULL. */

static long long json_int(const struct gm__json_value *v) {
  if (!v)
    return 0;
  if (v->type == GM__JSON_STRING)
    return strtoll(v->string, NULL, 10);
  double d = gm__json_number(v);
  return isfinite(d) ? (long long)d : 0;
}

static double json_real(const struct gm__json_value *v) {
  if (v && v->type == GM__JSON_STRING)
    return strtod(v->string, NULL);
  double d = gm__json_number(v);
  return isfinite(d) ? d : 0;
}

static void json_str(const struct gm__json_value *obj, const char *key,
                     char *buf, size_t size) {
  gm__json_text(gm__json_get(obj, key), buf, size);
}

/* ---- benches ------------------------------------------------------------- */

static bool selected(const struct gm_store_bench *b, const char *run) {
  if (!run)
    return strcmp(b->status, "complete") == 0;
  char id[32];
  snprintf(id, sizeof(id), "%lld", (long long)b->id);
  return strcmp(b->name, run) == 0 || strcmp(id, run) == 0;
}

/* "16 models, batch sizes [128], 2 epochs, 50000 inference samples per
 * pass" from the configuration the bench stored. */
static void describe_grid(const char *config_json, char *buf, size_t size) {
  struct gm__json_value *cfg = NULL;
  if (config_json && gm__json_parse(config_json, &cfg) != GM_OK)
    cfg = NULL;
  const struct gm__json_value *models = gm__json_get(cfg, "models");
  char batches[128];
  json_str(cfg, "batch_sizes", batches, sizeof(batches));
  gm__fmt(buf, size,
          "%d models, batch sizes %s, %d epochs, %lld inference samples "
          "per pass",
          models && models->type == GM__JSON_ARRAY ? (int)models->n : 0,
          batches, (int)json_int(gm__json_get(cfg, "epochs")),
          json_int(gm__json_get(cfg, "infer_samples")));
  gm__json_free(cfg);
}

static enum gm_status select_benches(struct loader *L,
                                     const struct gm_store_bench_set *all,
                                     const char *run, struct gm_report *d) {
  for (size_t i = 0; i < all->n_benches; i++) {
    const struct gm_store_bench *sb = &all->benches[i];
    if (!selected(sb, run))
      continue;
    if (!grow((void **)&d->benches, d->n_benches, sizeof(*d->benches)))
      return oom(L);
    struct gm_report_bench *b = &d->benches[d->n_benches++];
    memset(b, 0, sizeof(*b));
    b->id = sb->id;
    b->host_id = sb->host_id;
    gm__strlcpy(b->name, sb->name, sizeof(b->name));
    gm__strlcpy(b->status, sb->status, sizeof(b->status));
    gm__strlcpy(b->created, sb->created_at, sizeof(b->created));
    describe_grid(sb->config_json, b->grid, sizeof(b->grid));
  }
  if (d->n_benches)
    return GM_OK;
  /* nothing selected: the message lists what there is */
  char names[512] = "";
  size_t len = 0;
  for (size_t i = 0; i < all->n_benches && len + 1 < sizeof(names); i++) {
    int n =
        snprintf(names + len, sizeof(names) - len, "%s%s (%s)", len ? ", " : "",
                 all->benches[i].name, all->benches[i].status);
    if (n < 0 || (size_t)n >= sizeof(names) - len)
      break;
    len += (size_t)n;
  }
  if (!all->n_benches) {
    d->missing = GM_REPORT_MISSING_BENCHES;
    gm__fmt(L->err, L->err_size, "the database holds no bench");
  } else if (run) {
    d->missing = GM_REPORT_MISSING_NAMED;
    gm__fmt(L->err, L->err_size,
            "no bench named '%s' (nor with that id); the database holds: %s",
            run, names);
  } else {
    d->missing = GM_REPORT_MISSING_COMPLETE;
    gm__fmt(L->err, L->err_size, "no complete bench; the database holds: %s",
            names);
  }
  return GM_ERR_NOT_FOUND;
}

static const struct gm_store_bench *stored_bench(const struct loader *L,
                                                 int64_t id) {
  for (size_t i = 0; i < L->set->n_benches; i++)
    if (L->set->benches[i].id == id)
      return &L->set->benches[i];
  return NULL;
}

/* ---- groups: host, components, provenance -------------------------------- */

static void describe_host(struct loader *L, struct gm_report_group *g,
                          int64_t bench_id) {
  const struct gm_store_bench *b = stored_bench(L, bench_id);
  struct gm__json_value *h = NULL;
  if (!b || !b->host_json || gm__json_parse(b->host_json, &h) != GM_OK) {
    gm__fmt(g->host, sizeof(g->host), "host %lld (not described)",
            (long long)g->host_id);
    return;
  }
  /* each GPU's description up to its first comma: "NVIDIA RTX 3090" */
  char gpus[256] = "";
  const struct gm__json_value *list = gm__json_get(h, "gpus");
  size_t len = 0;
  for (size_t i = 0;
       list &&
       (list->type == GM__JSON_ARRAY || list->type == GM__JSON_OBJECT) &&
       i < list->n;
       i++) {
    const struct gm__json_value *detail =
        gm__json_get(&list->items[i], "detail");
    if (!detail || detail->type == GM__JSON_NULL)
      continue;
    char d[192];
    gm__json_text(detail, d, sizeof(d));
    char *comma = strchr(d, ',');
    if (comma)
      *comma = '\0';
    int n =
        snprintf(gpus + len, sizeof(gpus) - len, "%s%s", len ? " + " : "", d);
    if (n > 0 && (size_t)n < sizeof(gpus) - len)
      len += (size_t)n;
  }
  char hostname[128], cpu[128];
  json_str(h, "hostname", hostname, sizeof(hostname));
  json_str(h, "cpu_model", cpu, sizeof(cpu));
  gm__fmt(g->host, sizeof(g->host),
          "%s: %s, %d logical CPUs, %.1f GiB memory, %s%s", hostname, cpu,
          (int)json_int(gm__json_get(h, "logical_cpus")),
          json_real(gm__json_get(h, "mem_total_bytes")) / 1073741824.0,
          gpus[0] ? "GPU " : "no GPU", gpus);
  gm__json_free(h);
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
static void load_components(struct loader *L, struct gm_report_group *g,
                            const struct gm_report *d) {
  for (size_t b = d->n_benches; b-- > 0 && L->rc == GM_OK;) {
    if (d->benches[b].host_id != g->host_id)
      continue;
    const struct gm_store_bench *sb = stored_bench(L, d->benches[b].id);
    struct gm__json_value *h = NULL;
    if (!sb || !sb->host_json || gm__json_parse(sb->host_json, &h) != GM_OK)
      continue;
    const struct gm__json_value *list = gm__json_get(h, "components");
    for (size_t i = 0;
         list &&
         (list->type == GM__JSON_ARRAY || list->type == GM__JSON_OBJECT) &&
         i < list->n;
         i++) {
      const struct gm__json_value *v = &list->items[i];
      char name[48];
      json_str(v, "name", name, sizeof(name));
      bool seen = false;
      for (size_t k = 0; k < g->n_components; k++)
        seen = seen || strcmp(g->components[k].name, name) == 0;
      if (seen)
        continue;
      if (!grow((void **)&g->components, g->n_components,
                sizeof(*g->components))) {
        oom(L);
        break;
      }
      struct gm_report_component *c = &g->components[g->n_components++];
      memset(c, 0, sizeof(*c));
      gm__strlcpy(c->name, name, sizeof(c->name));
      json_str(v, "kind", c->kind, sizeof(c->kind));
      json_str(v, "source", c->source, sizeof(c->source));
      char prov[32], signal[32];
      json_str(v, "provenance", prov, sizeof(prov));
      json_str(v, "signal", signal, sizeof(signal));
      prov_label(prov, signal, c->prov, sizeof(c->prov));
      json_str(v, "detail", c->detail, sizeof(c->detail));
      c->in_total = json_int(gm__json_get(v, "in_total")) != 0;
    }
    gm__json_free(h);
  }
}

/* The in-total components of the bench's metered phases, each (name, kind,
 * provenance) once, by name. */
struct part_row {
  const char *name, *kind, *prov;
};

static int cmp_part_row(const void *a, const void *b) {
  return strcmp(((const struct part_row *)a)->name,
                ((const struct part_row *)b)->name);
}

/* How each part was measured in the phases used, with the signal from the
 * host description. */
static void load_part_provenance(struct loader *L, struct gm_report_group *g,
                                 int64_t bench_id) {
  const struct gm_store_bench_set *set = L->set;
  struct part_row *rows = NULL;
  size_t n = 0;
  for (size_t i = 0; i < set->n_phases; i++) {
    const struct gm_store_bench_phase *p = &set->phases[i];
    if (p->bench_id != bench_id || !p->metered)
      continue;
    for (size_t c = 0; c < p->n_components; c++) {
      const struct gm_store_phase_component *pc = &p->components[c];
      if (!pc->in_total)
        continue;
      bool seen = false;
      for (size_t k = 0; k < n && !seen; k++)
        seen = strcmp(rows[k].name, pc->name) == 0 &&
               strcmp(rows[k].kind, pc->kind) == 0 &&
               strcmp(rows[k].prov, pc->provenance) == 0;
      if (seen)
        continue;
      if (!grow((void **)&rows, n, sizeof(*rows))) {
        free(rows);
        oom(L);
        return;
      }
      rows[n++] = (struct part_row){pc->name, pc->kind, pc->provenance};
    }
  }
  if (n)
    qsort(rows, n, sizeof(*rows), cmp_part_row);
  for (size_t r = 0; r < n; r++) {
    int p = part_of(rows[r].kind);
    if (p < 0)
      continue;
    const char *name = rows[r].name;
    char label[24];
    gm__strlcpy(label, rows[r].prov, sizeof(label));
    for (size_t i = 0; i < g->n_components; i++)
      if (strcmp(g->components[i].name, name) == 0)
        gm__strlcpy(label, g->components[i].prov, sizeof(label));
    struct gm_report_part_info *pi = &g->part[p];
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
  free(rows);
}

/* ---- cells --------------------------------------------------------------- */

/* The cell for (model, batch) of bench_id, made when new; NULL when a newer
 * bench already has it (or out of memory: L->rc). */
static struct gm_report_cell *cell_get(struct loader *L,
                                       struct gm_report_group *g,
                                       const char *model, int batch,
                                       int64_t bench_id) {
  for (size_t i = 0; i < g->n_cells; i++)
    if (g->cells[i].batch == batch && strcmp(g->cells[i].model, model) == 0)
      return g->cells[i].bench_id == bench_id ? &g->cells[i] : NULL;
  if (!grow((void **)&g->cells, g->n_cells, sizeof(*g->cells))) {
    oom(L);
    return NULL;
  }
  struct gm_report_cell *c = &g->cells[g->n_cells++];
  memset(c, 0, sizeof(*c));
  gm__strlcpy(c->model, model, sizeof(c->model));
  c->batch = batch;
  c->bench_id = bench_id;
  for (int k = 0; k < GM_REPORT_N_KINDS; k++) {
    c->ph[k].energy_j = c->ph[k].net_energy_j = NAN;
    c->ph[k].cpu_util_pct = c->ph[k].gpu_util_pct = NAN;
    c->ph[k].vram_bytes = NAN;
    for (int p = 0; p < GM_REPORT_N_PARTS; p++)
      c->ph[k].power_w[p] = NAN;
  }
  return c;
}

/* Keeps each bench's rows of its first precision (the first of
 * --precisions: its first row's), so that a cell of Figs. 2 to 7 and of
 * the tables is never two precisions summed; the precisions side by side
 * are the report's own section (gm_analysis_precisions). The rows move
 * within the set's array, which still owns what they point at. */
static void first_precision_only(struct gm_store_bench_set *set) {
  size_t m = 0;
  for (size_t i = 0; i < set->n_phases; i++) {
    const struct gm_store_bench_phase *p = &set->phases[i];
    /* a bench's first row is kept: its precision is the bench's */
    const char *first = p->precision;
    for (size_t j = 0; j < m; j++)
      if (set->phases[j].bench_id == p->bench_id) {
        first = set->phases[j].precision;
        break;
      }
    if (strcmp(p->precision, first) != 0)
      continue;
    if (m != i)
      set->phases[m] = set->phases[i];
    m++;
  }
  set->n_phases = m;
}

/* Whether phase row i counts: a training or inference row, and of the rows
 * of the same phase the metered one (a bench with --overhead has both). */
static bool row_counts(const struct gm_store_bench_set *set, size_t i) {
  const struct gm_store_bench_phase *p = &set->phases[i];
  if (!is_phase_kind(p->kind))
    return false;
  if (p->metered)
    return true;
  for (size_t j = 0; j < set->n_phases; j++) {
    const struct gm_store_bench_phase *q = &set->phases[j];
    if (q->metered && q->bench_id == p->bench_id && q->epoch == p->epoch &&
        q->batch_size == p->batch_size && strcmp(q->kind, p->kind) == 0 &&
        strcmp(q->model, p->model) == 0)
      return false;
  }
  return true;
}

/* Sums of one (model, batch size, kind) over the rows that count. */
struct agg {
  const char *model, *kind;
  int batch;
  int n, max_epoch;
  double duration_s, samples;
  double energy_j, net_energy_j; /* NAN once a row has none */
  double cpu_num, cpu_den, gpu_num, gpu_den, vram_num, vram_den;
};

static void weigh(double v, double dur, double *num, double *den) {
  if (isnan(v))
    return;
  *num += v * dur;
  *den += dur;
}

static double weighted(double num, double den) {
  return den > 0 ? num / den : NAN;
}

/* One bench's phases summed per (model, batch size, kind), in order of
 * their first row. A cell already taken from a newer bench is skipped and
 * counted. */
static void load_cells(struct loader *L, struct gm_report_group *g,
                       int64_t bench_id) {
  const struct gm_store_bench_set *set = L->set;
  struct agg *aggs = NULL;
  size_t n = 0;
  for (size_t i = 0; i < set->n_phases; i++) {
    const struct gm_store_bench_phase *p = &set->phases[i];
    if (p->bench_id != bench_id || !row_counts(set, i))
      continue;
    struct agg *a = NULL;
    for (size_t k = 0; k < n && !a; k++)
      if (aggs[k].batch == p->batch_size &&
          strcmp(aggs[k].kind, p->kind) == 0 &&
          strcmp(aggs[k].model, p->model) == 0)
        a = &aggs[k];
    if (!a) {
      if (!grow((void **)&aggs, n, sizeof(*aggs))) {
        free(aggs);
        oom(L);
        return;
      }
      a = &aggs[n++];
      *a = (struct agg){
          .model = p->model, .kind = p->kind, .batch = p->batch_size};
    }
    a->n++;
    a->max_epoch =
        a->n == 1 || p->epoch > a->max_epoch ? p->epoch : a->max_epoch;
    a->duration_s += p->duration_s;
    a->samples += (double)p->samples;
    a->energy_j += p->energy_j;         /* NAN sticks */
    a->net_energy_j += p->net_energy_j; /* likewise */
    weigh(p->cpu_util_pct, p->duration_s, &a->cpu_num, &a->cpu_den);
    weigh(p->gpu_util_pct, p->duration_s, &a->gpu_num, &a->gpu_den);
    weigh(p->vram_used_bytes, p->duration_s, &a->vram_num, &a->vram_den);
  }
  for (size_t k = 0; k < n; k++) {
    const struct agg *a = &aggs[k];
    struct gm_report_cell *c = cell_get(L, g, a->model, a->batch, bench_id);
    if (!c) {
      if (L->rc != GM_OK)
        break;
      if (strcmp(a->kind, "train") == 0)
        g->n_superseded++;
      continue;
    }
    struct gm_report_phases *ph = &c->ph[kind_of(a->kind)];
    ph->n = a->n;
    ph->duration_s = a->duration_s;
    ph->samples = a->samples;
    ph->energy_j = a->energy_j;
    ph->net_energy_j = a->net_energy_j;
    ph->cpu_util_pct = weighted(a->cpu_num, a->cpu_den);
    ph->gpu_util_pct = weighted(a->gpu_num, a->gpu_den);
    ph->vram_bytes = weighted(a->vram_num, a->vram_den);
    if (a->max_epoch > c->n_epochs)
      c->n_epochs = a->max_epoch;
  }
  free(aggs);
}

/* Per-part mean power: the energy of the part's in-total components over
 * the metered phases' duration. */
static void load_part_power(struct loader *L, struct gm_report_group *g,
                            int64_t bench_id) {
  const struct gm_store_bench_set *set = L->set;
  size_t nc = g->n_cells;
  double *sum = calloc(nc ? nc * GM_REPORT_N_KINDS * GM_REPORT_N_PARTS : 1,
                       sizeof(double));
  bool *has =
      calloc(nc ? nc * GM_REPORT_N_KINDS * GM_REPORT_N_PARTS : 1, sizeof(bool));
  if (!sum || !has) {
    free(sum);
    free(has);
    oom(L);
    return;
  }
  for (size_t i = 0; i < set->n_phases; i++) {
    const struct gm_store_bench_phase *p = &set->phases[i];
    if (p->bench_id != bench_id || !p->metered || !is_phase_kind(p->kind))
      continue;
    const struct gm_report_cell *c =
        gm_report_cell_find(g, p->model, p->batch_size);
    if (!c || c->bench_id != bench_id)
      continue;
    size_t ci = (size_t)(c - g->cells);
    for (size_t k = 0; k < p->n_components; k++) {
      const struct gm_store_phase_component *pc = &p->components[k];
      int part = part_of(pc->kind);
      if (!pc->in_total || isnan(pc->energy_j) || part < 0)
        continue;
      size_t at = (ci * GM_REPORT_N_KINDS + (size_t)kind_of(p->kind)) *
                      GM_REPORT_N_PARTS +
                  (size_t)part;
      sum[at] += pc->energy_j;
      has[at] = true;
    }
  }
  for (size_t ci = 0; ci < nc; ci++)
    for (int k = 0; k < GM_REPORT_N_KINDS; k++)
      for (int part = 0; part < GM_REPORT_N_PARTS; part++) {
        size_t at = (ci * GM_REPORT_N_KINDS + (size_t)k) * GM_REPORT_N_PARTS +
                    (size_t)part;
        struct gm_report_phases *ph = &g->cells[ci].ph[k];
        if (has[at] && ph->duration_s > 0)
          ph->power_w[part] = sum[at] / ph->duration_s;
      }
  free(sum);
  free(has);
}

static void load_epochs(struct loader *L, struct gm_report_group *g,
                        int64_t bench_id) {
  for (size_t i = 0; i < g->n_cells && L->rc == GM_OK; i++) {
    struct gm_report_cell *c = &g->cells[i];
    if (c->bench_id != bench_id || c->epochs || c->n_epochs <= 0)
      continue;
    c->epochs = malloc((size_t)c->n_epochs * sizeof(*c->epochs));
    if (!c->epochs) {
      oom(L);
      return;
    }
    for (int e = 0; e < c->n_epochs; e++)
      c->epochs[e] = (struct gm_report_epoch){NAN, NAN, NAN, NAN, NAN, NAN};
  }
  const struct gm_store_bench_set *set = L->set;
  for (size_t i = 0; i < set->n_phases; i++) {
    const struct gm_store_bench_phase *p = &set->phases[i];
    if (p->bench_id != bench_id || !row_counts(set, i))
      continue;
    const struct gm_report_cell *c =
        gm_report_cell_find(g, p->model, p->batch_size);
    int e = p->epoch;
    if (!c || c->bench_id != bench_id || !c->epochs || e < 1 || e > c->n_epochs)
      continue;
    struct gm_report_epoch *ep = &c->epochs[e - 1];
    if (strcmp(p->kind, "train") == 0) {
      ep->train_loss = p->loss;
      ep->train_acc = p->accuracy;
      ep->train_energy_j = p->energy_j;
      ep->train_net_energy_j = p->net_energy_j;
    } else {
      ep->test_loss = p->loss;
      ep->test_acc = p->accuracy;
    }
  }
}

static void load_models(struct loader *L, struct gm_report_group *g,
                        int64_t bench_id) {
  const struct gm_store_bench_set *set = L->set;
  for (size_t i = 0; i < set->n_models; i++) {
    const struct gm_store_bench_model *sm = &set->models[i];
    if (sm->bench_id != bench_id || gm_report_model_find(g, sm->model))
      continue;
    if (!grow((void **)&g->models, g->n_models, sizeof(*g->models))) {
      oom(L);
      return;
    }
    struct gm_report_model *m = &g->models[g->n_models++];
    memset(m, 0, sizeof(*m));
    gm__strlcpy(m->name, sm->model, sizeof(m->name));
    m->params = sm->params;
    m->size_bytes = sm->size_bytes;
    m->macs = sm->macs;
    m->macs_per_param = sm->macs_per_param;
  }
}

/* The batch size measured for the most models; ties go to 128 (the
 * paper's), then to the one nearest 128. */
static int main_batch(const struct gm_report_group *g) {
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

static void finish_group(struct gm_report_group *g) {
  g->main_batch = main_batch(g);
  g->net = true;
  for (size_t i = 0; i < g->n_cells; i++)
    for (int k = 0; k < GM_REPORT_N_KINDS; k++) {
      const struct gm_report_phases *p = &g->cells[i].ph[k];
      if (p->n && !isnan(p->energy_j)) {
        g->metered = true;
        if (isnan(p->net_energy_j))
          g->net = false;
        else if (!(p->net_energy_j > 0))
          g->n_net_not_positive++;
      }
    }
  g->net = g->net && g->metered;
  size_t len = 0;
  for (int p = 0; p < GM_REPORT_N_PARTS; p++) {
    if (!g->part[p].present)
      continue;
    int n =
        snprintf(g->energy_prov + len, sizeof(g->energy_prov) - len, "%s%s %s",
                 len ? ", " : "", gm_report_part_label((enum gm_report_part)p),
                 g->part[p].prov);
    if (n > 0 && (size_t)n < sizeof(g->energy_prov) - len)
      len += (size_t)n;
  }
  if (!len)
    gm__strlcpy(g->energy_prov, "not measured", sizeof(g->energy_prov));
}

static enum gm_status load_groups(struct loader *L, struct gm_report *d) {
  for (size_t b = 0; b < d->n_benches; b++) {
    bool known = false;
    for (size_t i = 0; i < d->n_groups; i++)
      known = known || d->groups[i].host_id == d->benches[b].host_id;
    if (known)
      continue;
    if (!grow((void **)&d->groups, d->n_groups, sizeof(*d->groups)))
      return oom(L);
    struct gm_report_group *g = &d->groups[d->n_groups++];
    memset(g, 0, sizeof(*g));
    g->host_id = d->benches[b].host_id;
  }
  for (size_t i = 0; i < d->n_groups && L->rc == GM_OK; i++) {
    struct gm_report_group *g = &d->groups[i];
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
      const struct gm_report_bench *rb = &d->benches[b];
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

/* The predictions of the selected benches, in bench and recorded order. */
static enum gm_status load_predictions(struct loader *L, struct gm_report *d) {
  const struct gm_store_bench_set *set = L->set;
  for (size_t b = 0; b < d->n_benches; b++)
    for (size_t i = 0; i < set->n_predictions; i++) {
      const struct gm_store_bench_prediction *sp = &set->predictions[i];
      if (sp->bench_id != d->benches[b].id)
        continue;
      if (!grow((void **)&d->predictions, d->n_predictions,
                sizeof(*d->predictions)))
        return oom(L);
      struct gm_report_prediction *p = &d->predictions[d->n_predictions++];
      memset(p, 0, sizeof(*p));
      gm__strlcpy(p->bench, d->benches[b].name, sizeof(p->bench));
      gm__strlcpy(p->model, sp->model, sizeof(p->model));
      p->batch = sp->batch_size;
      gm__strlcpy(p->kind, sp->kind, sizeof(p->kind));
      p->profile_epochs = sp->profile_epochs;
      p->energy_j = sp->energy_j;
      p->energy_lo_j = sp->energy_lo_j;
      p->energy_hi_j = sp->energy_hi_j;
      p->duration_s = sp->duration_s;
      p->duration_lo_s = sp->duration_lo_s;
      p->duration_hi_s = sp->duration_hi_s;
      p->actual_energy_j = sp->actual_energy_j;
      p->actual_duration_s = sp->actual_duration_s;
      gm__strlcpy(p->prov, sp->provenance, sizeof(p->prov));
    }
  return GM_OK;
}

/* The store's message for a failed query. */
static enum gm_status store_failed(struct loader *L, struct gm_store *st,
                                   enum gm_status rc) {
  gm__fmt(L->err, L->err_size, "%s", gm_store_last_error(st));
  return L->rc = rc;
}

enum gm_status gm_report_load(struct gm_store *st, const char *run,
                              struct gm_report *out, char *err,
                              size_t err_size) {
  if (!out)
    return GM_ERR_INVALID_ARG;
  memset(out, 0, sizeof(*out));
  char none[1];
  if (!err || !err_size) {
    err = none;
    err_size = sizeof(none);
  }
  err[0] = '\0';
  if (!st)
    return GM_ERR_INVALID_ARG;
  struct loader L = {NULL, err, err_size, GM_OK};
  /* the benches alone to select from, then the rows of the selection */
  struct gm_store_bench_filter f = {.bench_id = 0, .rows = false};
  struct gm_store_bench_set *all = NULL, *rows = NULL;
  enum gm_status rc = gm_store_load_benches(st, &f, &all);
  if (rc != GM_OK)
    return store_failed(&L, st, rc);
  rc = select_benches(&L, all, run, out);
  gm_store_bench_set_free(all);
  if (rc != GM_OK)
    return rc;
  f.rows = true;
  f.bench_id = out->n_benches == 1 ? out->benches[0].id : 0;
  if ((rc = gm_store_load_benches(st, &f, &rows)) != GM_OK)
    return store_failed(&L, st, rc);
  first_precision_only(rows);
  L.set = rows;
  rc = load_groups(&L, out);
  if (rc == GM_OK)
    rc = load_predictions(&L, out);
  gm_store_bench_set_free(rows);
  if (rc != GM_OK)
    return rc;
  size_t cells = 0;
  for (size_t i = 0; i < out->n_groups; i++)
    cells += out->groups[i].n_cells;
  if (!cells) {
    out->missing = GM_REPORT_MISSING_PHASES;
    gm__fmt(err, err_size,
            "the bench%s %s%s no training or inference phase recorded",
            out->n_benches > 1 ? "es" : "", out->groups[0].bench_names,
            out->n_benches > 1 ? " have" : " has");
    return GM_ERR_NOT_FOUND;
  }
  return GM_OK;
}

void gm_report_clear(struct gm_report *d) {
  if (!d)
    return;
  for (size_t i = 0; i < d->n_groups; i++) {
    struct gm_report_group *g = &d->groups[i];
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

const struct gm_report_cell *
gm_report_cell_find(const struct gm_report_group *g, const char *model,
                    int batch) {
  for (size_t i = 0; i < g->n_cells; i++)
    if (g->cells[i].batch == batch && strcmp(g->cells[i].model, model) == 0)
      return &g->cells[i];
  return NULL;
}

const struct gm_report_model *
gm_report_model_find(const struct gm_report_group *g, const char *model) {
  for (size_t i = 0; i < g->n_models; i++)
    if (strcmp(g->models[i].name, model) == 0)
      return &g->models[i];
  return NULL;
}

bool gm_report_net_excluded(const struct gm_report_group *g,
                            const struct gm_report_phases *p) {
  return g->net && p->n > 0 && isfinite(p->energy_j) && !(p->net_energy_j > 0);
}

double gm_report_energy(const struct gm_report_group *g,
                        const struct gm_report_phases *p) {
  if (!g->net)
    return p->energy_j;
  return p->net_energy_j > 0 ? p->net_energy_j : NAN;
}

double gm_report_epoch_energy(const struct gm_report_group *g,
                              const struct gm_report_epoch *e) {
  if (!g->net)
    return e->train_energy_j;
  return e->train_net_energy_j > 0 ? e->train_net_energy_j : NAN;
}

void gm_report_use_gross(struct gm_report *r) {
  for (size_t i = 0; r && i < r->n_groups; i++) {
    struct gm_report_group *g = &r->groups[i];
    g->gross_asked = g->gross_asked || g->net;
    g->net = false;
  }
}

const char *gm_report_part_label(enum gm_report_part p) {
  return p == GM_REPORT_CPU ? "CPU" : p == GM_REPORT_DRAM ? "DRAM" : "GPU";
}

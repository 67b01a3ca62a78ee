/* meter.c: the public meter. Owns the sources, the sampler thread (absolute
 * deadlines on CLOCK_MONOTONIC), the writer thread (hands samples to the
 * caller's callbacks through a bounded queue), the accumulators and the
 * phases. Energy integration happens on the sampler thread and never waits
 * for the writer: a slow consumer loses stored samples (counted), never
 * joules. */
#define _GNU_SOURCE
#include <assert.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/util.h"
#include "greenml/meter.h"
#include "meter/attrib.h"
#include "meter/integrate.h"
#include "meter/meter_internal.h"
#include "meter/procstat.h"
#include "meter/source.h"

#define MAX_SOURCES 16
#define HIST_CAP 512
#define QUEUE_CAP 8192
/* The writer wakes once a FLUSH_PERIOD_NS, or when the queue is this full,
 * and hands over every sample queued: one wake-up a second, not one a
 * sample (at 1 kHz the queue is half full after 4 s). */
#define WAKE_WRITER_AT (QUEUE_CAP / 2)
#define FLUSH_PERIOD_NS GM_NS_PER_S
#define MIN_INTERVAL_NS (INT64_C(1000000))

enum meter_state { STATE_CREATED, STATE_RUNNING, STATE_STOPPED };

struct src_slot {
  const struct gm__source_ops *ops;
  void *self;
  size_t comp_base, n_comp;
  size_t metric_base, n_metric;
};

struct marker {
  bool begin;
  int64_t t_ns;
  char name[64];
};

struct phase_rec {
  struct gm_phase pub;
  int64_t begin_ns;    /* CLOCK_MONOTONIC */
  double *start_e;     /* cumulative energy at the start, per component */
  double *energy;      /* per component, filled at the end */
  double *peak_w;      /* per component: highest interval power in the phase */
  double *msum, *mmax; /* per metric, over the ticks in the phase */
  uint64_t *mcount;
  uint64_t ticks;
};

struct subject {
  int id;
  struct gm__attrib *a;
  struct gm_attribution *live; /* nc, as of the latest tick */
};

struct gm_meter {
  struct gm_meter_config cfg;
  struct gm__env env;
  char sysfs[400], procfs[400], devfs[400], nvml_lib[400];
  char gpus[256], gpus_origin[32];

  struct gm_probe probes[MAX_SOURCES];
  size_t n_probes;
  struct gm_missing *missing;
  size_t n_missing;
  struct src_slot srcs[MAX_SOURCES];
  size_t n_srcs;
  struct gm__procstat *ps;

  struct gm__attrib *attrib; /* NULL: not attributing */
  struct gm_attribution *live_attr;
  /* further subjects (gm_meter_subject_add), under subj_mu */
  pthread_mutex_t subj_mu;
  struct subject *subj;
  size_t n_subj, cap_subj;
  int next_subj_id;
  /* the running sampler's and writer's CPU time, published at each tick and
   * each hand-over (0 once they have exited and added it to self_cpu_ns) */
  atomic_int_fast64_t sampler_cpu_live, writer_cpu_live;

  size_t nc;
  struct gm_component_info *comps;
  struct gm__accum *acc;
  struct gm__reading *readings;
  double *cum_j, *interval_w;

  size_t nm;
  struct gm_metric_info *metrics;
  double *mvals, *msum, *mmax;
  uint64_t *mcount;

  enum meter_state state;
  int64_t t0_ns, t_end_ns;

  /* Recent (t, cumulative energy) for phase boundaries between ticks. */
  int64_t hist_t[HIST_CAP];
  double *hist_e; /* HIST_CAP x hs: per component the cumulative energy,
                     then (attributing) its attributed part and share-time */
  size_t hs;
  size_t hist_len, hist_head;

  pthread_mutex_t mark_mu;
  struct marker *pending; /* sorted by t_ns; equal stamps in arrival order */
  size_t n_pending, cap_pending;
  int64_t applied_ns; /* the last boundary applied (t0_ns before any): no
                         marker stamped earlier is accepted */
  struct phase_rec *phases;
  size_t n_phases, cap_phases;
  bool phase_open;

  pthread_t sampler, writer;
  /* The sampler sleeps on it to each deadline; stop posts it. A semaphore
   * wait is one futex call, where a condition variable's timed wait costs
   * a second one per tick (its mutex is taken back as contended, and its
   * unlock wakes nobody with a system call). */
  sem_t wake;
  atomic_bool stop;

  pthread_mutex_t live_mu;
  double *live_e, *live_p, *live_m;
  struct gm__accum *live_acc; /* the accumulators at the latest tick */
  int64_t live_t_ns;

  pthread_mutex_t q_mu;
  pthread_cond_t q_cv;
  size_t q_head, q_len, q_stride;
  double *q_data;
  int64_t q_t[QUEUE_CAP];
  uint64_t q_seq[QUEUE_CAP];
  bool q_done;
  uint64_t seq;

  atomic_uint_fast64_t dropped, missed;
  atomic_int_fast64_t self_cpu_ns;
  char err[512];
};

struct gm_meter_config gm_meter_config_default(void) {
  struct gm_meter_config c;
  memset(&c, 0, sizeof(c));
  c.interval_ns = 100 * INT64_C(1000000);
  c.xcheck_threshold = 0.10;
  return c;
}

const char *gm_kind_name(enum gm_kind k) {
  switch (k) {
  case GM_KIND_CPU:
    return "cpu";
  case GM_KIND_DRAM:
    return "dram";
  case GM_KIND_GPU:
    return "gpu";
  case GM_KIND_PSYS:
    return "psys";
  }
  return "unknown";
}

const char *gm_domain_name(enum gm_domain d) {
  switch (d) {
  case GM_DOMAIN_PACKAGE:
    return "package";
  case GM_DOMAIN_CORES:
    return "cores";
  case GM_DOMAIN_UNCORE:
    return "uncore";
  case GM_DOMAIN_DRAM:
    return "dram";
  case GM_DOMAIN_GPU:
    return "gpu";
  case GM_DOMAIN_PSYS:
    return "psys";
  }
  return "unknown";
}

const char *gm_provenance_name(enum gm_provenance p) {
  return p == GM_PROV_MODELLED ? "modelled" : "measured";
}

const char *gm_provenance_detail(enum gm_provenance p) {
  switch (p) {
  case GM_PROV_MEASURED_COUNTER:
    return "energy counter";
  case GM_PROV_MEASURED_POWER:
    return "power sensor";
  case GM_PROV_MODELLED:
    return "model";
  }
  return "unknown";
}

static void set_err(struct gm_meter *m, const char *msg) {
  gm__strlcpy(m->err, msg, sizeof(m->err));
}

/* ---- source selection ---------------------------------------------------- */

void gm__missing_add(const struct gm__env *env, const char *name,
                     const char *source, enum gm_kind kind, bool in_total,
                     const char *reason) {
  if (!env || !env->missing || env->missing->n >= GM__MISSING_PER_SOURCE)
    return;
  struct gm_missing *x = &env->missing->items[env->missing->n++];
  memset(x, 0, sizeof(*x));
  gm__strlcpy(x->name, name ? name : "", sizeof(x->name));
  gm__strlcpy(x->source, source ? source : "", sizeof(x->source));
  x->kind = kind;
  x->in_total = in_total;
  gm__strlcpy(x->reason, reason ? reason : "", sizeof(x->reason));
}

static size_t missing_in_total(const struct gm__missing_sink *k) {
  size_t n = 0;
  for (size_t i = 0; i < k->n; i++)
    n += k->items[i].in_total;
  return n;
}

static void close_unused(size_t n, void **selves, const bool *use) {
  for (size_t i = 0; i < n; i++)
    if (selves[i] && !use[i])
      gm__sources[i]->close(selves[i]);
}

static bool has_domain(size_t i, void *self, enum gm_domain d) {
  const struct gm__source_ops *o = gm__sources[i];
  for (size_t c = 0; c < o->component_count(self); c++)
    if (o->component(self, c)->domain == d)
      return true;
  return false;
}

/* The open source declaring role that has a component in domain *need (any
 * when need is NULL): the one missing the fewest in-total components (a
 * source that reads every package beats one that cannot read one of them),
 * then the lowest preference, then registry order; SIZE_MAX when there is
 * none. */
static size_t pick(void *const *selves, const struct gm__missing_sink *miss,
                   unsigned role, const enum gm_domain *need) {
  size_t best = SIZE_MAX;
  for (size_t i = 0; i < gm__source_count && i < MAX_SOURCES; i++) {
    const struct gm__source_ops *o = gm__sources[i];
    if (!selves[i] || !(o->roles & role) ||
        (need && !has_domain(i, selves[i], *need)))
      continue;
    if (best == SIZE_MAX) {
      best = i;
      continue;
    }
    size_t mi = missing_in_total(&miss[i]), mb = missing_in_total(&miss[best]);
    if (mi < mb || (mi == mb && o->preference < gm__sources[best]->preference))
      best = i;
  }
  return best;
}

/* The reasons of the probes of the sources with role, joined. */
static void role_reasons(const struct gm_meter *m, size_t first_probe, size_t n,
                         unsigned role, char *out, size_t size) {
  out[0] = '\0';
  for (size_t i = 0; i < n; i++) {
    const struct gm_probe *p = &m->probes[first_probe + i];
    if (!(gm__sources[i]->roles & role) || p->status == GM_OK)
      continue;
    size_t len = strlen(out);
    if (len + 4 < size)
      gm__fmt(out + len, size - len, "%s%s: %s", len ? "; " : "", p->source,
              p->reason[0] ? p->reason : gm_status_str(p->status));
  }
}

/* Keeps what the used sources (and GPU sources, used or not: a GPU that a
 * driver knows of and cannot be read is missing) found and cannot measure,
 * then adds a whole kind that no source covers: no CPU at all (every CPU
 * source and the model failed), no DRAM (none measured, the model failed). */
static enum gm_status collect_missing(struct gm_meter *m, size_t first_probe,
                                      size_t n, const bool *use,
                                      const struct gm__missing_sink *miss,
                                      bool have_cpu, bool have_dram) {
  size_t cap = 2;
  for (size_t i = 0; i < n; i++)
    cap += miss[i].n;
  m->missing = calloc(cap, sizeof(*m->missing));
  if (!m->missing)
    return GM_ERR_NO_MEMORY;
  bool dram_modelled = false;
  for (size_t i = 0; i < n; i++)
    dram_modelled |= use[i] && (gm__sources[i]->roles & GM__ROLE_DRAM_FALLBACK);
  for (size_t i = 0; i < n; i++) {
    if (!use[i] && !(gm__sources[i]->roles & GM__ROLE_GPU))
      continue;
    for (size_t k = 0; k < miss[i].n; k++) {
      struct gm_missing *x = &m->missing[m->n_missing++];
      *x = miss[i].items[k];
      if (x->kind == GM_KIND_DRAM && dram_modelled && x->in_total) {
        /* the DRAM model stands in for it in the total */
        x->in_total = false;
        size_t len = strlen(x->reason);
        gm__fmt(x->reason + len, sizeof(x->reason) - len,
                " (modelled instead)");
      }
    }
  }
  struct {
    bool have;
    const char *name;
    enum gm_kind kind;
    unsigned roles;
  } kinds[] = {
      {have_cpu, "cpu", GM_KIND_CPU, GM__ROLE_CPU_FALLBACK},
      /* no DRAM domain is common: the model's failure is the news */
      {have_dram, "dram", GM_KIND_DRAM, GM__ROLE_DRAM_FALLBACK},
  };
  for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
    if (kinds[k].have)
      continue;
    struct gm_missing *x = &m->missing[m->n_missing++];
    memset(x, 0, sizeof(*x));
    gm__strlcpy(x->name, kinds[k].name, sizeof(x->name));
    x->kind = kinds[k].kind;
    x->in_total = true;
    role_reasons(m, first_probe, n, kinds[k].roles, x->reason,
                 sizeof(x->reason));
  }
  return GM_OK;
}

/* Fills max_power_origin where a source left it empty. */
static void ceiling_origin(struct gm_component_info *ci) {
  if (ci->max_power_origin[0])
    return;
  if (ci->max_power_w > 0)
    gm__fmt(ci->max_power_origin, sizeof(ci->max_power_origin),
            "declared by %s", ci->source);
  else
    gm__fmt(ci->max_power_origin, sizeof(ci->max_power_origin),
            "absolute ceiling %.0f W: %s reports no power limit",
            GM__MAX_PLAUSIBLE_W, ci->source);
}

/* Whether the configuration asks for attribution. */
static bool attributing(const struct gm_meter_config *c) {
  return c->track_pid > 0 || (c->track_cgroup && *c->track_cgroup);
}

static enum gm_status build_sources(struct gm_meter *m) {
  void *selves[MAX_SOURCES] = {0};
  bool use[MAX_SOURCES] = {0};
  enum gm_status st[MAX_SOURCES];
  struct gm__missing_sink miss[MAX_SOURCES];
  memset(miss, 0, sizeof(miss));
  size_t first_probe = m->n_probes;
  const size_t n =
      gm__source_count < MAX_SOURCES ? gm__source_count : MAX_SOURCES;

  for (size_t i = 0; i < n; i++) {
    struct gm_probe *p = &m->probes[m->n_probes++];
    memset(p, 0, sizeof(*p));
    gm__strlcpy(p->source, gm__sources[i]->name, sizeof(p->source));
    m->env.missing = &miss[i];
    st[i] = gm__sources[i]->open(&m->env, &selves[i], p);
    m->env.missing = NULL;
    p->status = st[i];
    if (st[i] != GM_OK)
      selves[i] = NULL;
  }

  /* The CPU: the most preferred CPU_PACKAGE source that has packages;
   * failing that, the most preferred CPU model. Sources without a
   * competing role (GPUs) are used whenever they open. */
  const enum gm_domain package = GM_DOMAIN_PACKAGE;
  const unsigned competing =
      GM__ROLE_CPU_PACKAGE | GM__ROLE_CPU_FALLBACK | GM__ROLE_DRAM_FALLBACK;
  size_t cpu = pick(selves, miss, GM__ROLE_CPU_PACKAGE, &package);
  size_t cpu_model = cpu == SIZE_MAX
                         ? pick(selves, miss, GM__ROLE_CPU_FALLBACK, NULL)
                         : SIZE_MAX;
  for (size_t i = 0; i < n; i++)
    use[i] = selves[i] && (i == cpu || i == cpu_model ||
                           !(gm__sources[i]->roles & competing));
  /* DRAM: modelled only when no source in use measures it. */
  const enum gm_domain dram_domain = GM_DOMAIN_DRAM;
  size_t dram = SIZE_MAX;
  for (size_t i = 0; i < n && dram == SIZE_MAX; i++)
    if (use[i] && (gm__sources[i]->roles & GM__ROLE_DRAM) &&
        has_domain(i, selves[i], dram_domain))
      dram = i;
  size_t dram_model = dram == SIZE_MAX
                          ? pick(selves, miss, GM__ROLE_DRAM_FALLBACK, NULL)
                          : SIZE_MAX;
  if (dram_model != SIZE_MAX)
    use[dram_model] = true;
  enum gm_status mrc = collect_missing(
      m, first_probe, n, use, miss, cpu != SIZE_MAX || cpu_model != SIZE_MAX,
      dram != SIZE_MAX || dram_model != SIZE_MAX);
  if (mrc != GM_OK) {
    close_unused(n, selves, (bool[MAX_SOURCES]){0});
    return mrc;
  }

  for (size_t i = 0; i < n; i++) {
    struct gm_probe *p = &m->probes[first_probe + i];
    unsigned roles = gm__sources[i]->roles;
    p->used = use[i];
    if (!selves[i] || use[i])
      continue;
    if ((roles & GM__ROLE_CPU_PACKAGE) ||
        ((roles & GM__ROLE_CPU_FALLBACK) && cpu != SIZE_MAX))
      gm__fmt(p->reason, sizeof(p->reason), "not needed: %s measures the CPU",
              cpu != SIZE_MAX ? gm__sources[cpu]->name : "another source");
    else if ((roles & GM__ROLE_DRAM_FALLBACK) && dram != SIZE_MAX)
      gm__fmt(p->reason, sizeof(p->reason), "not needed: %s has a DRAM domain",
              gm__sources[dram]->name);
    else if (roles & GM__ROLE_DRAM_FALLBACK)
      gm__fmt(p->reason, sizeof(p->reason), "not needed: %s models DRAM",
              gm__sources[dram_model]->name);
    else
      gm__fmt(p->reason, sizeof(p->reason), "not needed: %s models the CPU",
              gm__sources[cpu_model]->name);
  }

  size_t nc = 0, nm = m->ps ? gm__procstat_metric_count(m->ps) : 0;
  for (size_t i = 0; i < n; i++) {
    if (!use[i])
      continue;
    struct src_slot *s = &m->srcs[m->n_srcs++];
    s->ops = gm__sources[i];
    s->self = selves[i];
    s->comp_base = nc;
    s->n_comp = s->ops->component_count(s->self);
    s->metric_base = nm;
    s->n_metric = s->ops->metric_count ? s->ops->metric_count(s->self) : 0;
    nc += s->n_comp;
    nm += s->n_metric;
  }
  close_unused(n, selves, use);

  m->nc = nc;
  m->nm = nm;
  m->comps = calloc(nc ? nc : 1, sizeof(*m->comps));
  m->acc = calloc(nc ? nc : 1, sizeof(*m->acc));
  m->readings = calloc(nc ? nc : 1, sizeof(*m->readings));
  m->cum_j = calloc(nc ? nc : 1, sizeof(double));
  m->interval_w = calloc(nc ? nc : 1, sizeof(double));
  m->live_e = calloc(nc ? nc : 1, sizeof(double));
  m->live_p = calloc(nc ? nc : 1, sizeof(double));
  m->live_acc = calloc(nc ? nc : 1, sizeof(*m->live_acc));
  m->live_m = calloc(nm ? nm : 1, sizeof(double));
  m->hs = nc * (attributing(&m->cfg) ? 3 : 1);
  m->hist_e = calloc(HIST_CAP * (m->hs ? m->hs : 1), sizeof(double));
  m->metrics = calloc(nm ? nm : 1, sizeof(*m->metrics));
  m->mvals = calloc(nm ? nm : 1, sizeof(double));
  m->msum = calloc(nm ? nm : 1, sizeof(double));
  m->mmax = calloc(nm ? nm : 1, sizeof(double));
  m->mcount = calloc(nm ? nm : 1, sizeof(uint64_t));
  m->q_stride =
      2 * nc + nm +
      (m->cfg.track_pid > 0 || (m->cfg.track_cgroup && *m->cfg.track_cgroup)
           ? nc
           : 0);
  m->q_data =
      calloc(QUEUE_CAP * (m->q_stride ? m->q_stride : 1), sizeof(double));
  if (!m->comps || !m->acc || !m->readings || !m->cum_j || !m->interval_w ||
      !m->live_e || !m->live_p || !m->live_acc || !m->live_m || !m->hist_e ||
      !m->metrics || !m->mvals || !m->msum || !m->mmax || !m->mcount ||
      !m->q_data)
    return GM_ERR_NO_MEMORY;
  for (size_t s = 0; s < m->n_srcs; s++) {
    struct src_slot *sl = &m->srcs[s];
    for (size_t c = 0; c < sl->n_comp; c++) {
      m->comps[sl->comp_base + c] = *sl->ops->component(sl->self, c);
      ceiling_origin(&m->comps[sl->comp_base + c]);
      gm__accum_init(&m->acc[sl->comp_base + c]);
    }
    for (size_t k = 0; k < sl->n_metric; k++)
      m->metrics[sl->metric_base + k] = *sl->ops->metric(sl->self, k);
  }
  if (m->ps)
    for (size_t k = 0; k < gm__procstat_metric_count(m->ps); k++)
      m->metrics[k] = *gm__procstat_metric(m->ps, k);
  for (size_t k = 0; k < nm; k++) {
    m->mvals[k] = m->live_m[k] = NAN;
    m->mmax[k] = NAN;
  }
  return GM_OK;
}

/* The attribution to track_cgroup, else to track_pid's tree, if any. */
static enum gm_status open_attribution(struct gm_meter *m,
                                       const struct gm_meter_config *c) {
  bool cg = c->track_cgroup && *c->track_cgroup;
  m->cfg.track_cgroup = NULL;
  if (!cg && c->track_pid <= 0)
    return GM_OK;
  char mount[600], why[900];
  gm__fmt(mount, sizeof(mount), "%s/fs/cgroup", m->sysfs);
  struct gm__attrib_config ac = {.procfs = m->procfs,
                                 .pid = cg ? 0 : c->track_pid,
                                 .cgroup = cg ? c->track_cgroup : NULL,
                                 .cgroup_mount = mount};
  enum gm_status rc =
      gm__attrib_open(&ac, m->nc, m->comps, &m->attrib, why, sizeof(why));
  if (rc == GM_OK) {
    m->live_attr = calloc(m->nc ? m->nc : 1, sizeof(*m->live_attr));
    if (!m->live_attr)
      return GM_ERR_NO_MEMORY;
    for (size_t i = 0; i < m->nc; i++)
      gm__attrib_get(m->attrib, i, &m->live_attr[i]);
  } else if (why[0]) {
    set_err(m, why);
  }
  return rc;
}

enum gm_status gm_meter_create(const struct gm_meter_config *cfg,
                               struct gm_meter **out) {
  return gm_meter_create_err(cfg, out, NULL, 0);
}

enum gm_status gm_meter_create_err(const struct gm_meter_config *cfg,
                                   struct gm_meter **out, char *err,
                                   size_t err_size) {
  if (err && err_size)
    gm__fmt(err, err_size, "%s", "");
  if (!out)
    return GM_ERR_INVALID_ARG;
  *out = NULL;
  struct gm_meter_config c = cfg ? *cfg : gm_meter_config_default();
  if (c.interval_ns == 0)
    c.interval_ns = gm_meter_config_default().interval_ns;
  if (c.interval_ns < MIN_INTERVAL_NS || c.interval_ns > 60 * GM_NS_PER_S)
    return GM_ERR_INVALID_ARG;
  if (c.xcheck_threshold <= 0.0)
    c.xcheck_threshold = 0.10;
  struct gm_meter *m = calloc(1, sizeof(*m));
  if (!m)
    return GM_ERR_NO_MEMORY;
  m->cfg = c;
  gm__strlcpy(m->sysfs, gm__root(c.sysfs_root, "GREENML_SYSFS", "/sys"),
              sizeof(m->sysfs));
  gm__strlcpy(m->procfs, gm__root(c.procfs_root, "GREENML_PROCFS", "/proc"),
              sizeof(m->procfs));
  gm__strlcpy(m->devfs, gm__root(c.devfs_root, "GREENML_DEVFS", "/dev"),
              sizeof(m->devfs));
  gm__strlcpy(m->nvml_lib,
              gm__root(c.nvml_lib, "GREENML_NVML_LIB", "libnvidia-ml.so.1"),
              sizeof(m->nvml_lib));
  m->env.sysfs = m->sysfs;
  m->env.procfs = m->procfs;
  m->env.devfs = m->devfs;
  m->env.nvml_lib = m->nvml_lib;
  m->env.cpu_tdp_w = c.cpu_tdp_w;
  m->env.dimm_capacitance_f = c.dimm_capacitance_f;
  m->env.dmidecode_file = c.dmidecode_file;
  m->env.no_gpu = c.no_gpu;
  /* which GPUs: the configuration's, else the environment's, else all */
  const char *gpus = c.gpus, *origin = "--gpus";
  if (!gpus && (gpus = getenv("CUDA_VISIBLE_DEVICES")) != NULL)
    origin = "CUDA_VISIBLE_DEVICES";
  else if (!gpus && (gpus = getenv("NVIDIA_VISIBLE_DEVICES")) != NULL)
    origin = "NVIDIA_VISIBLE_DEVICES";
  if (!gpus) {
    gpus = "all";
    origin = "default";
  }
  gm__strlcpy(m->gpus, gpus, sizeof(m->gpus));
  gm__strlcpy(m->gpus_origin, origin, sizeof(m->gpus_origin));
  m->env.gpus = m->gpus;
  m->env.gpus_origin = m->gpus_origin;
  m->cfg.gpus = NULL;
  m->cfg.sysfs_root = m->cfg.procfs_root = m->cfg.devfs_root = NULL;
  m->cfg.nvml_lib = NULL;
  m->cfg.dmidecode_file = NULL; /* only used during create */
  pthread_mutex_init(&m->mark_mu, NULL);
  pthread_mutex_init(&m->live_mu, NULL);
  pthread_mutex_init(&m->subj_mu, NULL);
  pthread_mutex_init(&m->q_mu, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  sem_init(&m->wake, 0, 0);
  pthread_cond_init(&m->q_cv, &ca);
  pthread_condattr_destroy(&ca);
  atomic_init(&m->stop, false);
  atomic_init(&m->dropped, 0);
  atomic_init(&m->missed, 0);
  atomic_init(&m->self_cpu_ns, 0);
  atomic_init(&m->sampler_cpu_live, 0);
  atomic_init(&m->writer_cpu_live, 0);

  struct gm_probe *pp = &m->probes[m->n_probes++];
  memset(pp, 0, sizeof(*pp));
  gm__strlcpy(pp->source, "procfs", sizeof(pp->source));
  pp->status = gm__procstat_open(m->procfs, c.track_pid, &m->ps, pp);
  pp->used = pp->status == GM_OK;

  enum gm_status rc = build_sources(m);
  if (rc == GM_OK)
    rc = open_attribution(m, &c);
  if (rc != GM_OK) {
    if (err && err_size)
      gm__fmt(err, err_size, "%s", m->err[0] ? m->err : gm_status_str(rc));
    gm_meter_destroy(m);
    return rc;
  }
  *out = m;
  return GM_OK;
}

void gm_meter_destroy(struct gm_meter *m) {
  if (!m)
    return;
  if (m->state == STATE_RUNNING)
    gm_meter_stop(m);
  for (size_t i = 0; i < m->n_srcs; i++)
    m->srcs[i].ops->close(m->srcs[i].self);
  gm__procstat_close(m->ps);
  gm__attrib_close(m->attrib);
  free(m->live_attr);
  for (size_t i = 0; i < m->n_subj; i++) {
    gm__attrib_close(m->subj[i].a);
    free(m->subj[i].live);
  }
  free(m->subj);
  pthread_mutex_destroy(&m->subj_mu);
  for (size_t i = 0; i < m->n_phases; i++) {
    free(m->phases[i].start_e);
    free(m->phases[i].energy);
    free(m->phases[i].peak_w);
    free(m->phases[i].msum);
    free(m->phases[i].mmax);
    free(m->phases[i].mcount);
  }
  free(m->phases);
  free(m->pending);
  free(m->comps);
  free(m->missing);
  free(m->acc);
  free(m->readings);
  free(m->cum_j);
  free(m->interval_w);
  free(m->live_e);
  free(m->live_p);
  free(m->live_acc);
  free(m->live_m);
  free(m->hist_e);
  free(m->metrics);
  free(m->mvals);
  free(m->msum);
  free(m->mmax);
  free(m->mcount);
  free(m->q_data);
  pthread_mutex_destroy(&m->mark_mu);
  pthread_mutex_destroy(&m->live_mu);
  pthread_mutex_destroy(&m->q_mu);
  sem_destroy(&m->wake);
  pthread_cond_destroy(&m->q_cv);
  free(m);
}

/* ---- phases -------------------------------------------------------------- */

/* Cumulative energy of component c at t_ns, interpolated linearly between
 * the two ticks around it (exact for constant power within the interval). */
static double energy_at(const struct gm_meter *m, size_t c, int64_t t_ns) {
  size_t n = m->hist_len, hs = m->hs;
  size_t oldest = (m->hist_head + HIST_CAP - n) % HIST_CAP;
  if (t_ns <= m->hist_t[oldest])
    return m->hist_e[oldest * hs + c];
  for (size_t k = 1; k < n; k++) {
    size_t i1 = (oldest + k) % HIST_CAP, i0 = (oldest + k - 1) % HIST_CAP;
    if (t_ns <= m->hist_t[i1]) {
      double span = (double)(m->hist_t[i1] - m->hist_t[i0]);
      double f = span > 0 ? (double)(t_ns - m->hist_t[i0]) / span : 1.0;
      double e0 = m->hist_e[i0 * hs + c], e1 = m->hist_e[i1 * hs + c];
      return e0 + f * (e1 - e0);
    }
  }
  size_t newest = (m->hist_head + HIST_CAP - 1) % HIST_CAP;
  return m->hist_e[newest * hs + c];
}

static void phase_add_interval(struct gm_meter *m, struct phase_rec *p) {
  for (size_t c = 0; c < m->nc; c++) {
    double w = m->interval_w[c];
    if (!isnan(w) && (isnan(p->peak_w[c]) || w > p->peak_w[c]))
      p->peak_w[c] = w;
  }
  for (size_t k = 0; k < m->nm; k++) {
    double v = m->mvals[k];
    if (isnan(v))
      continue;
    p->msum[k] += v;
    p->mcount[k]++;
    if (isnan(p->mmax[k]) || v > p->mmax[k])
      p->mmax[k] = v;
  }
  p->ticks++;
}

static void phase_close(struct gm_meter *m, int64_t t_ns, bool by_stop) {
  if (!m->phase_open)
    return;
  struct phase_rec *p = &m->phases[m->n_phases - 1];
  /* Markers are applied in time order and none stamped before the last
   * boundary is accepted (push_marker), so an end never precedes its
   * begin; were it to, the phase would end where it began rather than
   * before. */
  assert(t_ns >= p->begin_ns);
  if (t_ns < p->begin_ns)
    t_ns = p->begin_ns;
  for (size_t c = 0; c < m->hs; c++) {
    double e = energy_at(m, c, t_ns) - p->start_e[c];
    p->energy[c] = e < 0 ? 0.0 : e; /* cumulative energy never decreases */
  }
  /* a phase that fell between two ticks gets the interval around it */
  if (p->ticks == 0)
    phase_add_interval(m, p);
  p->pub.duration_s = (double)(t_ns - m->t0_ns) / 1e9 - p->pub.start_s;
  p->pub.open = by_stop;
  m->phase_open = false;
}

static void phase_open(struct gm_meter *m, const char *name, int64_t t_ns) {
  if (m->n_phases == m->cap_phases) {
    size_t cap = m->cap_phases ? 2 * m->cap_phases : 8;
    struct phase_rec *np = realloc(m->phases, cap * sizeof(*np));
    if (!np)
      return;
    m->phases = np;
    m->cap_phases = cap;
  }
  struct phase_rec *p = &m->phases[m->n_phases];
  memset(p, 0, sizeof(*p));
  size_t nc = m->nc ? m->nc : 1, nm = m->nm ? m->nm : 1;
  size_t hs = m->hs ? m->hs : 1;
  p->start_e = calloc(hs, sizeof(double));
  p->energy = calloc(hs, sizeof(double));
  p->peak_w = malloc(nc * sizeof(double));
  p->msum = calloc(nm, sizeof(double));
  p->mmax = malloc(nm * sizeof(double));
  p->mcount = calloc(nm, sizeof(uint64_t));
  if (!p->start_e || !p->energy || !p->peak_w || !p->msum || !p->mmax ||
      !p->mcount) {
    free(p->start_e);
    free(p->energy);
    free(p->peak_w);
    free(p->msum);
    free(p->mmax);
    free(p->mcount);
    return;
  }
  for (size_t c = 0; c < nc; c++)
    p->peak_w[c] = NAN;
  for (size_t k = 0; k < nm; k++)
    p->mmax[k] = NAN;
  gm__strlcpy(p->pub.name, name, sizeof(p->pub.name));
  p->begin_ns = t_ns;
  p->pub.start_s = (double)(t_ns - m->t0_ns) / 1e9;
  p->pub.energy_j = p->energy;
  p->pub.attributed_j = m->hs > m->nc ? p->energy + m->nc : NULL;
  p->pub.attributed_share_s = m->hs > m->nc ? p->energy + 2 * m->nc : NULL;
  p->pub.open = true;
  for (size_t c = 0; c < m->hs; c++)
    p->start_e[c] = energy_at(m, c, t_ns);
  m->n_phases++;
  m->phase_open = true;
}

/* Adds the interval that just ended to the phase open during it: peak power
 * and metric statistics (energies come from the interpolated history). */
static void phase_accumulate(struct gm_meter *m) {
  pthread_mutex_lock(&m->mark_mu);
  if (m->phase_open)
    phase_add_interval(m, &m->phases[m->n_phases - 1]);
  pthread_mutex_unlock(&m->mark_mu);
}

/* Applies the markers due by t_now (all of them when final), in the order
 * of their timestamps: the pending list is kept sorted. */
static void apply_markers(struct gm_meter *m, int64_t t_now, bool final) {
  pthread_mutex_lock(&m->mark_mu);
  size_t done = 0;
  for (; done < m->n_pending; done++) {
    const struct marker *mk = &m->pending[done];
    if (mk->t_ns > t_now && !final)
      break;
    /* at the stop, a marker stamped after it (within the tolerance of
     * push_marker) ends or begins at the stop */
    int64_t t = mk->t_ns > t_now ? t_now : mk->t_ns;
    phase_close(m, t, false);
    if (mk->begin)
      phase_open(m, mk->name, t);
    m->applied_ns = t;
  }
  if (done) {
    memmove(m->pending, m->pending + done,
            (m->n_pending - done) * sizeof(*m->pending));
    m->n_pending -= done;
  }
  pthread_mutex_unlock(&m->mark_mu);
}

static enum gm_status push_marker(struct gm_meter *m, bool begin,
                                  const char *name, int64_t t_ns,
                                  enum gm__mark_verdict *why) {
  int64_t now = gm__now_ns();
  if (t_ns == 0)
    t_ns = now;
  *why = GM__MARK_ACCEPTED;
  pthread_mutex_lock(&m->mark_mu);
  enum gm_status rc = GM_OK;
  if (m->state != STATE_RUNNING) {
    rc = GM_ERR_STATE;
    goto out;
  }
  if (t_ns < m->t0_ns)
    *why = GM__MARK_BEFORE_START;
  else if (t_ns > now + GM_METER_MARK_FUTURE_NS)
    *why = GM__MARK_IN_FUTURE;
  else if (t_ns < m->applied_ns)
    *why = GM__MARK_OUT_OF_ORDER;
  if (*why != GM__MARK_ACCEPTED) {
    rc = GM_ERR_INVALID_ARG;
    goto out;
  }
  if (m->n_pending == m->cap_pending) {
    size_t cap = m->cap_pending ? 2 * m->cap_pending : 16;
    struct marker *np = realloc(m->pending, cap * sizeof(*np));
    if (!np) {
      rc = GM_ERR_NO_MEMORY;
      goto out;
    }
    m->pending = np;
    m->cap_pending = cap;
  }
  /* after every pending marker stamped at or before it */
  size_t at = m->n_pending;
  while (at > 0 && m->pending[at - 1].t_ns > t_ns)
    at--;
  memmove(m->pending + at + 1, m->pending + at,
          (m->n_pending - at) * sizeof(*m->pending));
  m->n_pending++;
  struct marker *mk = &m->pending[at];
  memset(mk, 0, sizeof(*mk));
  mk->begin = begin;
  mk->t_ns = t_ns;
  if (name)
    gm__strlcpy(mk->name, name, sizeof(mk->name));
out:
  pthread_mutex_unlock(&m->mark_mu);
  return rc;
}

enum gm_status gm__meter_mark(struct gm_meter *m, bool begin, const char *name,
                              int64_t t_ns, enum gm__mark_verdict *why) {
  enum gm__mark_verdict v;
  if (!why)
    why = &v;
  *why = GM__MARK_ACCEPTED;
  if (!m || (begin && (!name || !*name)))
    return GM_ERR_INVALID_ARG;
  return push_marker(m, begin, begin ? name : NULL, t_ns, why);
}

enum gm_status gm_meter_phase_begin(struct gm_meter *m, const char *name,
                                    int64_t t_ns) {
  return gm__meter_mark(m, true, name, t_ns, NULL);
}

enum gm_status gm_meter_phase_end(struct gm_meter *m, int64_t t_ns) {
  return gm__meter_mark(m, false, NULL, t_ns, NULL);
}

/* ---- the tick ------------------------------------------------------------ */

static void enqueue(struct gm_meter *m, int64_t t_rel_ns) {
  pthread_mutex_lock(&m->q_mu);
  if (m->q_len == QUEUE_CAP) {
    atomic_fetch_add(&m->dropped, 1);
  } else {
    size_t slot = (m->q_head + m->q_len) % QUEUE_CAP;
    double *d = m->q_data + slot * m->q_stride;
    memcpy(d, m->cum_j, m->nc * sizeof(double));
    memcpy(d + m->nc, m->interval_w, m->nc * sizeof(double));
    memcpy(d + 2 * m->nc, m->mvals, m->nm * sizeof(double));
    if (m->attrib)
      memcpy(d + 2 * m->nc + m->nm, gm__attrib_energy(m->attrib),
             m->nc * sizeof(double));
    m->q_t[slot] = t_rel_ns;
    m->q_seq[slot] = m->seq;
    if (++m->q_len == WAKE_WRITER_AT)
      pthread_cond_signal(&m->q_cv);
  }
  m->seq++;
  pthread_mutex_unlock(&m->q_mu);
}

/* The processes on component c, from its source (gm__source_ops.users). */
static long device_users(void *ctx, size_t c, struct gm__user *out,
                         size_t cap) {
  struct gm_meter *m = ctx;
  for (size_t s = 0; s < m->n_srcs; s++) {
    struct src_slot *sl = &m->srcs[s];
    if (c >= sl->comp_base && c < sl->comp_base + sl->n_comp)
      return sl->ops->users
                 ? sl->ops->users(sl->self, c - sl->comp_base, out, cap)
                 : -1;
  }
  return -1;
}

static void tick(struct gm_meter *m, int64_t t_ns, bool final) {
  struct gm__tick tk = {
      .t_ns = t_ns, .cpu_util_frac = NAN, .mem_used_bytes = NAN};
  if (m->ps) {
    gm__procstat_sample(m->ps, t_ns, m->mvals, &tk.cpu_util_frac,
                        &tk.mem_used_bytes);
    enum gm__util_state us = gm__procstat_util_state(m->ps);
    tk.cpu_util_failed = us != GM__UTIL_NONE && us != GM__UTIL_OK;
  }
  for (size_t s = 0; s < m->n_srcs; s++) {
    struct src_slot *sl = &m->srcs[s];
    struct gm__reading *r = m->readings + sl->comp_base;
    for (size_t c = 0; c < sl->n_comp; c++)
      memset(&r[c], 0, sizeof(r[c]));
    for (size_t k = 0; k < sl->n_metric; k++)
      m->mvals[sl->metric_base + k] = NAN;
    sl->ops->read(sl->self, &tk, r, m->mvals + sl->metric_base);
  }
  for (size_t c = 0; c < m->nc; c++) {
    struct gm__accum *a = &m->acc[c];
    double before = a->energy_j;
    gm__accum_update(a, &m->comps[c], &m->readings[c], t_ns);
    if (final)
      gm__accum_finish(a);
    m->cum_j[c] = a->energy_j;
    if (a->energy_j != before || m->readings[c].ok)
      m->interval_w[c] = a->last_interval_w;
  }
  for (size_t k = 0; k < m->nm; k++) {
    double v = m->mvals[k];
    if (isnan(v))
      continue;
    m->msum[k] += v;
    m->mcount[k]++;
    if (isnan(m->mmax[k]) || v > m->mmax[k])
      m->mmax[k] = v;
  }
  double busy_s = 0;
  bool window = m->ps && gm__procstat_window(m->ps, &busy_s);
  if (m->attrib) {
    if (!final)
      atomic_store(&m->sampler_cpu_live, gm__thread_cpu_ns());
    /* the meter's threads in the measured process are not its work (a sum
     * that only grows: a thread's time moves to self_cpu_ns as it exits) */
    double own = gm_meter_self_cpu_s(m);
    gm__attrib_tick(m->attrib, t_ns, window, busy_s,
                    m->cfg.track_pid == getpid() ? own : 0.0, m->cum_j, final,
                    device_users, m);
  }
  pthread_mutex_lock(&m->subj_mu);
  for (size_t i = 0; i < m->n_subj; i++) {
    struct subject *sj = &m->subj[i];
    gm__attrib_tick(sj->a, t_ns, window, busy_s, 0.0, m->cum_j, final,
                    device_users, m);
    for (size_t c = 0; c < m->nc; c++)
      gm__attrib_get(sj->a, c, &sj->live[c]);
  }
  pthread_mutex_unlock(&m->subj_mu);
  phase_accumulate(m);
  m->hist_t[m->hist_head] = t_ns;
  double *h = m->hist_e + m->hist_head * m->hs;
  memcpy(h, m->cum_j, m->nc * sizeof(double));
  if (m->attrib) {
    memcpy(h + m->nc, gm__attrib_energy(m->attrib), m->nc * sizeof(double));
    memcpy(h + 2 * m->nc, gm__attrib_share_s(m->attrib),
           m->nc * sizeof(double));
  }
  m->hist_head = (m->hist_head + 1) % HIST_CAP;
  if (m->hist_len < HIST_CAP)
    m->hist_len++;
  apply_markers(m, t_ns, final);

  pthread_mutex_lock(&m->live_mu);
  memcpy(m->live_e, m->cum_j, m->nc * sizeof(double));
  memcpy(m->live_p, m->interval_w, m->nc * sizeof(double));
  memcpy(m->live_acc, m->acc, m->nc * sizeof(*m->acc));
  memcpy(m->live_m, m->mvals, m->nm * sizeof(double));
  if (m->attrib)
    for (size_t c = 0; c < m->nc; c++)
      gm__attrib_get(m->attrib, c, &m->live_attr[c]);
  m->live_t_ns = t_ns;
  pthread_mutex_unlock(&m->live_mu);

  if (m->cfg.on_sample)
    enqueue(m, t_ns - m->t0_ns);
}

static struct timespec ts_of(int64_t ns) {
  struct timespec ts = {.tv_sec = ns / GM_NS_PER_S,
                        .tv_nsec = ns % GM_NS_PER_S};
  return ts;
}

/* Sleeps to deadline_ns on CLOCK_MONOTONIC, or until stop posts. */
static void sleep_until(struct gm_meter *m, int64_t deadline_ns) {
  struct timespec ts = ts_of(deadline_ns);
  while (!atomic_load(&m->stop)) {
    if (sem_clockwait(&m->wake, CLOCK_MONOTONIC, &ts) == 0 ||
        errno == ETIMEDOUT)
      return;
    if (errno != EINTR) { /* cannot be waited on: sleep, the stop flag is
                             seen at the deadline */
      clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
      return;
    }
  }
}

static void *sampler_main(void *arg) {
  struct gm_meter *m = arg;
  pthread_setname_np(pthread_self(), "gm-sampler"); /* seen in /proc */
  int64_t interval = m->cfg.interval_ns;
  int64_t next = m->t0_ns + interval;
  for (;;) {
    sleep_until(m, next);
    if (atomic_load(&m->stop))
      break;
    int64_t now = gm__now_ns();
    tick(m, now, false);
    next += interval;
    now = gm__now_ns();
    while (next <= now) { /* overran: skip the missed deadlines */
      next += interval;
      atomic_fetch_add(&m->missed, 1);
    }
  }
  atomic_fetch_add(&m->self_cpu_ns, gm__thread_cpu_ns());
  atomic_store(&m->sampler_cpu_live, 0);
  return NULL;
}

/* Hands every queued sample to on_sample, oldest first; the lock is taken
 * per sample, so that the sampler never waits for a callback. */
static void deliver(struct gm_meter *m, double *buf) {
  for (;;) {
    pthread_mutex_lock(&m->q_mu);
    if (m->q_len == 0) {
      /* empty: the next samples go to the slots just used, still in the
       * cache, not on around the ring (a cold line or two a tick) */
      m->q_head = 0;
      pthread_mutex_unlock(&m->q_mu);
      return;
    }
    struct gm_sample s = {0};
    size_t slot = m->q_head;
    bool have = buf != NULL;
    if (have) {
      memcpy(buf, m->q_data + slot * m->q_stride, m->q_stride * sizeof(double));
      s.seq = m->q_seq[slot];
      s.t_ns = m->q_t[slot];
    } else {
      atomic_fetch_add(&m->dropped, 1);
    }
    m->q_head = (m->q_head + 1) % QUEUE_CAP;
    m->q_len--;
    pthread_mutex_unlock(&m->q_mu);
    if (have) {
      s.n_components = m->nc;
      s.energy_j = buf;
      s.power_w = buf + m->nc;
      s.n_metrics = m->nm;
      s.metrics = buf + 2 * m->nc;
      s.attributed_j = m->attrib ? buf + 2 * m->nc + m->nm : NULL;
      m->cfg.on_sample(m->cfg.callback_ctx, &s);
    }
  }
}

/* Sleeps until the next flush is due, the queue is half full or the meter
 * stops; then delivers the queue and flushes when due (always at the
 * stop). */
static void *writer_main(void *arg) {
  struct gm_meter *m = arg;
  pthread_setname_np(pthread_self(), "gm-writer");
  double *buf = malloc((m->q_stride ? m->q_stride : 1) * sizeof(double));
  int64_t last_flush = gm__now_ns();
  for (;;) {
    struct timespec ts = ts_of(last_flush + FLUSH_PERIOD_NS);
    pthread_mutex_lock(&m->q_mu);
    while (!m->q_done && m->q_len < WAKE_WRITER_AT)
      if (pthread_cond_timedwait(&m->q_cv, &m->q_mu, &ts) == ETIMEDOUT)
        break;
    /* q_done is set after the last sample was queued */
    bool done = m->q_done;
    pthread_mutex_unlock(&m->q_mu);
    if (m->cfg.on_sample)
      deliver(m, buf);
    int64_t now = gm__now_ns();
    if (done || now - last_flush >= FLUSH_PERIOD_NS) {
      if (m->cfg.on_flush)
        m->cfg.on_flush(m->cfg.callback_ctx);
      last_flush = now;
    }
    atomic_store(&m->writer_cpu_live, gm__thread_cpu_ns());
    if (done)
      break;
  }
  free(buf);
  atomic_fetch_add(&m->self_cpu_ns, gm__thread_cpu_ns());
  atomic_store(&m->writer_cpu_live, 0);
  return NULL;
}

enum gm_status gm_meter_start(struct gm_meter *m) {
  if (!m)
    return GM_ERR_INVALID_ARG;
  if (m->state != STATE_CREATED) {
    set_err(m, "meter already started");
    return GM_ERR_STATE;
  }
  int64_t cpu0 = gm__thread_cpu_ns();
  m->t0_ns = gm__now_ns();
  pthread_mutex_lock(&m->mark_mu);
  m->applied_ns = m->t0_ns;
  m->state = STATE_RUNNING;
  pthread_mutex_unlock(&m->mark_mu);
  tick(m, m->t0_ns, false);
  atomic_fetch_add(&m->self_cpu_ns, gm__thread_cpu_ns() - cpu0);
  if (m->cfg.on_sample || m->cfg.on_flush) {
    if (pthread_create(&m->writer, NULL, writer_main, m) != 0) {
      set_err(m, "cannot start the writer thread");
      m->state = STATE_STOPPED;
      return GM_ERR_SYSTEM;
    }
  }
  if (pthread_create(&m->sampler, NULL, sampler_main, m) != 0) {
    set_err(m, "cannot start the sampler thread");
    pthread_mutex_lock(&m->q_mu);
    m->q_done = true;
    pthread_cond_signal(&m->q_cv);
    pthread_mutex_unlock(&m->q_mu);
    if (m->cfg.on_sample || m->cfg.on_flush)
      pthread_join(m->writer, NULL);
    m->state = STATE_STOPPED;
    return GM_ERR_SYSTEM;
  }
  return GM_OK;
}

enum gm_status gm_meter_stop(struct gm_meter *m) {
  if (!m)
    return GM_ERR_INVALID_ARG;
  if (m->state != STATE_RUNNING)
    return GM_OK;
  atomic_store(&m->stop, true);
  sem_post(&m->wake);
  pthread_join(m->sampler, NULL);
  int64_t cpu0 = gm__thread_cpu_ns();
  m->t_end_ns = gm__now_ns();
  tick(m, m->t_end_ns, true);
  phase_close(m, m->t_end_ns, true);
  pthread_mutex_lock(&m->mark_mu);
  m->state = STATE_STOPPED;
  pthread_mutex_unlock(&m->mark_mu);
  atomic_fetch_add(&m->self_cpu_ns, gm__thread_cpu_ns() - cpu0);
  if (m->cfg.on_sample || m->cfg.on_flush) {
    pthread_mutex_lock(&m->q_mu);
    m->q_done = true;
    pthread_cond_signal(&m->q_cv);
    pthread_mutex_unlock(&m->q_mu);
    pthread_join(m->writer, NULL);
  }
  return GM_OK;
}

/* ---- accessors ----------------------------------------------------------- */

size_t gm_meter_probe_count(const struct gm_meter *m) { return m->n_probes; }

const struct gm_probe *gm_meter_probe(const struct gm_meter *m, size_t i) {
  return i < m->n_probes ? &m->probes[i] : NULL;
}

size_t gm_meter_component_count(const struct gm_meter *m) { return m->nc; }

const struct gm_component_info *gm_meter_component(const struct gm_meter *m,
                                                   size_t i) {
  return i < m->nc ? &m->comps[i] : NULL;
}

const struct gm_component_info *gm_meter_components(const struct gm_meter *m) {
  return m->comps;
}

size_t gm_meter_metric_count(const struct gm_meter *m) { return m->nm; }

const struct gm_metric_info *gm_meter_metrics(const struct gm_meter *m) {
  return m->metrics;
}

const struct gm_metric_info *gm_meter_metric(const struct gm_meter *m,
                                             size_t i) {
  return i < m->nm ? &m->metrics[i] : NULL;
}

double gm_meter_duration_s(const struct gm_meter *m) {
  if (m->state == STATE_CREATED)
    return 0.0;
  int64_t end = m->state == STATE_STOPPED ? m->t_end_ns : gm__now_ns();
  return (double)(end - m->t0_ns) / 1e9;
}

/* The statistics of accumulator a over dur seconds of a meter started at
 * t0_ns. */
static void stats_of(const struct gm_meter *m, const struct gm__accum *a,
                     double dur, struct gm_component_stats *out) {
  memset(out, 0, sizeof(*out));
  out->energy_j = a->energy_j;
  out->avg_power_w = dur > 0 ? a->energy_j / dur : 0.0;
  out->peak_power_w = a->peak_w;
  out->power_sd_w = gm__accum_power_sd_w(a);
  out->power_energy_j = a->xcheck_active ? a->power_energy_j : -1.0;
  out->xcheck_rel = -1.0;
  if (a->xcheck_active) {
    /* Always compared: a counter that counted nothing against a sensor that
     * integrated something disagrees completely. */
    double ref = fmax(a->energy_j, a->power_energy_j);
    out->xcheck_rel =
        ref > 0 ? fabs(a->energy_j - a->power_energy_j) / ref : 0.0;
    out->xcheck_failed = out->xcheck_rel > m->cfg.xcheck_threshold;
  }
  out->wraps = a->wraps;
  out->resets = a->resets;
  out->read_errors = a->read_errors;
  out->glitches = a->glitches;
  out->counter_stopped = a->counter_stopped;
  out->counter_stopped_at_s =
      a->counter_stopped ? a->counter_stopped_at_s : NAN;
  out->lost = a->lost;
  out->lost_at_s = NAN;
  if (a->lost)
    out->lost_at_s =
        a->primed ? (double)(a->last_ok_t_ns - m->t0_ns) / 1e9 : 0.0;
}

enum gm_status gm_meter_stats(const struct gm_meter *m, size_t i,
                              struct gm_component_stats *out) {
  if (!m || !out || i >= m->nc)
    return GM_ERR_INVALID_ARG;
  if (m->state != STATE_STOPPED)
    return GM_ERR_STATE;
  stats_of(m, &m->acc[i], gm_meter_duration_s(m), out);
  return GM_OK;
}

enum gm_status gm_meter_live_stats(struct gm_meter *m, size_t i,
                                   struct gm_component_stats *out) {
  if (!m || !out || i >= m->nc)
    return GM_ERR_INVALID_ARG;
  pthread_mutex_lock(&m->live_mu);
  double dur = m->live_t_ns ? (double)(m->live_t_ns - m->t0_ns) / 1e9 : 0;
  stats_of(m, &m->live_acc[i], dur, out);
  pthread_mutex_unlock(&m->live_mu);
  return GM_OK;
}

enum gm_status gm_meter_live_metrics(struct gm_meter *m, double *values) {
  if (!m || !values)
    return GM_ERR_INVALID_ARG;
  pthread_mutex_lock(&m->live_mu);
  memcpy(values, m->live_m, m->nm * sizeof(double));
  pthread_mutex_unlock(&m->live_mu);
  return GM_OK;
}

size_t gm_meter_missing_count(const struct gm_meter *m) {
  return m ? m->n_missing : 0;
}

const struct gm_missing *gm_meter_missing(const struct gm_meter *m, size_t i) {
  return m && i < m->n_missing ? &m->missing[i] : NULL;
}

size_t gm_meter_phase_count(const struct gm_meter *m) {
  return m->state == STATE_STOPPED ? m->n_phases : 0;
}

const struct gm_phase *gm_meter_phase(const struct gm_meter *m, size_t i) {
  if (m->state != STATE_STOPPED || i >= m->n_phases)
    return NULL;
  return &m->phases[i].pub;
}

enum gm_status gm_meter_phase_snapshot(struct gm_meter *m, size_t i,
                                       struct gm_phase_snapshot *out) {
  if (!m || !out)
    return GM_ERR_INVALID_ARG;
  pthread_mutex_lock(&m->mark_mu);
  enum gm_status rc = GM_OK;
  if (i >= m->n_phases) {
    rc = GM_ERR_NOT_FOUND;
  } else if (m->phase_open && i == m->n_phases - 1 &&
             m->state != STATE_STOPPED) {
    rc = GM_ERR_STATE;
  } else {
    const struct phase_rec *p = &m->phases[i];
    gm__strlcpy(out->name, p->pub.name, sizeof(out->name));
    out->start_s = p->pub.start_s;
    out->duration_s = p->pub.duration_s;
    out->ticks = p->ticks;
    for (size_t c = 0; c < m->nc; c++) {
      if (out->energy_j)
        out->energy_j[c] = p->energy[c];
      if (out->attributed_j)
        out->attributed_j[c] = m->hs > m->nc ? p->energy[m->nc + c] : NAN;
      if (out->peak_power_w)
        out->peak_power_w[c] = p->peak_w[c];
    }
    for (size_t k = 0; k < m->nm; k++) {
      if (out->metric_mean)
        out->metric_mean[k] =
            p->mcount[k] ? p->msum[k] / (double)p->mcount[k] : NAN;
      if (out->metric_max)
        out->metric_max[k] = p->mmax[k];
    }
  }
  pthread_mutex_unlock(&m->mark_mu);
  return rc;
}

double gm_meter_metric_mean(const struct gm_meter *m, size_t i) {
  if (i >= m->nm || m->mcount[i] == 0)
    return NAN;
  return m->msum[i] / (double)m->mcount[i];
}

double gm_meter_metric_max(const struct gm_meter *m, size_t i) {
  return i < m->nm ? m->mmax[i] : NAN;
}

enum gm_status gm_meter_live(struct gm_meter *m, double *energy_j,
                             double *power_w, double *elapsed_s) {
  if (!m)
    return GM_ERR_INVALID_ARG;
  pthread_mutex_lock(&m->live_mu);
  if (energy_j)
    memcpy(energy_j, m->live_e, m->nc * sizeof(double));
  if (power_w)
    memcpy(power_w, m->live_p, m->nc * sizeof(double));
  if (elapsed_s)
    *elapsed_s = m->live_t_ns ? (double)(m->live_t_ns - m->t0_ns) / 1e9 : 0;
  pthread_mutex_unlock(&m->live_mu);
  return GM_OK;
}

bool gm_meter_attributing(const struct gm_meter *m) { return m && m->attrib; }

const char *gm_meter_attribution_subject(const struct gm_meter *m) {
  return m && m->attrib ? gm__attrib_subject(m->attrib) : "";
}

enum gm_status gm_meter_attribution(struct gm_meter *m, size_t i,
                                    struct gm_attribution *out) {
  if (!m || !out || i >= m->nc)
    return GM_ERR_INVALID_ARG;
  if (!m->attrib)
    return GM_ERR_STATE;
  pthread_mutex_lock(&m->live_mu);
  *out = m->live_attr[i];
  pthread_mutex_unlock(&m->live_mu);
  return GM_OK;
}

enum gm_status gm_meter_subject_add(struct gm_meter *m, int pid,
                                    const char *cgroup, int *id, char *err,
                                    size_t err_size) {
  if (err && err_size)
    err[0] = '\0';
  if (!m || !id || (pid <= 0 && !(cgroup && *cgroup)))
    return GM_ERR_INVALID_ARG;
  char mount[600], why[900];
  gm__fmt(mount, sizeof(mount), "%s/fs/cgroup", m->sysfs);
  double *base = calloc(m->nc ? m->nc : 1, sizeof(double));
  if (!base)
    return GM_ERR_NO_MEMORY;
  pthread_mutex_lock(&m->live_mu);
  memcpy(base, m->live_e, m->nc * sizeof(double));
  pthread_mutex_unlock(&m->live_mu);
  struct gm__attrib_config ac = {.procfs = m->procfs,
                                 .pid = pid > 0 ? pid : 0,
                                 .cgroup = pid > 0 ? NULL : cgroup,
                                 .cgroup_mount = mount,
                                 .base_j = base};
  struct subject sj = {0};
  enum gm_status rc =
      gm__attrib_open(&ac, m->nc, m->comps, &sj.a, why, sizeof(why));
  free(base);
  if (rc != GM_OK) {
    if (err && err_size)
      gm__fmt(err, err_size, "%s", why[0] ? why : gm_status_str(rc));
    return rc;
  }
  sj.live = calloc(m->nc ? m->nc : 1, sizeof(*sj.live));
  if (!sj.live) {
    gm__attrib_close(sj.a);
    return GM_ERR_NO_MEMORY;
  }
  for (size_t c = 0; c < m->nc; c++)
    gm__attrib_get(sj.a, c, &sj.live[c]);
  pthread_mutex_lock(&m->subj_mu);
  if (m->n_subj == m->cap_subj) {
    size_t cap = m->cap_subj ? 2 * m->cap_subj : 8;
    struct subject *ns = realloc(m->subj, cap * sizeof(*ns));
    if (!ns) {
      pthread_mutex_unlock(&m->subj_mu);
      gm__attrib_close(sj.a);
      free(sj.live);
      return GM_ERR_NO_MEMORY;
    }
    m->subj = ns;
    m->cap_subj = cap;
  }
  sj.id = ++m->next_subj_id;
  m->subj[m->n_subj++] = sj;
  *id = sj.id;
  pthread_mutex_unlock(&m->subj_mu);
  return GM_OK;
}

enum gm_status gm_meter_subject_remove(struct gm_meter *m, int id) {
  if (!m)
    return GM_ERR_INVALID_ARG;
  pthread_mutex_lock(&m->subj_mu);
  enum gm_status rc = GM_ERR_NOT_FOUND;
  for (size_t i = 0; i < m->n_subj; i++)
    if (m->subj[i].id == id) {
      gm__attrib_close(m->subj[i].a);
      free(m->subj[i].live);
      m->subj[i] = m->subj[--m->n_subj];
      rc = GM_OK;
      break;
    }
  pthread_mutex_unlock(&m->subj_mu);
  return rc;
}

enum gm_status gm_meter_subject_attribution(struct gm_meter *m, int id,
                                            size_t i,
                                            struct gm_attribution *out) {
  if (!m || !out || i >= m->nc)
    return GM_ERR_INVALID_ARG;
  pthread_mutex_lock(&m->subj_mu);
  enum gm_status rc = GM_ERR_NOT_FOUND;
  for (size_t k = 0; k < m->n_subj; k++)
    if (m->subj[k].id == id) {
      *out = m->subj[k].live[i];
      rc = GM_OK;
      break;
    }
  pthread_mutex_unlock(&m->subj_mu);
  return rc;
}

const char *gm_attrib_method_name(enum gm_attrib_method method) {
  return method == GM_ATTRIB_GPU_PROCESSES ? "attributed by GPU processes"
                                           : "attributed by CPU-time share";
}

double gm_meter_self_cpu_s(struct gm_meter *m) {
  return (double)(atomic_load(&m->self_cpu_ns) +
                  atomic_load(&m->sampler_cpu_live) +
                  atomic_load(&m->writer_cpu_live)) /
         1e9;
}

uint64_t gm_meter_dropped_samples(struct gm_meter *m) {
  return atomic_load(&m->dropped);
}

uint64_t gm_meter_missed_ticks(struct gm_meter *m) {
  return atomic_load(&m->missed);
}

const char *gm_meter_last_error(const struct gm_meter *m) {
  return m && m->err[0] ? m->err : "no error";
}

const struct gm__env *gm__meter_env(const struct gm_meter *m) {
  return &m->env;
}

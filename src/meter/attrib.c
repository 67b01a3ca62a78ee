/* attrib.c: see attrib.h.
 *
 * The machine's energy is split window by window. A window closes at each
 * fresh read of /proc/stat; over it the subject's CPU share is
 *
 *   s = d(subject CPU time) / d(machine busy CPU time), clamped to [0, 1]
 *
 * (0 when neither moved), and every CPU-side component (package, cores,
 * uncore, psys, the CPU model) and DRAM gets s x its energy in the window.
 * For the CPU model (P = TDP x u) this is TDP x the subject's own
 * utilisation: the rule the model's energy follows. DRAM follows the CPU
 * share because what DRAM draws above idle is the traffic of running code;
 * its background (refresh, self-refresh) is in the idle baseline, which
 * belongs to the machine. A GPU gets the share of its compute processes
 * read about once a second: 1 when they are all the subject's, 0 when none
 * is or none runs, else the subject's part of their SM utilisation when the
 * driver samples it per process, else of their number. A GPU whose
 * processes cannot be listed has an unknown share: its energy in those
 * windows is counted in unknown_j, not guessed.
 *
 * Each window also adds s x its duration to share_s, so the subject's part
 * of an idle baseline is idle_w x share_s and its active energy follows
 * without the baseline being known here. */
#define _GNU_SOURCE
#include "meter/attrib.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/util.h"
#include "meter/procstat.h"

#define USERS_PERIOD_NS (1000 * INT64_C(1000000))
#define MAX_USERS 256

struct comp_state {
  struct gm_attribution acc;
  bool gpu;
  double e_prev;    /* cumulative energy at the last window's end */
  double gpu_share; /* from the latest process list; NAN: unknown */
  enum { G_IDLE, G_SOLE, G_WEIGHTED, G_COUNTED, G_UNKNOWN } gpu_how;
};

struct gm__attrib {
  char procfs[400];
  int pid;
  char cgroup[256];   /* path in the hierarchy, no trailing '/' */
  char cpu_stat[700]; /* the cgroup's cpu.stat */
  char subject[300];
  size_t nc;
  struct comp_state *c;
  double *energy;  /* nc: cumulative attributed energy, for samples */
  double *share_s; /* nc: cumulative share-time */
  double *base;    /* nc: cumulative energy when the subject began */
  struct gm__proc_tree tree;
  bool started;   /* the first window has begun */
  bool have_prev; /* prev_cpu_s is a reading of the subject */
  double prev_cpu_s, prev_busy_s, prev_self_s;
  int64_t prev_t_ns;
  int64_t users_t_ns; /* last read of the GPUs' process lists; 0: never */
  struct gm__user users[MAX_USERS];
};

/* The cgroup's usage_usec in seconds; NAN when unreadable. */
static double cgroup_cpu_s(const struct gm__attrib *a) {
  char text[2048];
  if (gm__read_text(a->cpu_stat, text, sizeof(text)) != GM_OK)
    return NAN;
  const char *p = strstr(text, "usage_usec ");
  if (!p || (p != text && p[-1] != '\n'))
    return NAN;
  char *end;
  double us = strtod(p + 11, &end);
  /* a number of microseconds, whole, ending its line */
  if (end == p + 11 || !(us >= 0) || !isfinite(us) || us != floor(us) ||
      (*end != '\n' && *end != '\0'))
    return NAN;
  return us / 1e6;
}

/* Whether pid belongs to the cgroup or one below it (/proc/PID/cgroup). */
static bool pid_in_cgroup(const struct gm__attrib *a, int pid) {
  char path[500], text[4096];
  gm__fmt(path, sizeof(path), "%s/%d/cgroup", a->procfs, pid);
  if (gm__read_text(path, text, sizeof(text)) != GM_OK)
    return false;
  for (char *line = text; line && *line;) {
    char *next = strchr(line, '\n');
    if (next)
      *next++ = '\0';
    if (strncmp(line, "0::", 3) == 0) {
      const char *cg = line + 3;
      size_t n = strlen(a->cgroup);
      return n == 0 || (strncmp(cg, a->cgroup, n) == 0 &&
                        (cg[n] == '\0' || cg[n] == '/'));
    }
    line = next;
  }
  return false;
}

static bool is_member(const struct gm__attrib *a, int pid) {
  if (a->pid > 0)
    return gm__proc_tree_has(&a->tree, pid);
  return pid_in_cgroup(a, pid);
}

enum gm_status gm__attrib_open(const struct gm__attrib_config *cfg, size_t nc,
                               const struct gm_component_info *comps,
                               struct gm__attrib **out, char *why,
                               size_t why_size) {
  *out = NULL;
  if (why_size)
    why[0] = '\0';
  bool by_cgroup = cfg->cgroup && *cfg->cgroup;
  if (!by_cgroup && cfg->pid <= 0)
    return GM_ERR_INVALID_ARG;
  struct gm__attrib *a = calloc(1, sizeof(*a));
  if (!a)
    return GM_ERR_NO_MEMORY;
  gm__strlcpy(a->procfs, cfg->procfs, sizeof(a->procfs));
  if (by_cgroup) {
    const char *p = cfg->cgroup;
    while (*p == '/')
      p++;
    gm__fmt(a->cgroup, sizeof(a->cgroup), "/%s", p);
    size_t n = strlen(a->cgroup);
    while (n > 1 && a->cgroup[n - 1] == '/')
      a->cgroup[--n] = '\0';
    if (n == 1)
      a->cgroup[0] = '\0'; /* the root: every process */
    gm__fmt(a->cpu_stat, sizeof(a->cpu_stat), "%s%s/cpu.stat",
            cfg->cgroup_mount, a->cgroup);
    gm__fmt(a->subject, sizeof(a->subject), "cgroup %s",
            a->cgroup[0] ? a->cgroup : "/");
    if (isnan(cgroup_cpu_s(a))) {
      gm__fmt(why, why_size,
              "cannot read usage_usec in '%s': is '%s' a cgroup v2 "
              "directory? (cgroup v1 has no cpu.stat usage_usec)",
              a->cpu_stat, a->cgroup[0] ? a->cgroup : "/");
      free(a);
      return GM_ERR_NOT_FOUND;
    }
  } else {
    a->pid = cfg->pid;
    gm__fmt(a->subject, sizeof(a->subject), "process tree of pid %d", cfg->pid);
  }
  a->nc = nc;
  a->c = calloc(nc ? nc : 1, sizeof(*a->c));
  a->energy = calloc(nc ? nc : 1, sizeof(double));
  a->share_s = calloc(nc ? nc : 1, sizeof(double));
  a->base = calloc(nc ? nc : 1, sizeof(double));
  if (!a->c || !a->energy || !a->share_s || !a->base) {
    gm__attrib_close(a);
    return GM_ERR_NO_MEMORY;
  }
  for (size_t i = 0; i < nc; i++) {
    struct comp_state *c = &a->c[i];
    a->base[i] = cfg->base_j ? cfg->base_j[i] : 0.0;
    c->gpu = comps[i].kind == GM_KIND_GPU;
    c->acc.method = c->gpu ? GM_ATTRIB_GPU_PROCESSES : GM_ATTRIB_CPU_TIME;
    c->acc.share = NAN;
    c->gpu_share = NAN;
    c->gpu_how = G_UNKNOWN;
  }
  *out = a;
  return GM_OK;
}

void gm__attrib_close(struct gm__attrib *a) {
  if (!a)
    return;
  gm__proc_tree_free(&a->tree);
  free(a->c);
  free(a->energy);
  free(a->share_s);
  free(a->base);
  free(a);
}

/* The subject's CPU seconds now; NAN when it cannot be read (a tree whose
 * root is gone reads as its last value: it does no more work). */
static double subject_cpu_s(struct gm__attrib *a) {
  if (a->pid <= 0)
    return cgroup_cpu_s(a);
  if (gm__proc_tree_read(a->procfs, a->pid, &a->tree))
    return a->tree.cpu_s;
  a->tree.n_pids = 0;
  return a->have_prev ? a->prev_cpu_s : NAN;
}

/* The share of GPU component i from its process list. */
static void refresh_gpu(struct gm__attrib *a, size_t i,
                        gm__attrib_users_fn users, void *ctx) {
  struct comp_state *c = &a->c[i];
  long n = users ? users(ctx, i, a->users, MAX_USERS) : -1;
  if (n < 0 || n > MAX_USERS) {
    c->gpu_share = NAN;
    c->gpu_how = G_UNKNOWN;
    return;
  }
  if (n == 0) {
    c->gpu_share = 0.0;
    c->gpu_how = G_IDLE;
    return;
  }
  size_t mine = 0;
  bool weighted = true;
  double w_all = 0, w_mine = 0;
  for (long k = 0; k < n; k++) {
    bool in = is_member(a, a->users[k].pid);
    mine += in;
    double w = a->users[k].weight;
    if (isnan(w))
      weighted = false;
    else {
      w_all += w;
      w_mine += in ? w : 0;
    }
  }
  if (mine == (size_t)n || mine == 0) {
    c->gpu_share = mine ? 1.0 : 0.0;
    c->gpu_how = mine ? G_SOLE : G_IDLE;
  } else if (weighted && w_all > 0) {
    c->gpu_share = w_mine / w_all;
    c->gpu_how = G_WEIGHTED;
  } else {
    c->gpu_share = (double)mine / (double)n;
    c->gpu_how = G_COUNTED;
  }
}

/* The last stretch of a run that ended between two reads of /proc/stat:
 * each component's latest share applies to it. */
static void finish(struct gm__attrib *a, int64_t t_ns, const double *cum_j) {
  double dt = (double)(t_ns - a->prev_t_ns) / 1e9;
  for (size_t i = 0; i < a->nc; i++) {
    struct comp_state *c = &a->c[i];
    double de = cum_j[i] - c->e_prev;
    c->e_prev = cum_j[i];
    double s = c->gpu ? c->gpu_share : c->acc.share;
    if (isnan(s)) {
      c->acc.unknown_j += de;
      continue;
    }
    c->acc.energy_j += s * de;
    c->acc.share_s += s * dt;
    a->energy[i] = c->acc.energy_j;
    a->share_s[i] = c->acc.share_s;
  }
  a->prev_t_ns = t_ns;
}

void gm__attrib_tick(struct gm__attrib *a, int64_t t_ns, bool window,
                     double busy_s, double self_s, const double *cum_j,
                     bool final, gm__attrib_users_fn users, void *users_ctx) {
  if (!window) {
    if (final && a->started)
      finish(a, t_ns, cum_j);
    else if (final)
      for (size_t i = 0; i < a->nc; i++) /* no window at all */
        a->c[i].acc.unknown_j = cum_j[i] - a->base[i];
    return;
  }
  double cpu_s = subject_cpu_s(a);
  bool refresh =
      a->users_t_ns == 0 || t_ns - a->users_t_ns >= USERS_PERIOD_NS * 9 / 10;
  if (refresh) {
    a->users_t_ns = t_ns;
    for (size_t i = 0; i < a->nc; i++)
      if (a->c[i].gpu)
        refresh_gpu(a, i, users, users_ctx);
  }
  if (!a->started) {
    /* the first window begins here; what the components drew before it (a
     * first read of /proc/stat that failed) has no share */
    a->started = true;
    for (size_t i = 0; i < a->nc; i++) {
      a->c[i].e_prev = cum_j[i];
      a->c[i].acc.unknown_j += cum_j[i] - a->base[i];
      a->energy[i] = 0;
    }
    if (!isnan(cpu_s)) {
      a->have_prev = true;
      a->prev_cpu_s = cpu_s;
    }
    a->prev_busy_s = busy_s;
    a->prev_self_s = self_s;
    a->prev_t_ns = t_ns;
    return;
  }
  double dt = (double)(t_ns - a->prev_t_ns) / 1e9;
  double cpu_share = NAN;
  if (!isnan(cpu_s) && a->have_prev) {
    double d_cpu = (cpu_s - a->prev_cpu_s) - (self_s - a->prev_self_s);
    double d_busy = busy_s - a->prev_busy_s;
    if (d_cpu < 0)
      d_cpu = 0; /* a member reaped by a process outside the tree */
    cpu_share = d_busy > 0 ? fmin(1.0, d_cpu / d_busy) : (d_cpu > 0 ? 1 : 0);
  }
  /* an unreadable reading breaks the chain: the next window has no
   * reading at its start, so its share is unknown too (its subject's CPU
   * time would span two windows against the machine's one) */
  a->have_prev = !isnan(cpu_s);
  if (!isnan(cpu_s))
    a->prev_cpu_s = cpu_s;
  a->prev_busy_s = busy_s;
  a->prev_self_s = self_s;
  a->prev_t_ns = t_ns;
  for (size_t i = 0; i < a->nc; i++) {
    struct comp_state *c = &a->c[i];
    double de = cum_j[i] - c->e_prev;
    c->e_prev = cum_j[i];
    double s = c->gpu ? c->gpu_share : cpu_share;
    c->acc.windows++;
    if (isnan(s)) {
      c->acc.unknown_windows++;
      c->acc.unknown_j += de;
      continue;
    }
    c->acc.share = s;
    c->acc.energy_j += s * de;
    c->acc.share_s += s * dt;
    a->energy[i] = c->acc.energy_j;
    a->share_s[i] = c->acc.share_s;
    if (c->gpu) {
      c->acc.sole_windows += c->gpu_how == G_SOLE;
      c->acc.weighted_windows += c->gpu_how == G_WEIGHTED;
      c->acc.counted_windows += c->gpu_how == G_COUNTED;
      c->acc.idle_windows += c->gpu_how == G_IDLE;
    }
  }
}

void gm__attrib_get(const struct gm__attrib *a, size_t c,
                    struct gm_attribution *out) {
  *out = a->c[c].acc;
}

const double *gm__attrib_energy(const struct gm__attrib *a) {
  return a->energy;
}

const double *gm__attrib_share_s(const struct gm__attrib *a) {
  return a->share_s;
}

const char *gm__attrib_subject(const struct gm__attrib *a) {
  return a->subject;
}

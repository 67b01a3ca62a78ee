/* subjects.c: what the exporter attributes energy to besides the machine
 * (exporter.h): `greenml measure` runs found in procfs and Slurm jobs found
 * as cgroup v2 directories, kept in step with the meter's subjects by a
 * watcher thread that searches the host every few seconds (never per
 * scrape). The rules of attribution are the meter's (gm_meter_subject_add,
 * src/meter/attrib.c); this file only finds the subjects and names them. */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/util.h"
#include "exporter_internal.h"
#include "greenml/exporter.h"

#define CMDLINE_MAX 8192
#define JOB_DEPTH 6

struct found_list {
  struct gm_exporter_found *v;
  size_t n, cap, max;
  bool oom;
};

static struct gm_exporter_found *push(struct found_list *l) {
  if (l->n == l->max)
    return NULL;
  if (l->n == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : 16;
    struct gm_exporter_found *nv = realloc(l->v, cap * sizeof(*nv));
    if (!nv) {
      l->oom = true;
      return NULL;
    }
    l->v = nv;
    l->cap = cap;
  }
  struct gm_exporter_found *f = &l->v[l->n++];
  memset(f, 0, sizeof(*f));
  return f;
}

/* Appends s to buf (size bytes) after sep when buf is not empty; what does
 * not fit is cut and ends in "...". */
static void join(char *buf, size_t size, const char *sep, const char *s) {
  size_t len = strlen(buf);
  int n = snprintf(buf + len, size - len, "%s%s", len ? sep : "", s);
  if (n < 0 || (size_t)n >= size - len) {
    if (size >= 4)
      memcpy(buf + size - 4, "...", 4);
  }
}

/* Whether argv0 names greenml (any directory; greenml or greenml-study,
 * which `greenml` runs for measure). */
static bool is_greenml(const char *argv0) {
  const char *base = strrchr(argv0, '/');
  base = base ? base + 1 : argv0;
  return strcmp(base, "greenml") == 0 || strcmp(base, "greenml-study") == 0;
}

/* The run of process pid when its command line is `greenml measure ...`. */
static void run_of(const char *procfs, int pid, struct found_list *l) {
  char path[600];
  gm__fmt(path, sizeof(path), "%s/%d/cmdline", procfs, pid);
  static __thread char text[CMDLINE_MAX + 1];
  FILE *f = fopen(path, "re");
  if (!f)
    return;
  size_t len = fread(text, 1, CMDLINE_MAX, f);
  fclose(f);
  text[len] = '\0';
  if (len == 0 || len == CMDLINE_MAX)
    return; /* a kernel thread, or a command line too long to be sure */
  const char *argv[256];
  size_t argc = 0;
  for (size_t i = 0; i < len && argc < 256; i += strlen(text + i) + 1)
    argv[argc++] = text + i;
  if (argc < 2 || !is_greenml(argv[0]) || strcmp(argv[1], "measure") != 0)
    return;
  struct gm_exporter_found *r = push(l);
  if (!r)
    return;
  r->kind = GM_EXPORTER_RUN;
  r->pid = pid;
  gm__fmt(r->id, sizeof(r->id), "%d", pid);
  bool cmd = false;
  for (size_t i = 2; i < argc; i++) {
    if (cmd) {
      join(r->command, sizeof(r->command), " ", argv[i]);
    } else if (strcmp(argv[i], "--") == 0) {
      cmd = true;
    } else if (strcmp(argv[i], "--tag") == 0 && i + 1 < argc) {
      join(r->tags, sizeof(r->tags), ",", argv[++i]);
    } else if (strncmp(argv[i], "--tag=", 6) == 0) {
      join(r->tags, sizeof(r->tags), ",", argv[i] + 6);
    }
  }
}

static void find_runs(const char *procfs, struct found_list *l) {
  DIR *d = opendir(procfs);
  if (!d)
    return;
  int self = (int)getpid();
  struct dirent *de;
  while ((de = readdir(d)) != NULL && !l->oom) {
    char *end;
    long pid = strtol(de->d_name, &end, 10);
    if (*end || pid <= 0 || pid == self)
      continue;
    run_of(procfs, (int)pid, l);
  }
  closedir(d);
}

/* "job_" and digits only. */
static bool is_job_dir(const char *name) {
  if (strncmp(name, "job_", 4) != 0 || !name[4])
    return false;
  for (const char *p = name + 4; *p; p++)
    if (!isdigit((unsigned char)*p))
      return false;
  return true;
}

/* Slurm's cgroup v2 plugin puts a job in .../job_ID (with its steps below
 * it); a job directory is not searched further. */
static void find_jobs(const char *root, const char *rel, int depth,
                      struct found_list *l) {
  char dir[900];
  gm__fmt(dir, sizeof(dir), "%s%s", root, rel);
  DIR *d = opendir(dir);
  if (!d)
    return;
  struct dirent *de;
  while ((de = readdir(d)) != NULL && !l->oom) {
    if (de->d_name[0] == '.')
      continue;
    if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
      continue;
    char sub[600];
    if (!gm__fmt(sub, sizeof(sub), "%s/%s", rel, de->d_name))
      continue;
    char full[1400];
    struct stat st;
    gm__fmt(full, sizeof(full), "%s%s", root, sub);
    if (lstat(full, &st) != 0 || !S_ISDIR(st.st_mode))
      continue;
    if (is_job_dir(de->d_name)) {
      struct gm_exporter_found *j = push(l);
      if (!j)
        continue;
      j->kind = GM_EXPORTER_JOB;
      gm__strlcpy(j->cgroup, sub, sizeof(j->cgroup));
      gm__strlcpy(j->id, de->d_name + 4, sizeof(j->id));
    } else if (depth < JOB_DEPTH) {
      find_jobs(root, sub, depth + 1, l);
    }
  }
  closedir(d);
}

enum gm_status gm_exporter_find_subjects(const char *procfs,
                                         const char *cgroup_root, unsigned what,
                                         size_t max,
                                         struct gm_exporter_found **out,
                                         size_t *n) {
  if (!out || !n)
    return GM_ERR_INVALID_ARG;
  *out = NULL;
  *n = 0;
  struct found_list l = {.max = max};
  if ((what & GM_EXPORTER_RUN) && procfs)
    find_runs(procfs, &l);
  if ((what & GM_EXPORTER_JOB) && cgroup_root)
    find_jobs(cgroup_root, "", 1, &l);
  if (l.oom) {
    free(l.v);
    return GM_ERR_NO_MEMORY;
  }
  *out = l.v;
  *n = l.n;
  return GM_OK;
}

/* ---- the watcher ----------------------------------------------------------
 */

#define MAX_SUBJECTS 1024

struct watched {
  struct gm_exporter_found found;
  int id; /* the meter's subject */
  bool seen;
};

struct gm__watch {
  struct gm_meter *m;
  char procfs[400], cgroup_root[600];
  unsigned what;
  int64_t period_ns;
  pthread_t th;
  pthread_mutex_t mu; /* w, n; and stop with cv */
  pthread_cond_t cv;
  bool stop;
  struct watched *w;
  size_t n, cap;
};

static bool same(const struct gm_exporter_found *a,
                 const struct gm_exporter_found *b) {
  return a->kind == b->kind && a->pid == b->pid &&
         strcmp(a->cgroup, b->cgroup) == 0 &&
         strcmp(a->command, b->command) == 0;
}

/* One search: subjects that appeared are added to the meter, those gone
 * are removed. */
static void rescan(struct gm__watch *w) {
  struct gm_exporter_found *f = NULL;
  size_t nf = 0;
  if (gm_exporter_find_subjects(w->procfs, w->cgroup_root, w->what,
                                MAX_SUBJECTS, &f, &nf) != GM_OK)
    return;
  pthread_mutex_lock(&w->mu);
  for (size_t i = 0; i < w->n; i++)
    w->w[i].seen = false;
  for (size_t k = 0; k < nf; k++) {
    size_t i = 0;
    while (i < w->n && !same(&w->w[i].found, &f[k]))
      i++;
    if (i < w->n) {
      w->w[i].seen = true;
      continue;
    }
    if (w->n == w->cap) {
      size_t cap = w->cap ? 2 * w->cap : 8;
      struct watched *nw = realloc(w->w, cap * sizeof(*nw));
      if (!nw)
        break;
      w->w = nw;
      w->cap = cap;
    }
    int id = 0;
    char err[256];
    if (gm_meter_subject_add(w->m, f[k].kind == GM_EXPORTER_RUN ? f[k].pid : 0,
                             f[k].cgroup, &id, err, sizeof(err)) != GM_OK)
      continue; /* gone meanwhile, or not a cgroup v2 directory */
    w->w[w->n++] = (struct watched){.found = f[k], .id = id, .seen = true};
  }
  for (size_t i = 0; i < w->n;) {
    if (w->w[i].seen) {
      i++;
      continue;
    }
    gm_meter_subject_remove(w->m, w->w[i].id);
    w->w[i] = w->w[--w->n];
  }
  pthread_mutex_unlock(&w->mu);
  free(f);
}

static void *watch_main(void *arg) {
  struct gm__watch *w = arg;
  pthread_setname_np(pthread_self(), "gm-watch");
  for (;;) {
    rescan(w);
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t t = (int64_t)ts.tv_sec * GM_NS_PER_S + ts.tv_nsec + w->period_ns;
    ts.tv_sec = (time_t)(t / GM_NS_PER_S);
    ts.tv_nsec = (long)(t % GM_NS_PER_S);
    pthread_mutex_lock(&w->mu);
    while (!w->stop && pthread_cond_timedwait(&w->cv, &w->mu, &ts) != ETIMEDOUT)
      ;
    bool stop = w->stop;
    pthread_mutex_unlock(&w->mu);
    if (stop)
      return NULL;
  }
}

enum gm_status gm__watch_start(struct gm_meter *m, unsigned what,
                               double rescan_s, const char *procfs_root,
                               const char *sysfs_root, struct gm__watch **out) {
  *out = NULL;
  struct gm__watch *w = calloc(1, sizeof(*w));
  if (!w)
    return GM_ERR_NO_MEMORY;
  w->m = m;
  w->what = what;
  w->period_ns = (int64_t)((rescan_s > 0 ? rescan_s : 5.0) * 1e9);
  gm__strlcpy(w->procfs, gm__root(procfs_root, "GREENML_PROCFS", "/proc"),
              sizeof(w->procfs));
  gm__fmt(w->cgroup_root, sizeof(w->cgroup_root), "%s/fs/cgroup",
          gm__root(sysfs_root, "GREENML_SYSFS", "/sys"));
  pthread_mutex_init(&w->mu, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&w->cv, &ca);
  pthread_condattr_destroy(&ca);
  if (pthread_create(&w->th, NULL, watch_main, w) != 0) {
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    free(w);
    return GM_ERR_SYSTEM;
  }
  *out = w;
  return GM_OK;
}

void gm__watch_stop(struct gm__watch *w) {
  if (!w)
    return;
  pthread_mutex_lock(&w->mu);
  w->stop = true;
  pthread_cond_signal(&w->cv);
  pthread_mutex_unlock(&w->mu);
  pthread_join(w->th, NULL);
  for (size_t i = 0; i < w->n; i++)
    gm_meter_subject_remove(w->m, w->w[i].id);
  free(w->w);
  pthread_cond_destroy(&w->cv);
  pthread_mutex_destroy(&w->mu);
  free(w);
}

enum gm_status gm__watch_snapshot(struct gm__watch *w, size_t nc,
                                  struct gm_exporter_snapshot *s) {
  s->n_subjects = 0;
  s->subjects = NULL;
  if (!w)
    return GM_OK;
  pthread_mutex_lock(&w->mu);
  enum gm_status rc = GM_OK;
  if (w->n) {
    s->subjects = calloc(w->n, sizeof(*s->subjects));
    if (!s->subjects)
      rc = GM_ERR_NO_MEMORY;
  }
  for (size_t i = 0; rc == GM_OK && i < w->n; i++) {
    struct gm_exporter_subject *x = &s->subjects[s->n_subjects];
    x->found = w->w[i].found;
    x->attr = calloc(nc ? nc : 1, sizeof(*x->attr));
    if (!x->attr) {
      rc = GM_ERR_NO_MEMORY;
      break;
    }
    bool ok = true;
    for (size_t c = 0; c < nc && ok; c++)
      ok = gm_meter_subject_attribution(w->m, w->w[i].id, c, &x->attr[c]) ==
           GM_OK;
    if (!ok) {
      free(x->attr);
      continue;
    }
    s->n_subjects++;
  }
  pthread_mutex_unlock(&w->mu);
  return rc;
}

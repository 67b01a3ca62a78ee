/* procstat.c: see procstat.h. */
#define _GNU_SOURCE
#include "meter/procstat.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/fileio.h"
#include "base/util.h"

#define STAT_PERIOD_NS (100 * INT64_C(1000000))
#define TREE_PERIOD_NS (1000 * INT64_C(1000000))
#define MEMINFO_PERIOD_NS (1000 * INT64_C(1000000))

struct gm__procstat {
  char stat_path[512];
  char meminfo_path[512];
  int stat_fd, meminfo_fd; /* kept open: one pread per refresh */
  char procfs[400];
  int track_pid;
  long clk_tck;
  long page_bytes;
  size_t n_cpu_slots; /* 1 + highest cpu number + 1 */
  uint64_t *busy, *total, *prev_busy, *prev_total;
  bool have_prev;
  enum gm__util_state util_state;
  unsigned still_reads; /* refreshes in a row whose counters did not move */
  struct gm__procstat_faults faults;
  int64_t last_stat_ns;
  int64_t last_tree_ns;
  int64_t last_meminfo_ns;
  double util_frac;
  double mem_used, mem_total;
  double tree_cpu_s, tree_rss;
  struct gm__proc_tree tree;
  bool window;   /* the last sample closed a utilisation window */
  double busy_s; /* the machine's busy CPU time at the last good read */
  size_t n_metrics;
  struct gm_metric_info *metrics;
  size_t *cpu_of_metric; /* metric index -> slot, or SIZE_MAX */
  double *values;        /* cached last values */
  size_t i_mem_used, i_mem_total, i_tree_cpu, i_tree_rss; /* SIZE_MAX: none */
  char *buf; /* /proc/stat read buffer */
  size_t buf_size;
};

size_t gm__procstat_parse_stat(const char *text, uint64_t *busy,
                               uint64_t *total, size_t max) {
  size_t top = 0;
  const char *line = text;
  while (line && *line) {
    const char *next = strchr(line, '\n');
    if (strncmp(line, "cpu", 3) == 0) {
      const char *p = line + 3;
      size_t slot;
      if (*p == ' ') {
        slot = 0;
      } else if (isdigit((unsigned char)*p)) {
        char *end;
        unsigned long n = strtoul(p, &end, 10);
        p = end;
        slot = (size_t)n + 1;
      } else {
        return 0;
      }
      uint64_t f[8] = {0};
      int nf = 0;
      while (nf < 8) {
        while (*p == ' ')
          p++;
        if (!isdigit((unsigned char)*p))
          break;
        char *end;
        errno = 0;
        f[nf++] = strtoull(p, &end, 10);
        if (errno == ERANGE || f[nf - 1] > UINT64_MAX / 16)
          return 0; /* no tick count is that large: garbage */
        p = end;
      }
      if (nf < 4)
        return 0;
      /* user nice system idle iowait irq softirq steal; guest is already in
       * user. Busy excludes idle, iowait and steal (time the hypervisor
       * gave to someone else is not work done here). */
      uint64_t b = f[0] + f[1] + f[2] + f[5] + f[6];
      uint64_t t = b + f[3] + f[4] + f[7];
      if (slot < max) {
        busy[slot] = b;
        total[slot] = t;
        if (slot + 1 > top)
          top = slot + 1;
      }
    }
    line = next ? next + 1 : NULL;
  }
  return top;
}

static bool read_stat(struct gm__procstat *ps) {
  if (gm__pread_text(ps->stat_fd, ps->buf, ps->buf_size) != GM_OK)
    return false;
  for (size_t i = 0; i < ps->n_cpu_slots; i++)
    ps->busy[i] = ps->total[i] = 0;
  return gm__procstat_parse_stat(ps->buf, ps->busy, ps->total,
                                 ps->n_cpu_slots) > 0;
}

/* The most a meminfo value may say: 64 TiB, in kB. */
#define MAX_MEMINFO_KB (64.0 * 1073741824.0)

/* Value in kB of the meminfo line starting with key (e.g. "MemTotal:");
 * NAN when absent, negative or absurd. */
static double meminfo_kb(const char *text, const char *key) {
  const char *p = strstr(text, key);
  if (!p || (p != text && p[-1] != '\n'))
    return NAN;
  char *end = NULL;
  double v = strtod(p + strlen(key), &end);
  if (end == p + strlen(key) || !(v >= 0 && v <= MAX_MEMINFO_KB))
    return NAN;
  return v;
}

static void read_meminfo(struct gm__procstat *ps) {
  char buf[8192];
  ps->mem_used = ps->mem_total = NAN;
  if (gm__pread_text(ps->meminfo_fd, buf, sizeof(buf)) != GM_OK)
    return;
  double total_kb = meminfo_kb(buf, "MemTotal:");
  double avail_kb = meminfo_kb(buf, "MemAvailable:");
  ps->mem_total = total_kb * 1024.0;
  ps->mem_used = (total_kb - avail_kb) * 1024.0;
}

struct proc_row {
  int pid, ppid;
  double cpu_ticks; /* utime + stime + cutime + cstime */
  double rss_pages;
};

/* Parses /proc/<pid>/stat from after the last ')' (comm may hold spaces). */
static bool parse_pid_stat(const char *text, struct proc_row *row) {
  const char *rp = strrchr(text, ')');
  if (!rp)
    return false;
  const char *p = rp + 1;
  /* Fields after comm: 3 state, 4 ppid, ... 14 utime, 15 stime, 16 cutime,
   * 17 cstime, ... 24 rss. Token k (0-based) is field k + 3. */
  long long tok[22];
  int k = 0;
  while (k < 22 && *p) {
    while (*p == ' ')
      p++;
    if (!*p)
      break;
    if (k == 0) { /* state is a letter */
      p++;
      tok[k++] = 0;
      continue;
    }
    char *end;
    tok[k++] = strtoll(p, &end, 10);
    if (end == p)
      return false;
    p = end;
  }
  if (k < 22)
    return false;
  row->ppid = (int)tok[1];
  row->cpu_ticks = (double)(tok[11] + tok[12] + tok[13] + tok[14]);
  row->rss_pages = (double)tok[21];
  return true;
}

/* Reads /proc/<pid>/stat into row; false when the process is gone. */
static bool read_row(const char *procfs, int pid, struct proc_row *row) {
  char path[600], text[1024];
  gm__fmt(path, sizeof(path), "%s/%d/stat", procfs, pid);
  if (gm__read_text(path, text, sizeof(text)) != GM_OK)
    return false;
  row->pid = pid;
  return parse_pid_stat(text, row);
}

/* Adds pid to the tree's list (it grows; a list that cannot grow keeps what
 * it has: the CPU time is still summed). */
static void tree_add_pid(struct gm__proc_tree *t, int pid) {
  if (t->n_pids == t->cap_pids) {
    size_t cap = t->cap_pids ? 2 * t->cap_pids : 64;
    int *np = realloc(t->pids, cap * sizeof(int));
    if (!np)
      return;
    t->pids = np;
    t->cap_pids = cap;
  }
  t->pids[t->n_pids++] = pid;
}

/* Walks the tree from the root through /proc/<pid>/task/<tid>/children
 * (reads only the tree's own files). Returns false when the kernel has no
 * children files (CONFIG_PROC_CHILDREN off), so the caller scans all of
 * /proc instead. */
static bool walk_children(const char *procfs, int root, double *ticks,
                          double *pages, struct gm__proc_tree *t) {
  int queue[4096];
  size_t head = 0, tail = 0;
  queue[tail++] = root;
  t->found_root = false;
  while (head < tail) {
    int pid = queue[head++];
    struct proc_row row;
    if (!read_row(procfs, pid, &row))
      continue;
    if (pid == root)
      t->found_root = true;
    *ticks += row.cpu_ticks;
    *pages += row.rss_pages;
    tree_add_pid(t, pid);
    char dir[600];
    gm__fmt(dir, sizeof(dir), "%s/%d/task", procfs, pid);
    DIR *d = opendir(dir);
    if (!d)
      continue;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
      if (!isdigit((unsigned char)de->d_name[0]))
        continue;
      char path[900], list[4096];
      gm__fmt(path, sizeof(path), "%s/%s/children", dir, de->d_name);
      enum gm_status rc = gm__read_text(path, list, sizeof(list));
      if (rc == GM_ERR_UNAVAILABLE && pid == root) {
        closedir(d);
        return false;
      }
      for (char *p = list; rc == GM_OK && *p;) {
        char *end;
        long child = strtol(p, &end, 10);
        if (end == p)
          break;
        if (child > 0 && tail < sizeof(queue) / sizeof(queue[0]))
          queue[tail++] = (int)child;
        p = end;
      }
    }
    closedir(d);
  }
  return true;
}

/* The slow path: every process in /proc, tree marked by parent links. */
static bool scan_all(const char *procfs, int root, double *ticks, double *pages,
                     struct gm__proc_tree *t) {
  DIR *d = opendir(procfs);
  if (!d)
    return false;
  size_t cap = 256, n = 0;
  struct proc_row *rows = malloc(cap * sizeof(*rows));
  struct dirent *de;
  while (rows && (de = readdir(d)) != NULL) {
    if (!isdigit((unsigned char)de->d_name[0]))
      continue;
    struct proc_row row;
    if (!read_row(procfs, atoi(de->d_name), &row))
      continue;
    if (n == cap) {
      struct proc_row *nr = realloc(rows, 2 * cap * sizeof(*rows));
      if (!nr)
        break;
      rows = nr;
      cap *= 2;
    }
    rows[n++] = row;
  }
  closedir(d);
  bool *in = rows ? calloc(n ? n : 1, sizeof(*in)) : NULL;
  if (!in) {
    free(rows);
    return false;
  }
  t->found_root = false;
  for (size_t i = 0; i < n; i++)
    if (rows[i].pid == root)
      in[i] = t->found_root = true;
  for (bool changed = t->found_root; changed;) {
    changed = false;
    for (size_t i = 0; i < n; i++) {
      if (in[i])
        continue;
      for (size_t j = 0; j < n; j++)
        if (in[j] && rows[j].pid == rows[i].ppid) {
          in[i] = changed = true;
          break;
        }
    }
  }
  for (size_t i = 0; i < n; i++)
    if (in[i]) {
      *ticks += rows[i].cpu_ticks;
      *pages += rows[i].rss_pages;
      tree_add_pid(t, rows[i].pid);
    }
  free(in);
  free(rows);
  return true;
}

bool gm__proc_tree_read(const char *procfs, int root, struct gm__proc_tree *t) {
  double ticks = 0, pages = 0;
  t->n_pids = 0;
  t->found_root = false;
  if (!walk_children(procfs, root, &ticks, &pages, t)) {
    ticks = pages = 0;
    t->n_pids = 0;
    if (!scan_all(procfs, root, &ticks, &pages, t))
      return false;
  }
  if (!t->found_root)
    return false;
  long tck = sysconf(_SC_CLK_TCK);
  long page = sysconf(_SC_PAGESIZE);
  t->cpu_s = ticks / (double)(tck > 0 ? tck : 100);
  t->rss_bytes = pages * (double)(page > 0 ? page : 4096);
  return true;
}

bool gm__proc_tree_has(const struct gm__proc_tree *t, int pid) {
  for (size_t i = 0; i < t->n_pids; i++)
    if (t->pids[i] == pid)
      return true;
  return false;
}

void gm__proc_tree_free(struct gm__proc_tree *t) {
  free(t->pids);
  memset(t, 0, sizeof(*t));
}

static void read_tree(struct gm__procstat *ps) {
  /* After the root exits the last values are kept. */
  if (gm__proc_tree_read(ps->procfs, ps->track_pid, &ps->tree)) {
    ps->tree_cpu_s = ps->tree.cpu_s;
    ps->tree_rss = ps->tree.rss_bytes;
  }
}

static bool add_metric(struct gm__procstat *ps, const char *name,
                       const char *unit, size_t cpu_slot) {
  struct gm_metric_info *mi = &ps->metrics[ps->n_metrics];
  memset(mi, 0, sizeof(*mi));
  gm__strlcpy(mi->name, name, sizeof(mi->name));
  gm__strlcpy(mi->unit, unit, sizeof(mi->unit));
  gm__strlcpy(mi->source, "procfs", sizeof(mi->source));
  ps->cpu_of_metric[ps->n_metrics] = cpu_slot;
  ps->n_metrics++;
  return true;
}

enum gm_status gm__procstat_open(const char *procfs, int track_pid,
                                 struct gm__procstat **out,
                                 struct gm_probe *probe) {
  *out = NULL;
  struct gm__procstat *ps = calloc(1, sizeof(*ps));
  if (!ps)
    return GM_ERR_NO_MEMORY;
  gm__strlcpy(ps->procfs, procfs, sizeof(ps->procfs));
  gm__fmt(ps->stat_path, sizeof(ps->stat_path), "%s/stat", procfs);
  gm__fmt(ps->meminfo_path, sizeof(ps->meminfo_path), "%s/meminfo", procfs);
  ps->track_pid = track_pid;
  /* Regular files only: a FIFO at a fake root must not block the meter. */
  gm__file_open_regular(ps->stat_path, &ps->stat_fd, NULL, NULL, 0);
  gm__file_open_regular(ps->meminfo_path, &ps->meminfo_fd, NULL, NULL, 0);
  ps->clk_tck = sysconf(_SC_CLK_TCK);
  if (ps->clk_tck <= 0)
    ps->clk_tck = 100;
  ps->page_bytes = sysconf(_SC_PAGESIZE);
  ps->util_frac = NAN;
  ps->util_state = GM__UTIL_NONE;
  ps->tree_cpu_s = ps->tree_rss = NAN;

  char *text = NULL;
  size_t len = 0;
  char why[128];
  enum gm_status rc = gm__file_read_max(ps->stat_path, GM__READ_ALL_MAX, &text,
                                        &len, why, sizeof(why));
  if (rc == GM_OK && ps->stat_fd < 0)
    rc = GM_ERR_IO; /* replaced meanwhile */
  if (rc != GM_OK) {
    gm__fmt(probe->reason, sizeof(probe->reason), "cannot read '%s': %s",
            ps->stat_path, rc == GM_ERR_PARSE ? why : gm_status_str(rc));
    gm__fmt(probe->fix, sizeof(probe->fix),
            "mount procfs (mount -t proc proc /proc) or set GREENML_PROCFS");
    gm__procstat_close(ps);
    return rc;
  }
  ps->buf_size = len * 2 + 4096; /* room for growth of the intr line */
  ps->buf = malloc(ps->buf_size);
  uint64_t tmp_b[1025], tmp_t[1025];
  size_t slots = gm__procstat_parse_stat(text, tmp_b, tmp_t, 1025);
  free(text);
  if (!ps->buf || slots == 0) {
    gm__fmt(probe->reason, sizeof(probe->reason),
            "cannot parse '%s': no cpu lines", ps->stat_path);
    ps->buf_size = 0;
    gm__procstat_close(ps);
    return slots == 0 ? GM_ERR_PARSE : GM_ERR_NO_MEMORY;
  }
  ps->n_cpu_slots = slots;
  ps->busy = calloc(slots, sizeof(uint64_t));
  ps->total = calloc(slots, sizeof(uint64_t));
  ps->prev_busy = calloc(slots, sizeof(uint64_t));
  ps->prev_total = calloc(slots, sizeof(uint64_t));
  size_t max_metrics = slots + 5;
  ps->metrics = calloc(max_metrics, sizeof(*ps->metrics));
  ps->cpu_of_metric = calloc(max_metrics, sizeof(size_t));
  ps->values = calloc(max_metrics, sizeof(double));
  if (!ps->busy || !ps->total || !ps->prev_busy || !ps->prev_total ||
      !ps->metrics || !ps->cpu_of_metric || !ps->values) {
    gm__procstat_close(ps);
    return GM_ERR_NO_MEMORY;
  }
  add_metric(ps, "cpu.util", "%", 0);
  size_t online = 0;
  for (size_t s = 1; s < slots; s++) {
    if (tmp_t[s] == 0 && tmp_b[s] == 0)
      continue;
    char name[32];
    gm__fmt(name, sizeof(name), "cpu%zu.util", s - 1);
    add_metric(ps, name, "%", s);
    online++;
  }
  ps->i_mem_used = ps->n_metrics;
  add_metric(ps, "mem.used", "B", SIZE_MAX);
  ps->i_mem_total = ps->n_metrics;
  add_metric(ps, "mem.total", "B", SIZE_MAX);
  ps->i_tree_cpu = ps->i_tree_rss = SIZE_MAX;
  if (track_pid > 0) {
    ps->i_tree_cpu = ps->n_metrics;
    add_metric(ps, "proc.cpu_time", "s", SIZE_MAX);
    ps->i_tree_rss = ps->n_metrics;
    add_metric(ps, "proc.rss", "B", SIZE_MAX);
  }
  for (size_t i = 0; i < ps->n_metrics; i++)
    ps->values[i] = NAN;
  read_meminfo(ps);
  char mem[64];
  if (isnan(ps->mem_total))
    gm__fmt(mem, sizeof(mem), "unknown (no believable MemTotal)");
  else
    gm__fmt(mem, sizeof(mem), "%.1f GiB", ps->mem_total / 1073741824.0);
  gm__fmt(probe->found, sizeof(probe->found),
          "%zu CPUs in '%s'; memory %s in '%s'%s", online, ps->stat_path, mem,
          ps->meminfo_path,
          track_pid > 0 ? "; process tree CPU time and RSS" : "");
  *out = ps;
  return GM_OK;
}

bool gm__procstat_window(const struct gm__procstat *ps, double *busy_s) {
  if (!ps || !ps->window)
    return false;
  *busy_s = ps->busy_s;
  return true;
}

void gm__procstat_close(struct gm__procstat *ps) {
  if (!ps)
    return;
  if (ps->stat_fd >= 0)
    close(ps->stat_fd);
  if (ps->meminfo_fd >= 0)
    close(ps->meminfo_fd);
  free(ps->busy);
  free(ps->total);
  free(ps->prev_busy);
  free(ps->prev_total);
  free(ps->metrics);
  free(ps->cpu_of_metric);
  free(ps->values);
  free(ps->buf);
  gm__proc_tree_free(&ps->tree);
  free(ps);
}

size_t gm__procstat_metric_count(const struct gm__procstat *ps) {
  return ps->n_metrics;
}

const struct gm_metric_info *gm__procstat_metric(const struct gm__procstat *ps,
                                                 size_t i) {
  return i < ps->n_metrics ? &ps->metrics[i] : NULL;
}

/* The utilisation metrics and the machine's utilisation are unknown. */
static void stat_unknown(struct gm__procstat *ps) {
  for (size_t i = 0; i < ps->n_metrics; i++)
    if (ps->cpu_of_metric[i] != SIZE_MAX)
      ps->values[i] = NAN;
  ps->util_frac = NAN;
}

enum gm__util_state gm__procstat_util_state(const struct gm__procstat *ps) {
  return ps ? ps->util_state : GM__UTIL_NONE;
}

struct gm__procstat_faults gm__procstat_faults(const struct gm__procstat *ps) {
  struct gm__procstat_faults none = {0};
  return ps ? ps->faults : none;
}

static double pct(uint64_t b1, uint64_t t1, uint64_t b0, uint64_t t0) {
  if (t1 <= t0)
    return NAN;
  double db = b1 > b0 ? (double)(b1 - b0) : 0.0; /* counters may step back */
  double u = db / (double)(t1 - t0);
  return u > 1.0 ? 100.0 : 100.0 * u;
}

void gm__procstat_sample(struct gm__procstat *ps, int64_t t_ns, double *metrics,
                         double *util_frac, double *mem_used_bytes) {
  bool first = ps->last_stat_ns == 0;
  ps->window = false;
  /* A tick may wake a little early: 10 % slack keeps a 100 ms sampler from
   * refreshing only every other tick. */
  if (first || t_ns - ps->last_stat_ns >= STAT_PERIOD_NS * 9 / 10) {
    ps->last_stat_ns = t_ns;
    if (!read_stat(ps)) {
      /* Unreadable or garbage: this window's utilisation is unknown, not
       * the last one. The previous counters stay, so the next good read
       * spans the gap. */
      ps->faults.bad_reads++;
      ps->util_state = GM__UTIL_BAD;
      stat_unknown(ps);
    } else if (ps->have_prev && ps->total[0] <= ps->prev_total[0]) {
      /* The machine's tick counters did not advance in >= 90 ms: a real
       * kernel always advances them (idle time counts). */
      ps->faults.still_reads++;
      if (++ps->still_reads == GM__PROCSTAT_FROZEN_READS)
        ps->faults.frozen_episodes++;
      ps->faults.frozen = ps->still_reads >= GM__PROCSTAT_FROZEN_READS;
      ps->util_state = ps->faults.frozen ? GM__UTIL_FROZEN : GM__UTIL_STILL;
      stat_unknown(ps);
    } else {
      if (ps->have_prev) {
        for (size_t i = 0; i < ps->n_metrics; i++) {
          size_t s = ps->cpu_of_metric[i];
          if (s == SIZE_MAX)
            continue;
          ps->values[i] = pct(ps->busy[s], ps->total[s], ps->prev_busy[s],
                              ps->prev_total[s]);
        }
        ps->util_frac = ps->values[0] / 100.0;
        ps->util_state = GM__UTIL_OK;
      }
      ps->window = true;
      ps->busy_s = (double)ps->busy[0] / (double)ps->clk_tck;
      ps->still_reads = 0;
      ps->faults.frozen = false;
      memcpy(ps->prev_busy, ps->busy, ps->n_cpu_slots * sizeof(uint64_t));
      memcpy(ps->prev_total, ps->total, ps->n_cpu_slots * sizeof(uint64_t));
      ps->have_prev = true;
    }
  }
  if (ps->last_meminfo_ns == 0 ||
      t_ns - ps->last_meminfo_ns >= MEMINFO_PERIOD_NS * 9 / 10) {
    ps->last_meminfo_ns = t_ns;
    read_meminfo(ps);
  }
  if (ps->track_pid > 0 &&
      (ps->last_tree_ns == 0 ||
       t_ns - ps->last_tree_ns >= TREE_PERIOD_NS * 9 / 10)) {
    ps->last_tree_ns = t_ns;
    read_tree(ps);
  }
  ps->values[ps->i_mem_used] = ps->mem_used;
  ps->values[ps->i_mem_total] = ps->mem_total;
  if (ps->i_tree_cpu != SIZE_MAX) {
    ps->values[ps->i_tree_cpu] = ps->tree_cpu_s;
    ps->values[ps->i_tree_rss] = ps->tree_rss;
  }
  memcpy(metrics, ps->values, ps->n_metrics * sizeof(double));
  *util_frac = ps->util_frac;
  *mem_used_bytes = ps->mem_used;
}

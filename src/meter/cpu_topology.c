/* cpu_topology.c: see cpu_topology.h. */
#define _GNU_SOURCE
#include "meter/cpu_topology.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/util.h"

/* Highest CPU number accepted from sysfs (guards allocations). */
#define MAX_CPU_NUMBER (1 << 20)

static void set_err(char *err, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t size, const char *fmt, ...) {
  if (!err || size == 0)
    return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, size, fmt, ap);
  va_end(ap);
}

/* strerror with a lowercase first letter, as in our messages. */
static const char *errno_text(int e, char *buf, size_t size) {
  gm__strlcpy(buf, strerror(e), size);
  if (buf[0])
    buf[0] = (char)tolower((unsigned char)buf[0]);
  return buf;
}

static char *trim(char *s) {
  while (isspace((unsigned char)*s))
    s++;
  size_t n = strlen(s);
  while (n > 0 && isspace((unsigned char)s[n - 1]))
    s[--n] = '\0';
  return s;
}

/* ---- CPU identification ------------------------------------------------ */

static bool parse_uint(const char *s, unsigned *out) {
  uint64_t v;
  if (!gm__parse_u64(s, &v) || v > UINT_MAX)
    return false;
  *out = (unsigned)v;
  return true;
}

enum gm_status gm__cpu_ident_read(const char *procfs, struct gm__cpu_ident *out,
                                  char *err, size_t err_size) {
  enum gm_status rc = GM_OK;
  char path[512], eb[96];
  char *text = NULL;
  bool have_family = false, have_model = false;
  memset(out, 0, sizeof(*out));
  gm__fmt(path, sizeof(path), "%s/cpuinfo", procfs);
  rc = gm__read_all(path, &text, NULL);
  if (rc != GM_OK) {
    set_err(err, err_size, "cannot read '%s': %s", path,
            errno_text(errno, eb, sizeof(eb)));
    goto done;
  }
  bool in_block = false;
  for (char *line = text, *next; line && *line; line = next) {
    next = strchr(line, '\n');
    if (next)
      *next++ = '\0';
    char *colon = strchr(line, ':');
    if (!colon) {
      if (in_block && trim(line)[0] == '\0')
        break; /* end of the first processor block */
      continue;
    }
    in_block = true;
    *colon = '\0';
    char *key = trim(line), *value = trim(colon + 1);
    if (strcmp(key, "vendor_id") == 0) {
      gm__strlcpy(out->vendor_id, value, sizeof(out->vendor_id));
    } else if (strcmp(key, "cpu family") == 0) {
      have_family = parse_uint(value, &out->family);
    } else if (strcmp(key, "model") == 0) {
      have_model = parse_uint(value, &out->model);
    } else if (strcmp(key, "model name") == 0) {
      gm__strlcpy(out->model_name, value, sizeof(out->model_name));
    }
  }
  if (!out->vendor_id[0] || !have_family || !have_model) {
    set_err(err, err_size,
            "cannot identify the CPU from '%s': vendor_id, cpu family or "
            "model missing",
            path);
    rc = GM_ERR_PARSE;
    goto done;
  }
  if (strcmp(out->vendor_id, "GenuineIntel") == 0)
    out->vendor = GM__CPU_VENDOR_INTEL;
  else if (strcmp(out->vendor_id, "AuthenticAMD") == 0)
    out->vendor = GM__CPU_VENDOR_AMD;
  else if (strcmp(out->vendor_id, "HygonGenuine") == 0)
    out->vendor = GM__CPU_VENDOR_HYGON;
  else
    out->vendor = GM__CPU_VENDOR_UNKNOWN;
done:
  free(text);
  return rc;
}

bool gm__cpu_rapl_per_die(const struct gm__cpu_ident *id) {
  return id && id->vendor == GM__CPU_VENDOR_INTEL;
}

/* ---- Packages ----------------------------------------------------------- */

struct cpu_entry {
  int cpu;
  unsigned package_id, die_id;
};

static int cmp_entry(const void *a, const void *b) {
  const struct cpu_entry *x = a, *y = b;
  if (x->package_id != y->package_id)
    return x->package_id < y->package_id ? -1 : 1;
  if (x->die_id != y->die_id)
    return x->die_id < y->die_id ? -1 : 1;
  return (x->cpu > y->cpu) - (x->cpu < y->cpu);
}

/* True for "cpu<digits>"; *cpu receives the number. */
static bool cpu_dir_name(const char *name, int *cpu) {
  if (strncmp(name, "cpu", 3) != 0 || !isdigit((unsigned char)name[3]))
    return false;
  uint64_t v;
  if (!gm__parse_u64(name + 3, &v) || v > MAX_CPU_NUMBER)
    return false;
  *cpu = (int)v;
  return true;
}

/* Reads a topology id: ENOENT -> *present false. Values such as -1 (no
 * package information) read as 0. */
static enum gm_status read_topology_id(const char *path, unsigned *out,
                                       bool *present, char *err,
                                       size_t err_size) {
  char buf[32];
  *out = 0;
  *present = false;
  enum gm_status rc = gm__read_text(path, buf, sizeof(buf));
  if (rc == GM_ERR_UNAVAILABLE)
    return GM_OK;
  if (rc != GM_OK) {
    char eb[96];
    set_err(err, err_size, "cannot read '%s': %s", path,
            errno_text(errno, eb, sizeof(eb)));
    return rc;
  }
  *present = true;
  if (strcmp(buf, "-1") == 0)
    return GM_OK;
  if (!parse_uint(buf, out)) {
    set_err(err, err_size, "malformed '%s': '%s'", path, buf);
    return GM_ERR_PARSE;
  }
  return GM_OK;
}

static enum gm_status assume_one_package(struct gm__cpu_topology *t) {
  t->packages = calloc(1, sizeof(*t->packages));
  t->cpu_package = malloc(sizeof(*t->cpu_package));
  if (!t->packages || !t->cpu_package)
    return GM_ERR_NO_MEMORY;
  t->packages[0].n_cpus = 1;
  t->n_packages = 1;
  t->cpu_package[0] = 0;
  t->n_cpu_slots = 1;
  t->assumed = true;
  return GM_OK;
}

enum gm_status gm__cpu_topology_read(const char *sysfs, bool per_die,
                                     struct gm__cpu_topology *out, char *err,
                                     size_t err_size) {
  enum gm_status rc = GM_OK;
  char dir_path[512], path[600];
  struct cpu_entry *cpus = NULL;
  size_t n = 0, cap = 0;
  int max_cpu = -1;
  memset(out, 0, sizeof(*out));
  gm__fmt(dir_path, sizeof(dir_path), "%s/devices/system/cpu", sysfs);
  DIR *d = opendir(dir_path);
  if (!d) {
    rc = assume_one_package(out);
    goto done;
  }
  for (struct dirent *de; (de = readdir(d)) != NULL;) {
    int cpu;
    bool present;
    struct cpu_entry e = {0, 0, 0};
    if (!cpu_dir_name(de->d_name, &cpu))
      continue;
    gm__fmt(path, sizeof(path), "%s/%s/topology/physical_package_id", dir_path,
            de->d_name);
    rc = read_topology_id(path, &e.package_id, &present, err, err_size);
    if (rc != GM_OK)
      goto done;
    if (!present)
      continue; /* offline CPU: no topology directory */
    if (per_die) {
      gm__fmt(path, sizeof(path), "%s/%s/topology/die_id", dir_path,
              de->d_name);
      rc = read_topology_id(path, &e.die_id, &present, err, err_size);
      if (rc != GM_OK)
        goto done;
    }
    e.cpu = cpu;
    if (n == cap) {
      size_t ncap = cap ? cap * 2 : 64;
      struct cpu_entry *nc = realloc(cpus, ncap * sizeof(*nc));
      if (!nc) {
        rc = GM_ERR_NO_MEMORY;
        goto done;
      }
      cpus = nc;
      cap = ncap;
    }
    cpus[n++] = e;
    if (cpu > max_cpu)
      max_cpu = cpu;
  }
  if (n == 0) {
    rc = assume_one_package(out);
    goto done;
  }
  qsort(cpus, n, sizeof(*cpus), cmp_entry);
  out->packages = calloc(n, sizeof(*out->packages));
  out->n_cpu_slots = (size_t)max_cpu + 1;
  out->cpu_package = malloc(out->n_cpu_slots * sizeof(*out->cpu_package));
  if (!out->packages || !out->cpu_package) {
    rc = GM_ERR_NO_MEMORY;
    goto done;
  }
  for (size_t i = 0; i < out->n_cpu_slots; i++)
    out->cpu_package[i] = -1;
  for (size_t i = 0; i < n; i++) {
    struct gm__cpu_package *last =
        out->n_packages ? &out->packages[out->n_packages - 1] : NULL;
    if (!last || last->package_id != cpus[i].package_id ||
        last->die_id != cpus[i].die_id) {
      if (last && last->package_id == cpus[i].package_id)
        out->multi_die = true;
      last = &out->packages[out->n_packages++];
      last->package_id = cpus[i].package_id;
      last->die_id = cpus[i].die_id;
      last->lead_cpu = cpus[i].cpu; /* sorted: the lowest number */
    }
    last->n_cpus++;
    out->cpu_package[cpus[i].cpu] = (int)(out->n_packages - 1);
  }
done:
  if (d)
    closedir(d);
  free(cpus);
  return rc;
}

void gm__cpu_topology_release(struct gm__cpu_topology *t) {
  if (!t)
    return;
  free(t->packages);
  free(t->cpu_package);
  memset(t, 0, sizeof(*t));
}

int gm__cpu_topology_package_of(const struct gm__cpu_topology *t, int cpu) {
  if (!t || cpu < 0 || (size_t)cpu >= t->n_cpu_slots)
    return -1;
  return t->cpu_package[cpu];
}

void gm__cpu_topology_label(const struct gm__cpu_topology *t, size_t i,
                            char *buf, size_t size) {
  const struct gm__cpu_package *p = &t->packages[i];
  if (t->multi_die)
    gm__fmt(buf, size, "%u-die-%u", p->package_id, p->die_id);
  else
    gm__fmt(buf, size, "%u", p->package_id);
}

/* ---- CPU lists ---------------------------------------------------------- */

static int cmp_int(const void *a, const void *b) {
  int x = *(const int *)a, y = *(const int *)b;
  return (x > y) - (x < y);
}

static bool parse_cpu_number(const char *s, const char *end, int *out) {
  if (s == end || end - s > 8)
    return false;
  long v = 0;
  for (const char *p = s; p < end; p++) {
    if (!isdigit((unsigned char)*p))
      return false;
    v = v * 10 + (*p - '0');
  }
  if (v > MAX_CPU_NUMBER)
    return false;
  *out = (int)v;
  return true;
}

bool gm__parse_cpu_list(const char *s, int **out, size_t *n) {
  int *cpus = NULL;
  size_t count = 0, cap = 0;
  *out = NULL;
  *n = 0;
  while (isspace((unsigned char)*s))
    s++;
  size_t len = strlen(s);
  while (len > 0 && isspace((unsigned char)s[len - 1]))
    len--;
  const char *end = s + len;
  for (const char *p = s; p < end;) {
    const char *comma = memchr(p, ',', (size_t)(end - p));
    const char *stop = comma ? comma : end;
    const char *dash = memchr(p, '-', (size_t)(stop - p));
    int lo, hi;
    if (!parse_cpu_number(p, dash ? dash : stop, &lo) ||
        !parse_cpu_number(dash ? dash + 1 : p, stop, &hi) || hi < lo)
      goto fail;
    for (int c = lo; c <= hi; c++) {
      if (count == cap) {
        size_t ncap = cap ? cap * 2 : 16;
        int *nc = realloc(cpus, ncap * sizeof(*nc));
        if (!nc)
          goto fail;
        cpus = nc;
        cap = ncap;
      }
      cpus[count++] = c;
    }
    if (!comma)
      break;
    p = comma + 1;
    if (p == end)
      goto fail; /* trailing comma */
  }
  if (count > 1) {
    qsort(cpus, count, sizeof(*cpus), cmp_int);
    size_t w = 1;
    for (size_t r = 1; r < count; r++)
      if (cpus[r] != cpus[w - 1])
        cpus[w++] = cpus[r];
    count = w;
  }
  *out = cpus;
  *n = count;
  return true;
fail:
  free(cpus);
  return false;
}

/* ---- perf "power" PMU --------------------------------------------------- */

static const struct {
  const char *name;
  enum gm_domain domain;
} known_events[] = {
    {"energy-pkg", GM_DOMAIN_PACKAGE}, {"energy-cores", GM_DOMAIN_CORES},
    {"energy-core", GM_DOMAIN_CORES},  {"energy-gpu", GM_DOMAIN_UNCORE},
    {"energy-ram", GM_DOMAIN_DRAM},    {"energy-psys", GM_DOMAIN_PSYS},
};

static void add_note(struct gm__rapl_pmu *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void add_note(struct gm__rapl_pmu *p, const char *fmt, ...) {
  size_t used = strlen(p->notes);
  if (used + 3 >= sizeof(p->notes))
    return;
  if (used) {
    memcpy(p->notes + used, "; ", 3);
    used += 2;
  }
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(p->notes + used, sizeof(p->notes) - used, fmt, ap);
  va_end(ap);
}

/* "event=0x02" (terms separated by commas; only "event" is supported). */
static bool parse_event_config(char *s, uint64_t *config) {
  bool have_event = false;
  for (char *save = NULL, *term = strtok_r(s, ",", &save); term;
       term = strtok_r(NULL, ",", &save)) {
    char *eq = strchr(term, '=');
    if (!eq)
      return false;
    *eq = '\0';
    char *key = trim(term), *value = trim(eq + 1);
    if (strcmp(key, "event") != 0 || !isdigit((unsigned char)value[0]))
      return false;
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(value, &end, 0);
    if (errno || *end != '\0' || v > 0xff)
      return false; /* the power PMU accepts config:0-7 only */
    *config = v;
    have_event = true;
  }
  return have_event;
}

static int cmp_event(const void *a, const void *b) {
  const struct gm__rapl_pmu_event *x = a, *y = b;
  if (x->domain != y->domain)
    return x->domain < y->domain ? -1 : 1;
  return strcmp(x->name, y->name);
}

/* Reads one events/<name> entry with its .scale and .unit into *ev. false
 * (with a note) when the event cannot be used. */
static bool read_event(struct gm__rapl_pmu *p, const char *events_dir,
                       const char *name, enum gm_domain domain,
                       struct gm__rapl_pmu_event *ev) {
  char path[700], buf[128];
  memset(ev, 0, sizeof(*ev));
  gm__strlcpy(ev->name, name, sizeof(ev->name));
  ev->domain = domain;
  gm__fmt(path, sizeof(path), "%s/%s", events_dir, name);
  if (gm__read_text(path, buf, sizeof(buf)) != GM_OK) {
    add_note(p, "%s: unreadable", name);
    return false;
  }
  if (!parse_event_config(buf, &ev->config)) {
    add_note(p, "%s: unsupported encoding", name);
    return false;
  }
  gm__fmt(path, sizeof(path), "%s/%s.scale", events_dir, name);
  enum gm_status rc = gm__read_text(path, buf, sizeof(buf));
  if (rc != GM_OK) {
    add_note(p, "%s: no .scale", name);
    return false;
  }
  if (!gm__parse_double(buf, &ev->scale_j) || !(ev->scale_j > 0)) {
    add_note(p, "%s: malformed .scale '%.32s'", name, buf);
    return false;
  }
  gm__fmt(path, sizeof(path), "%s/%s.unit", events_dir, name);
  rc = gm__read_text(path, buf, sizeof(buf));
  if (rc == GM_ERR_UNAVAILABLE) {
    ev->unit_missing = true;
  } else if (rc != GM_OK) {
    add_note(p, "%s: unreadable .unit", name);
    return false;
  } else if (strcmp(buf, "Joules") != 0) {
    add_note(p, "%s: unit '%.32s' is not Joules", name, buf);
    return false;
  }
  return true;
}

enum gm_status gm__rapl_pmu_read(const char *sysfs, const char *pmu,
                                 struct gm__rapl_pmu *out, char *err,
                                 size_t err_size) {
  enum gm_status rc = GM_OK;
  char base[512], path[600], buf[4096], eb[96];
  DIR *d = NULL;
  memset(out, 0, sizeof(*out));
  gm__strlcpy(out->name, pmu, sizeof(out->name));
  gm__fmt(base, sizeof(base), "%s/bus/event_source/devices/%s", sysfs, pmu);
  struct stat st;
  if (stat(base, &st) != 0 || !S_ISDIR(st.st_mode)) {
    set_err(err, err_size, "no '%s'", base);
    rc = GM_ERR_UNAVAILABLE;
    goto done;
  }

  gm__fmt(path, sizeof(path), "%s/type", base);
  rc = gm__read_text(path, buf, 64);
  if (rc != GM_OK) {
    set_err(err, err_size, "cannot read '%s': %s", path,
            errno_text(errno, eb, sizeof(eb)));
    goto done;
  }
  uint64_t type;
  if (!gm__parse_u64(buf, &type) || type > UINT32_MAX) {
    set_err(err, err_size, "malformed '%s': '%.40s' is not a PMU type", path,
            buf);
    rc = GM_ERR_PARSE;
    goto done;
  }
  out->type = (uint32_t)type;

  gm__fmt(path, sizeof(path), "%s/events", base);
  d = opendir(path);
  if (!d) {
    set_err(err, err_size, "cannot read '%s': %s", path,
            errno_text(errno, eb, sizeof(eb)));
    rc = gm__status_from_errno(errno);
    goto done;
  }
  for (struct dirent *de; (de = readdir(d)) != NULL;) {
    const char *name = de->d_name;
    if (strchr(name, '.') || strncmp(name, "energy-", 7) != 0)
      continue; /* ".", "..", "<event>.scale", "<event>.unit", others */
    size_t k = 0;
    while (k < sizeof(known_events) / sizeof(known_events[0]) &&
           strcmp(known_events[k].name, name) != 0)
      k++;
    if (k == sizeof(known_events) / sizeof(known_events[0])) {
      add_note(out, "%s: unknown event ignored", name);
      continue;
    }
    if (out->n_events == GM__RAPL_PMU_EVENTS_MAX) {
      add_note(out, "%s: too many events", name);
      continue;
    }
    if (read_event(out, path, name, known_events[k].domain,
                   &out->events[out->n_events]))
      out->n_events++;
  }
  qsort(out->events, out->n_events, sizeof(out->events[0]), cmp_event);
  if (out->n_events == 0) {
    set_err(err, err_size, "'%s' lists no usable energy event%s%s", path,
            out->notes[0] ? ": " : "", out->notes);
    rc = GM_ERR_UNAVAILABLE;
    goto done;
  }

  gm__fmt(path, sizeof(path), "%s/cpumask", base);
  rc = gm__read_text(path, buf, sizeof(buf));
  if (rc == GM_ERR_UNAVAILABLE) {
    rc = GM_OK; /* older kernels: the caller picks CPUs from topology */
  } else if (rc != GM_OK) {
    set_err(err, err_size, "cannot read '%s': %s", path,
            errno_text(errno, eb, sizeof(eb)));
    goto done;
  } else if (!gm__parse_cpu_list(buf, &out->cpus, &out->n_cpus)) {
    set_err(err, err_size, "malformed '%s': '%.40s' is not a CPU list", path,
            buf);
    rc = GM_ERR_PARSE;
    goto done;
  }
done:
  if (d)
    closedir(d);
  return rc;
}

void gm__rapl_pmu_release(struct gm__rapl_pmu *p) {
  if (!p)
    return;
  free(p->cpus);
  p->cpus = NULL;
  p->n_cpus = 0;
}

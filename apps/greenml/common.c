/* common.c: pieces shared by the subcommands: flag parsing, database paths,
 * formatting with units and provenance. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "greenml/json.h"
#include "cli.h"

bool gm_cli_parse_duration(const char *s, int64_t *out_ns) {
  if (!s || !*s)
    return false;
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || end == s || !isfinite(v) || v < 0)
    return false;
  double mult;
  if (*end == '\0' || strcmp(end, "s") == 0)
    mult = 1e9;
  else if (strcmp(end, "ms") == 0)
    mult = 1e6;
  else if (strcmp(end, "us") == 0)
    mult = 1e3;
  else if (strcmp(end, "ns") == 0)
    mult = 1.0;
  else if (strcmp(end, "m") == 0 || strcmp(end, "min") == 0)
    mult = 60e9;
  else if (strcmp(end, "h") == 0)
    mult = 3600e9;
  else
    return false;
  double ns = v * mult;
  if (ns > 9e18)
    return false;
  *out_ns = (int64_t)llround(ns);
  return true;
}

void gm_cli_error(const char *cmd, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "greenml %s: ", cmd);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

void gm_cli_meter_opts_init(struct gm_cli_meter_opts *o) {
  memset(o, 0, sizeof(*o));
  o->interval_ns = 100 * INT64_C(1000000);
}

static bool parse_positive(const char *s, double *out) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || end == s || *end || !isfinite(v) || v <= 0)
    return false;
  *out = v;
  return true;
}

int gm_cli_meter_opt(struct gm_cli_meter_opts *o, int opt, const char *arg,
                     const char *cmd) {
  switch (opt) {
  case GM_OPT_INTERVAL:
    if (!gm_cli_parse_duration(arg, &o->interval_ns) ||
        o->interval_ns < INT64_C(1000000) ||
        o->interval_ns > 60 * INT64_C(1000000000)) {
      gm_cli_error(cmd,
                   "--interval '%s' is not a duration between 1ms and 60s "
                   "(examples: 100ms, 1s)",
                   arg);
      return -1;
    }
    return 1;
  case GM_OPT_CPU_TDP:
    if (!parse_positive(arg, &o->cpu_tdp_w) || o->cpu_tdp_w > 2000) {
      gm_cli_error(cmd,
                   "--cpu-tdp '%s' is not a power in watts (0 < W <= "
                   "2000, e.g. --cpu-tdp 65)",
                   arg);
      return -1;
    }
    return 1;
  case GM_OPT_DIMM_C:
    if (!parse_positive(arg, &o->dimm_capacitance_f) ||
        o->dimm_capacitance_f > 1e-6) {
      gm_cli_error(cmd,
                   "--dimm-capacitance '%s' is not a capacitance in "
                   "farads (e.g. 3.1e-9)",
                   arg);
      return -1;
    }
    return 1;
  case GM_OPT_DMIDECODE: {
    /* A saved text file only: a FIFO (`<(dmidecode)`) would block and a
     * device such as /dev/zero never ends. stat does not open it. */
    struct stat st;
    if (stat(arg, &st) != 0 || access(arg, R_OK) != 0) {
      gm_cli_error(cmd,
                   "--dmidecode '%s' cannot be read: %s; save it with: sudo "
                   "dmidecode -t memory > dimms.txt",
                   arg, strerror(errno));
      return -2;
    }
    if (!S_ISREG(st.st_mode)) {
      gm_cli_error(cmd,
                   "--dmidecode '%s' is %s, not a regular file; save the "
                   "output first: sudo dmidecode -t memory > dimms.txt",
                   arg, gm_cli_file_kind(st.st_mode));
      return -1;
    }
    if ((uint64_t)st.st_size > GM_CLI_DMIDECODE_MAX_BYTES) {
      gm_cli_error(cmd,
                   "--dmidecode '%s' is %lld bytes, more than the %llu bytes "
                   "(16 MiB) a `dmidecode -t memory` output can be",
                   arg, (long long)st.st_size,
                   (unsigned long long)GM_CLI_DMIDECODE_MAX_BYTES);
      return -1;
    }
    o->dmidecode_file = arg;
    return 1;
  }
  case GM_OPT_NO_GPU:
    o->no_gpu = true;
    return 1;
  case GM_OPT_GPUS:
    if (!*arg || strlen(arg) >= 256 || strchr(arg, '\'') || strchr(arg, '\n')) {
      gm_cli_error(cmd,
                   "--gpus '%s' is not all, none or a list of GPU indices "
                   "and UUIDs (e.g. 0,2 or GPU-8a1f)",
                   arg);
      return -1;
    }
    o->gpus = arg;
    return 1;
  default:
    return 0;
  }
}

struct gm_meter_config gm_cli_meter_config(const struct gm_cli_meter_opts *o) {
  struct gm_meter_config c = gm_meter_config_default();
  c.interval_ns = o->interval_ns;
  c.cpu_tdp_w = o->cpu_tdp_w;
  c.dimm_capacitance_f = o->dimm_capacitance_f;
  c.dmidecode_file = o->dmidecode_file;
  c.no_gpu = o->no_gpu;
  c.gpus = o->gpus;
  return c;
}

const char *gm_cli_file_kind(mode_t mode) {
  if (S_ISREG(mode))
    return "a regular file";
  if (S_ISDIR(mode))
    return "a directory";
  if (S_ISFIFO(mode))
    return "a FIFO";
  if (S_ISCHR(mode))
    return "a character device";
  if (S_ISBLK(mode))
    return "a block device";
  if (S_ISSOCK(mode))
    return "a socket";
  if (S_ISLNK(mode))
    return "a symbolic link";
  return "a special file";
}

bool gm_cli_mkdirs(const char *dir) {
  char tmp[1024];
  if (strlen(dir) >= sizeof(tmp)) {
    errno = ENAMETOOLONG;
    return false;
  }
  strcpy(tmp, dir);
  for (char *p = tmp + 1; *p; p++) {
    if (*p == '/') {
      *p = '\0';
      if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
        return false;
      *p = '/';
    }
  }
  if (mkdir(tmp, 0755) == 0)
    return true;
  if (errno != EEXIST)
    return false;
  struct stat st;
  if (stat(tmp, &st) != 0)
    return false;
  if (!S_ISDIR(st.st_mode)) {
    errno = ENOTDIR;
    return false;
  }
  return true;
}

bool gm_cli_default_db(char *buf, size_t size) {
  return gm_store_default_location(buf, size);
}

bool gm_cli_db_given(const char *cmd, const char *path) {
  if (path && !*path) {
    char def[1024];
    if (!gm_cli_default_db(def, sizeof(def)))
      snprintf(def, sizeof(def), "the default database");
    gm_cli_error(cmd,
                 "--db '' names no database; pass --db PATH, or leave --db "
                 "out to use '%s'",
                 def);
    return false;
  }
  return true;
}

int gm_cli_open_store(const char *cmd, const char *path,
                      struct gm_store **out) {
  if (!gm_cli_db_given(cmd, path))
    return GM_EXIT_USAGE;
  char dir[1024];
  if (!gm_store_location_file(path, dir, sizeof(dir)))
    dir[0] = '\0'; /* not a file: no directory to make */
  char *slash = strrchr(dir, '/');
  if (slash && slash != dir) {
    *slash = '\0';
    if (!gm_cli_mkdirs(dir)) {
      gm_cli_error(cmd,
                   "cannot create the database directory '%s': %s; pass "
                   "--db PATH or --no-db",
                   dir, strerror(errno));
      return GM_EXIT_CANTCREAT;
    }
  }
  char err[512] = "";
  enum gm_status rc = gm_store_open(path, out, err, sizeof(err));
  if (rc == GM_OK)
    return 0;
  gm_cli_error(cmd, "%s", err);
  if (rc == GM_ERR_SCHEMA_NEWER || rc == GM_ERR_PARSE)
    return GM_EXIT_DATAERR; /* a newer greenml's, or not greenml's */
  if (rc == GM_ERR_UNSUPPORTED)
    return GM_EXIT_USAGE;
  return GM_EXIT_IOERR;
}

int gm_cli_host(const char *cmd, struct gm_store *st, const struct gm_meter *m,
                int64_t *host_id) {
  struct gm_host h;
  gm_host_detect(m, &h);
  if (gm_store_put_host(st, &h, host_id) != GM_OK) {
    gm_cli_error(cmd, "%s", gm_store_last_error(st));
    return GM_EXIT_IOERR;
  }
  return 0;
}

void gm_cli_fmt_energy(char *buf, size_t size, double j) {
  double a = fabs(j);
  if (isnan(j))
    snprintf(buf, size, "n/a");
  else if (a >= 1e9)
    snprintf(buf, size, "%.3f GJ", j / 1e9);
  else if (a >= 1e6)
    snprintf(buf, size, "%.3f MJ", j / 1e6);
  else if (a >= 1e4)
    snprintf(buf, size, "%.3f kJ", j / 1e3);
  else
    snprintf(buf, size, "%.3f J", j);
  /* a value that rounds to zero prints as 0.000, never -0.000 */
  if (buf[0] == '-' && strspn(buf + 1, "0.") == strcspn(buf + 1, " "))
    memmove(buf, buf + 1, strlen(buf));
}

void gm_cli_fmt_provenance(char *buf, size_t size,
                           const struct gm_component_info *ci) {
  snprintf(buf, size, "%s (%s)", gm_provenance_name(ci->provenance),
           gm_provenance_detail(ci->provenance));
}

void gm_cli_print_probes(FILE *f, const struct gm_meter *m) {
  for (size_t i = 0; i < gm_meter_probe_count(m); i++) {
    const struct gm_probe *p = gm_meter_probe(m, i);
    const char *state = p->used              ? "used"
                        : p->status == GM_OK ? "available, not used"
                                             : "unusable";
    fprintf(f, "%-14s %s", p->source, state);
    if (p->status != GM_OK)
      fprintf(f, " (%s)", gm_status_str(p->status));
    fputc('\n', f);
    if (p->found[0])
      fprintf(f, "  found:  %s\n", p->found);
    if (p->reason[0])
      fprintf(f, "  why:    %s\n", p->reason);
    if (p->fix[0])
      fprintf(f, "  fix:    %s\n", p->fix);
  }
}

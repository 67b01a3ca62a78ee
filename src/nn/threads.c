/* threads.c: the thread count of an engine left to choose its own
 * (engine.h, gm_nn_threads_choose): the CPUs this process may run on that
 * other processes do not keep busy.
 *
 * Why: OpenMP runs a layer as a team of threads that meet at a barrier
 * after every parallel region. When another process keeps one of the CPUs
 * busy, the thread that shares it gets that CPU only in the scheduler's
 * turns (milliseconds), and every region waits for it: a step of many
 * short regions then takes an order of magnitude longer than on the free
 * CPUs alone (README, "Threads next to a busy neighbour"). A team no larger
 * than the idle CPUs never waits for a turn, and loses only the share the
 * neighbour takes.
 *
 * What is read, all under the procfs root:
 *   self/status  Cpus_allowed_list: the CPUs this process may run on
 *                (sched_getaffinity when the file has no such line)
 *   stat         procs_running: the tasks of the whole machine runnable at
 *                the moment of the read, the reader included
 *   self/task/TID/stat  the state of each thread of this process: those in
 *                R are this process's own share of procs_running
 * The busy CPUs are procs_running less this process's running threads, the
 * median of several reads a little apart (a neighbour that computes is
 * runnable in every read; a short-lived task in few). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/util.h"
#include "nn/threads.h"

#define MAX_SAMPLES 15
#define MAX_CPUS 65536

/* Counts the CPUs of a list such as "0-3,8,10-11"; -1 when malformed. */
int gm__nn_cpu_list_count(const char *s) {
  long n = 0;
  const char *p = s;
  while (*p == ' ' || *p == '\t')
    p++;
  if (!*p)
    return -1;
  while (*p) {
    char *end;
    errno = 0;
    long a = strtol(p, &end, 10), b;
    if (end == p || errno || a < 0)
      return -1;
    b = a;
    p = end;
    if (*p == '-') {
      b = strtol(p + 1, &end, 10);
      if (end == p + 1 || errno || b < a)
        return -1;
      p = end;
    }
    n += b - a + 1;
    if (n > MAX_CPUS)
      return -1;
    if (*p == ',')
      p++;
    else if (*p && *p != '\n' && *p != ' ')
      return -1;
    else
      break;
  }
  return (int)n;
}

/* The CPUs this process may run on, from Cpus_allowed_list of
 * PROCFS/self/status; 0 when the file or the line is missing or bad. */
static int allowed_cpus(const char *procfs) {
  char path[512], *text = NULL;
  size_t len;
  int n = 0;
  gm__fmt(path, sizeof(path), "%s/self/status", procfs);
  if (gm__read_all(path, &text, &len) != GM_OK)
    return 0;
  const char *line = strstr(text, "Cpus_allowed_list:");
  if (line) {
    n = gm__nn_cpu_list_count(line + strlen("Cpus_allowed_list:"));
    if (n < 0)
      n = 0;
  }
  free(text);
  return n;
}

/* procs_running of PROCFS/stat; -1 when unreadable or absent. */
static long procs_running(const char *procfs) {
  char path[512], *text = NULL;
  size_t len;
  long n = -1;
  gm__fmt(path, sizeof(path), "%s/stat", procfs);
  if (gm__read_all(path, &text, &len) != GM_OK)
    return -1;
  const char *p = text;
  while (p && *p) {
    if (strncmp(p, "procs_running ", 14) == 0) {
      char *end;
      n = strtol(p + 14, &end, 10);
      if (end == p + 14 || n < 0)
        n = -1;
      break;
    }
    p = strchr(p, '\n');
    if (p)
      p++;
  }
  free(text);
  return n;
}

/* Threads of this process in state R (PROCFS/self/task/TID/stat: the state
 * follows the ')' that closes the name); at least 1, the caller. */
static long own_running(const char *procfs) {
  char path[512];
  gm__fmt(path, sizeof(path), "%s/self/task", procfs);
  DIR *d = opendir(path);
  if (!d)
    return 1;
  long n = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9')
      continue;
    char sp[600], buf[512];
    gm__fmt(sp, sizeof(sp), "%s/self/task/%s/stat", procfs, e->d_name);
    if (gm__read_text(sp, buf, sizeof(buf)) != GM_OK)
      continue;
    const char *close = strrchr(buf, ')');
    if (close && close[1] == ' ' && close[2] == 'R')
      n++;
  }
  closedir(d);
  return n > 0 ? n : 1;
}

static int cmp_long(const void *a, const void *b) {
  long x = *(const long *)a, y = *(const long *)b;
  return (x > y) - (x < y);
}

static void sleep_ns(int64_t ns) {
  struct timespec ts = {.tv_sec = (time_t)(ns / GM_NS_PER_S),
                        .tv_nsec = (long)(ns % GM_NS_PER_S)};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
    ;
}

enum gm_status gm__nn_threads_choose(const char *procfs, int samples,
                                     int64_t gap_ns,
                                     struct gm_nn_threads *out) {
  memset(out, 0, sizeof(*out));
  out->chosen = true;
  out->busy = -1;
  int cpus = allowed_cpus(procfs);
  const char *cpus_from = "Cpus_allowed_list";
  if (cpus <= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    cpus = sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : 1;
    if (cpus < 1)
      cpus = 1;
    cpus_from = "sched_getaffinity";
  }
  out->cpus = cpus;
  if (samples < 1)
    samples = 1;
  if (samples > MAX_SAMPLES)
    samples = MAX_SAMPLES;
  long others[MAX_SAMPLES];
  for (int i = 0; i < samples; i++) {
    if (i && gap_ns > 0)
      sleep_ns(gap_ns);
    long all = procs_running(procfs);
    if (all < 0) {
      out->threads = cpus;
      gm__fmt(out->detail, sizeof(out->detail),
              "%d CPUs (%s); busy CPUs unknown: no procs_running in "
              "'%s/stat'",
              cpus, cpus_from, procfs);
      return GM_ERR_UNAVAILABLE;
    }
    long o = all - own_running(procfs);
    others[i] = o > 0 ? o : 0;
  }
  qsort(others, (size_t)samples, sizeof(others[0]), cmp_long);
  long busy = others[samples / 2];
  if (busy > cpus)
    busy = cpus;
  out->busy = (int)busy;
  out->threads = cpus - (int)busy > 0 ? cpus - (int)busy : 1;
  gm__fmt(out->detail, sizeof(out->detail),
          "%d of %d CPUs idle (%d kept busy by other processes)%s",
          cpus - out->busy, cpus, out->busy,
          cpus > out->busy ? "" : "; one thread at least");
  return GM_OK;
}

enum gm_status gm_nn_threads_choose(const char *procfs_root,
                                    struct gm_nn_threads *out) {
  if (!out)
    return GM_ERR_INVALID_ARG;
  return gm__nn_threads_choose(gm__root(procfs_root, "GREENML_PROCFS", "/proc"),
                               GM__NN_THREADS_SAMPLES, GM__NN_THREADS_GAP_NS,
                               out);
}

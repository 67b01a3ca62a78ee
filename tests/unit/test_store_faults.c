/* test_store_faults.c: the store under faults, through the public store API
 * on the SQLite implementation, with real files in a temp dir:
 *
 * - another process holding the write lock (BEGIN EXCLUSIVE) for 6 s while
 *   a meter samples at 10 ms: every sample stored and the run complete,
 *   whether the lock ends during the run or after it;
 * - gm_store_begin_run gives up after the lock wait, saying why;
 * - a full disk (RLIMIT_FSIZE on a child process): the run recorded
 *   incomplete with the cause, the count lost and the time up to which its
 *   samples are stored; what was stored before is all there;
 * - the bounded buffer: beyond GM_STORE_PENDING_MAX_BYTES samples are
 *   dropped, counted, and the run recorded incomplete;
 * - samples the meter dropped (gaps in seq, or counted in the record);
 * - databases greenml refuses (a newer schema whose WAL is not
 *   checkpointed, with its connections open or as copied files; another
 *   program's SQLite database; a file that is not SQLite), for reading and
 *   writing: refused, every file byte for byte as it was, no file added.
 *
 * The processes that hold a lock or fill the disk are this test program
 * run again (main's "--hold" and "--fill" modes), so that no SQLite state
 * crosses a fork. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "greenml/meter.h"
#include "greenml/run.h"
#include "greenml/store.h"
#include "helpers.h"

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
    ;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the helper processes ---------------------------------------------- */

static const char *self_exe = "/proc/self/exe";

/* "--hold PATH MS FD": takes the write lock of PATH, says so on FD, holds
 * it MS milliseconds, commits. */
static int hold_main(const char *path, long ms, int fd) {
  sqlite3 *db = NULL;
  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
    return 2;
  sqlite3_busy_timeout(db, 20000);
  if (sqlite3_exec(db, "BEGIN EXCLUSIVE", NULL, NULL, NULL) != SQLITE_OK)
    return 3;
  char c = 1;
  if (write(fd, &c, 1) != 1)
    return 4;
  close(fd);
  sleep_ms(ms);
  int rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
  sqlite3_close(db);
  return rc == SQLITE_OK ? 0 : 5;
}

/* Starts a process that holds path's write lock for ms; returns when it
 * holds it. */
static pid_t hold_lock(const char *path, long ms) {
  int p[2];
  assert_int_equal(pipe(p), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    close(p[0]);
    char ms_s[32], fd_s[16];
    snprintf(ms_s, sizeof(ms_s), "%ld", ms);
    snprintf(fd_s, sizeof(fd_s), "%d", p[1]);
    execl(self_exe, "test_store_faults", "--hold", path, ms_s, fd_s,
          (char *)NULL);
    _exit(127);
  }
  close(p[1]);
  char c = 0;
  ssize_t r;
  do {
    r = read(p[0], &c, 1);
  } while (r < 0 && errno == EINTR);
  close(p[0]);
  assert_int_equal(r, 1);
  return pid;
}

/* Ends the holder at once: its lock goes with it. */
static void release_lock(pid_t pid) {
  kill(pid, SIGKILL);
  int status = 0;
  assert_int_equal(waitpid(pid, &status, 0), pid);
}

static void reap(pid_t pid) {
  int status = 0;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
}

/* ---- a store and what is in it --------------------------------------- */

static char *fake_machine(void) {
  char *root = gmt_mkdtemp();
  gmt_write(root, "proc/stat", "cpu  1 0 1 8 0 0 0 0 0 0\ncpu0 1 0 1 8\n");
  gmt_write(root, "proc/meminfo", "MemTotal: 8388608 kB\nMemAvailable: 1 kB\n");
  gmt_write(root, "proc/cpuinfo", "processor\t: 0\nmodel name\t: Test CPU\n");
  gmt_mkdirs(root, "sys");
  gmt_mkdirs(root, "dev");
  return root;
}

static sqlite3 *open_file(const char *path) {
  sqlite3 *db = NULL;
  assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL),
                   SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  return db;
}

/* A new database of the test's own. */
static sqlite3 *create_file(const char *path) {
  sqlite3 *db = NULL;
  assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  return db;
}

static double scalar_d(sqlite3 *db, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static double scalar_d(sqlite3 *db, const char *fmt, ...) {
  char sql[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(sql, sizeof(sql), fmt, ap);
  va_end(ap);
  sqlite3_stmt *s = NULL;
  assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(s), SQLITE_ROW);
  double v = sqlite3_column_type(s, 0) == SQLITE_NULL
                 ? NAN
                 : sqlite3_column_double(s, 0);
  sqlite3_finalize(s);
  return v;
}

static char *scalar_text(sqlite3 *db, const char *sql) {
  sqlite3_stmt *s = NULL;
  assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(s), SQLITE_ROW);
  const char *t = (const char *)sqlite3_column_text(s, 0);
  char *v = t ? strdup(t) : NULL;
  sqlite3_finalize(s);
  return v;
}

/* Whether run's stored samples are whole ticks 0..n-1 with no gap: n. */
static long long gap_free_ticks(sqlite3 *db, int64_t run) {
  double n = scalar_d(db,
                      "SELECT count(DISTINCT seq) FROM samples WHERE "
                      "run_id=%" PRId64,
                      run);
  double top =
      scalar_d(db, "SELECT max(seq) FROM samples WHERE run_id=%" PRId64, run);
  if (n == 0)
    return 0;
  assert_double_equal(top + 1, n, 0);
  double rows =
      scalar_d(db, "SELECT count(*) FROM samples WHERE run_id=%" PRId64, run);
  double comps = scalar_d(db,
                          "SELECT count(*) FROM components WHERE "
                          "run_id=%" PRId64,
                          run);
  assert_double_equal(rows, n * comps, 0);
  return (long long)n;
}

static int64_t put_host(struct gm_store *st) {
  struct gm_host h;
  memset(&h, 0, sizeof(h));
  snprintf(h.fingerprint, sizeof(h.fingerprint), "test-host");
  snprintf(h.hostname, sizeof(h.hostname), "box");
  int64_t id = 0;
  assert_int_equal(gm_store_put_host(st, &h, &id), GM_OK);
  return id;
}

/* Two modelled components (cpu, dram), no metrics. */
static void components(struct gm_component_info c[2]) {
  memset(c, 0, 2 * sizeof(*c));
  snprintf(c[0].name, sizeof(c[0].name), "cpu");
  snprintf(c[0].source, sizeof(c[0].source), "cpu-tdp-model");
  c[0].kind = GM_KIND_CPU;
  c[0].provenance = GM_PROV_MODELLED;
  c[0].in_total = true;
  snprintf(c[1].name, sizeof(c[1].name), "dram");
  snprintf(c[1].source, sizeof(c[1].source), "dram-model");
  c[1].kind = GM_KIND_DRAM;
  c[1].domain = GM_DOMAIN_DRAM;
  c[1].provenance = GM_PROV_MODELLED;
  c[1].in_total = true;
}

static int64_t begin_run(struct gm_store *st, int64_t host) {
  struct gm_component_info c[2];
  components(c);
  struct gm_run_meta meta = {.kind = "measure", .interval_s = 0.01};
  int64_t run = 0;
  assert_int_equal(gm_store_begin_run(st, host, &meta, 2, c, 0, NULL, &run),
                   GM_OK);
  return run;
}

/* Sample seq at 10 ms per tick (10 W and 3 W), with n_metrics metrics that
 * are all unavailable (NAN: buffered, never written). */
static enum gm_status add(struct gm_store *st, int64_t run, uint64_t seq,
                          size_t n_metrics, double *metrics) {
  double t = 0.01 * (double)seq;
  double e[2] = {10 * t, 3 * t}, w[2] = {10, 3};
  struct gm_sample s = {.seq = seq,
                        .t_ns = (int64_t)llround(t * 1e9),
                        .n_components = 2,
                        .energy_j = e,
                        .power_w = w,
                        .n_metrics = n_metrics,
                        .metrics = metrics};
  return gm_store_add_sample(st, run, &s);
}

/* A record of the two components over duration_s. */
struct record {
  struct gm_run_record rec;
  struct gm_run_component c[2];
};

static void make_record(struct record *r, double duration_s, uint64_t dropped) {
  memset(r, 0, sizeof(*r));
  struct gm_component_info info[2];
  components(info);
  double watts[2] = {10, 3};
  struct gm_energy_part parts[2];
  for (int i = 0; i < 2; i++) {
    r->c[i].info = info[i];
    r->c[i].stats.energy_j = watts[i] * duration_s;
    r->c[i].stats.avg_power_w = watts[i];
    r->c[i].stats.peak_power_w = watts[i];
    r->c[i].stats.power_energy_j = -1;
    r->c[i].stats.xcheck_rel = -1;
    r->c[i].idle_w = NAN;
    r->c[i].net_energy_j = NAN;
    parts[i] = (struct gm_energy_part){.provenance = info[i].provenance,
                                       .in_total = true,
                                       .gross_j = r->c[i].stats.energy_j,
                                       .idle_w = NAN};
  }
  r->rec.duration_s = duration_s;
  r->rec.n_components = 2;
  r->rec.components = r->c;
  r->rec.dropped_samples = dropped;
  gm_energy_account(parts, 2, duration_s, &r->rec.total);
}

/* ---- a meter writing through the store --------------------------------- */

struct sink {
  struct gm_store *st;
  int64_t run_id;
  uint64_t max_pending; /* the most samples buffered at a flush */
};

static void sink_sample(void *ctx, const struct gm_sample *s) {
  struct sink *k = ctx;
  gm_store_add_sample(k->st, k->run_id, s);
}

static void sink_flush(void *ctx) {
  struct sink *k = ctx;
  gm_store_commit(k->st);
  struct gm_store_sample_tally t;
  assert_int_equal(gm_store_sample_tally(k->st, k->run_id, &t), GM_OK);
  if (t.pending > k->max_pending)
    k->max_pending = t.pending;
}

static struct gm_meter *meter_on(const char *root, struct sink *k) {
  static char bufs[3][512];
  gmt_roots(root, bufs[0], bufs[1], bufs[2], 512);
  struct gm_meter_config c = gm_meter_config_default();
  c.sysfs_root = bufs[0];
  c.procfs_root = bufs[1];
  c.devfs_root = bufs[2];
  c.no_gpu = true;
  c.interval_ns = 10 * 1000000;
  c.on_sample = sink_sample;
  c.on_flush = sink_flush;
  c.callback_ctx = k;
  struct gm_meter *m = NULL;
  assert_int_equal(gm_meter_create(&c, &m), GM_OK);
  return m;
}

/* A meter run of run_ms at 10 ms while another process takes the write lock
 * lock_at_ms after the start and holds it 6 s: nothing is lost. */
static void lock_waited_out(long run_ms, long lock_at_ms) {
  char *root = fake_machine();
  char *path = gmt_path(root, "g.db");
  struct gm_store *st = NULL;
  assert_int_equal(gm_store_open(path, &st, NULL, 0), GM_OK);
  struct sink k = {.st = st};
  struct gm_meter *m = meter_on(root, &k);
  int64_t host = put_host(st);
  struct gm_run_meta meta = {.kind = "measure", .interval_s = 0.01};
  assert_int_equal(
      gm_store_begin_run(st, host, &meta, gm_meter_component_count(m),
                         gm_meter_components(m), gm_meter_metric_count(m),
                         gm_meter_metrics(m), &k.run_id),
      GM_OK);
  assert_int_equal(gm_meter_start(m), GM_OK);
  sleep_ms(lock_at_ms);
  double t_lock = now_s();
  pid_t holder = hold_lock(path, 6000);
  long left = run_ms - lock_at_ms - (long)((now_s() - t_lock) * 1000);
  sleep_ms(left > 0 ? left : 0);
  gm_meter_stop(m);
  struct gm_run_record *rec = NULL;
  assert_int_equal(gm_run_record_from_meter(m, NULL, &rec), GM_OK);
  struct gm_run_result res = {.exit_code = 0, .carbon_g = 0};
  double t0 = now_s();
  assert_int_equal(gm_store_finish_run(st, k.run_id, &res, rec), GM_OK);
  double waited = now_s() - t0;
  if (run_ms < lock_at_ms + 6000) /* the finish waited out the rest */
    assert_true(waited > (lock_at_ms + 6000 - run_ms) / 1000.0 - 1.5);
  struct gm_store_sample_tally t;
  assert_int_equal(gm_store_sample_tally(st, k.run_id, &t), GM_OK);
  assert_int_equal(t.lost, 0);
  assert_int_equal(t.pending, 0);
  assert_int_equal(t.stored, t.added);
  assert_true(t.added >= (uint64_t)run_ms / 10 / 2);
  assert_true(k.max_pending >= 100); /* a second and more waited in memory */
  assert_int_equal(rec->dropped_samples, 0);
  assert_double_equal(t.stored_until_s, rec->duration_s, 1e-6);
  reap(holder);
  gm_run_record_free(rec);
  gm_meter_destroy(m);
  gm_store_close(st);

  sqlite3 *db = open_file(path);
  assert_double_equal(
      scalar_d(db, "SELECT complete FROM runs WHERE id=%" PRId64, k.run_id), 1,
      0);
  assert_true(isnan(scalar_d(db,
                             "SELECT stored_until_s FROM runs WHERE "
                             "id=%" PRId64,
                             k.run_id)));
  assert_int_equal(gap_free_ticks(db, k.run_id), (long long)t.added);
  sqlite3_close(db);
  free(path);
  gmt_rmtree(root);
  free(root);
}

static void lock_during_the_run_loses_nothing(void **state) {
  (void)state;
  lock_waited_out(8000, 500);
}

static void lock_past_the_end_loses_nothing(void **state) {
  (void)state;
  lock_waited_out(2000, 500);
}

/* begin_run does not wait forever: the lock wait, then a clear error. */
static void begin_run_gives_up_after_the_lock_wait(void **state) {
  (void)state;
  char *dir = gmt_mkdtemp();
  char *path = gmt_path(dir, "g.db");
  struct gm_store *st = NULL;
  assert_int_equal(gm_store_open(path, &st, NULL, 0), GM_OK);
  int64_t host = put_host(st);
  assert_int_equal(gm_store_set_lock_wait(st, -1), GM_ERR_INVALID_ARG);
  assert_int_equal(gm_store_set_lock_wait(st, 0.5), GM_OK);
  pid_t holder = hold_lock(path, 3000);
  struct gm_component_info c[2];
  components(c);
  struct gm_run_meta meta = {.kind = "measure", .interval_s = 0.01};
  int64_t run = 0;
  double t0 = now_s();
  assert_int_equal(gm_store_begin_run(st, host, &meta, 2, c, 0, NULL, &run),
                   GM_ERR_DATABASE);
  double waited = now_s() - t0;
  assert_true(waited >= 0.4 && waited < 2.5);
  const char *err = gm_store_last_error(st);
  assert_non_null(strstr(err, "locked by another process (waited 0.5 s)"));
  assert_non_null(strstr(err, "g.db"));
  /* a store that can be read meanwhile: the reads do not wait */
  struct gm_store_run_list *l = NULL;
  assert_int_equal(gm_store_list_runs(st, NULL, &l), GM_OK);
  assert_int_equal(l->n, 0);
  gm_store_run_list_free(l);
  reap(holder);
  assert_int_equal(gm_store_begin_run(st, host, &meta, 2, c, 0, NULL, &run),
                   GM_OK);
  gm_store_close(st);
  free(path);
  gmt_rmtree(dir);
  free(dir);
}

/* ---- a full disk ------------------------------------------------------- */

#define FILL_FIRST 500   /* samples stored before the disk is full */
#define FILL_LATER 20000 /* samples that no longer fit */
#define FILL_ROOM 98304  /* bytes a file may grow beyond the database */

/* "--fill PATH": in a process whose files may not grow past the database's
 * size plus FILL_ROOM (RLIMIT_FSIZE; SIGXFSZ ignored, so a write fails with
 * EFBIG as on a full disk), a run stores FILL_FIRST samples, then FILL_LATER
 * that no longer fit, then finishes. Exits 0 when the store said so at
 * each step; 10+ the step that went otherwise. */
static int fill_main(const char *path) {
  struct gm_store *st = NULL;
  if (gm_store_open(path, &st, NULL, 0) != GM_OK)
    return 10;
  int64_t host = 0;
  struct gm_host h;
  memset(&h, 0, sizeof(h));
  snprintf(h.fingerprint, sizeof(h.fingerprint), "test-host");
  struct gm_component_info c[2];
  components(c);
  struct gm_run_meta meta = {.kind = "measure", .interval_s = 0.01};
  int64_t run = 0;
  if (gm_store_put_host(st, &h, &host) != GM_OK ||
      gm_store_begin_run(st, host, &meta, 2, c, 0, NULL, &run) != GM_OK)
    return 11;
  struct stat sb;
  if (stat(path, &sb) != 0)
    return 12;
  signal(SIGXFSZ, SIG_IGN);
  struct rlimit rl = {(rlim_t)sb.st_size + FILL_ROOM,
                      (rlim_t)sb.st_size + FILL_ROOM};
  if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
    return 13;
  uint64_t seq = 0;
  for (; seq < FILL_FIRST; seq++)
    if (add(st, run, seq, 0, NULL) != GM_OK)
      return 14;
  if (gm_store_commit(st) != GM_OK)
    return 15;
  for (; seq < FILL_FIRST + FILL_LATER; seq++)
    if (add(st, run, seq, 0, NULL) != GM_OK)
      return 16;
  if (gm_store_commit(st) != GM_ERR_DATABASE) /* kept for a retry */
    return 17;
  if (!strstr(gm_store_last_error(st), "a write to the file failed"))
    return 18;
  struct gm_store_sample_tally t;
  gm_store_sample_tally(st, run, &t);
  if (t.pending != FILL_LATER || t.lost != 0)
    return 19;
  struct record r;
  make_record(&r, 0.01 * (double)(seq - 1), 0);
  struct gm_run_result res = {.exit_code = 0};
  if (gm_store_finish_run(st, run, &res, &r.rec) != GM_ERR_DATABASE)
    return 20;
  const char *err = gm_store_last_error(st);
  if (!strstr(err, "is recorded incomplete") ||
      !strstr(err, "20000 of 20500 samples could not be stored") ||
      !strstr(err, "every sample up to 4.990 s is stored"))
    return 21;
  gm_store_sample_tally(st, run, &t);
  if (t.stored != FILL_FIRST || t.lost != FILL_LATER || t.pending != 0 ||
      fabs(t.stored_until_s - 4.99) > 1e-9 ||
      !strstr(t.cause, "a write to the file failed"))
    return 22;
  gm_store_close(st);
  return 0;
}

static void full_disk_marks_the_run_incomplete(void **state) {
  (void)state;
  char *dir = gmt_mkdtemp();
  char *path = gmt_path(dir, "g.db");
  /* a complete run before the disk fills */
  struct gm_store *st = NULL;
  assert_int_equal(gm_store_open(path, &st, NULL, 0), GM_OK);
  int64_t host = put_host(st);
  int64_t first = begin_run(st, host);
  for (uint64_t seq = 0; seq < 300; seq++)
    assert_int_equal(add(st, first, seq, 0, NULL), GM_OK);
  struct record r;
  make_record(&r, 2.99, 0);
  struct gm_run_result res = {.exit_code = 0};
  assert_int_equal(gm_store_finish_run(st, first, &res, &r.rec), GM_OK);
  gm_store_close(st);

  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    execl(self_exe, "test_store_faults", "--fill", path, (char *)NULL);
    _exit(127);
  }
  int status = 0;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);

  sqlite3 *db = open_file(path);
  assert_double_equal(scalar_d(db, "SELECT count(*) FROM runs"), 2, 0);
  int64_t run = first + 1;
  assert_double_equal(
      scalar_d(db, "SELECT complete FROM runs WHERE id=%" PRId64, run), 0, 0);
  assert_double_equal(
      scalar_d(db, "SELECT lost_samples FROM runs WHERE id=%" PRId64, run),
      FILL_LATER, 0);
  assert_double_equal(
      scalar_d(db, "SELECT stored_until_s FROM runs WHERE id=%" PRId64, run),
      4.99, 1e-9);
  char sql[128];
  snprintf(sql, sizeof(sql), "SELECT incomplete_cause FROM runs WHERE id=%lld",
           (long long)run);
  char *cause = scalar_text(db, sql);
  assert_non_null(cause);
  assert_non_null(strstr(cause, "cannot store samples"));
  assert_non_null(strstr(cause, "a write to the file failed"));
  free(cause);
  assert_int_equal(gap_free_ticks(db, run), FILL_FIRST);
  assert_double_equal(
      scalar_d(db, "SELECT max(t_s) FROM samples WHERE run_id=%" PRId64, run),
      4.99, 1e-9);
  /* nothing stored before is lost */
  assert_double_equal(
      scalar_d(db, "SELECT complete FROM runs WHERE id=%" PRId64, first), 1, 0);
  assert_int_equal(gap_free_ticks(db, first), 300);
  sqlite3_close(db);

  /* greenml runs shows it (gm_store_list_runs) */
  assert_int_equal(gm_store_open_readonly(path, &st, NULL, 0), GM_OK);
  struct gm_store_run_list *l = NULL;
  assert_int_equal(gm_store_list_runs(st, NULL, &l), GM_OK);
  assert_int_equal(l->n, 2);
  assert_int_equal(l->runs[0].id, run);
  assert_false(l->runs[0].complete);
  assert_non_null(strstr(l->runs[0].incomplete_cause, "cannot store samples"));
  assert_int_equal(l->runs[0].lost_samples, FILL_LATER);
  assert_double_equal(l->runs[0].stored_until_s, 4.99, 1e-9);
  assert_true(l->runs[1].complete);
  assert_null(l->runs[1].incomplete_cause);
  assert_int_equal(l->runs[1].lost_samples, 0);
  gm_store_run_list_free(l);
  gm_store_close(st);
  free(path);
  gmt_rmtree(dir);
  free(dir);
}

/* ---- the bounded buffer, and the meter's gaps ---------------------------- */

static void the_buffer_is_bounded(void **state) {
  (void)state;
  char *dir = gmt_mkdtemp();
  char *path = gmt_path(dir, "g.db");
  struct gm_store *st = NULL;
  assert_int_equal(gm_store_open(path, &st, NULL, 0), GM_OK);
  int64_t run = begin_run(st, put_host(st));
  pid_t holder = hold_lock(path, 600000); /* until release_lock */
  /* 32 KiB a sample: 2048 fill the buffer */
  enum { N_METRICS = 4096 };
  double *metrics = malloc(N_METRICS * sizeof(double));
  assert_non_null(metrics);
  for (size_t k = 0; k < N_METRICS; k++)
    metrics[k] = NAN;
  uint64_t seq = 0, accepted = 0;
  enum gm_status rc;
  while ((rc = add(st, run, seq, N_METRICS, metrics)) == GM_OK) {
    accepted++;
    seq++;
    if (seq % 512 == 0) /* locked: kept, not an error */
      assert_int_equal(gm_store_commit(st), GM_OK);
    assert_true(seq < 10000);
  }
  assert_int_equal(rc, GM_ERR_DATABASE);
  assert_non_null(strstr(gm_store_last_error(st), "64 MiB"));
  assert_true(accepted > 1500 && accepted < 2048);
  for (int i = 0; i < 9; i++) /* still full */
    assert_int_equal(add(st, run, ++seq, N_METRICS, metrics), GM_ERR_DATABASE);
  struct gm_store_sample_tally t;
  assert_int_equal(gm_store_sample_tally(st, run, &t), GM_OK);
  assert_int_equal(t.added, accepted + 10);
  assert_int_equal(t.pending, accepted);
  assert_int_equal(t.lost, 10);
  assert_non_null(strstr(t.cause, "locked by another process"));
  release_lock(holder);
  struct record r;
  make_record(&r, 0.01 * (double)seq, 0);
  struct gm_run_result res = {.exit_code = 0};
  assert_int_equal(gm_store_finish_run(st, run, &res, &r.rec), GM_ERR_DATABASE);
  char want[128];
  snprintf(want, sizeof(want), "10 of %" PRIu64 " samples could not be stored",
           accepted + 10);
  assert_non_null(strstr(gm_store_last_error(st), want));
  assert_int_equal(gm_store_sample_tally(st, run, &t), GM_OK);
  assert_int_equal(t.stored, accepted);
  assert_double_equal(t.stored_until_s, 0.01 * (double)(accepted - 1), 1e-9);
  gm_store_close(st);
  free(metrics);
  sqlite3 *db = open_file(path);
  assert_double_equal(
      scalar_d(db, "SELECT complete FROM runs WHERE id=%" PRId64, run), 0, 0);
  assert_double_equal(
      scalar_d(db, "SELECT lost_samples FROM runs WHERE id=%" PRId64, run), 10,
      0);
  assert_int_equal(gap_free_ticks(db, run), (long long)accepted);
  sqlite3_close(db);
  free(path);
  gmt_rmtree(dir);
  free(dir);
}

static void samples_the_meter_dropped(void **state) {
  (void)state;
  char *dir = gmt_mkdtemp();
  char *path = gmt_path(dir, "g.db");
  struct gm_store *st = NULL;
  assert_int_equal(gm_store_open(path, &st, NULL, 0), GM_OK);
  int64_t host = put_host(st);
  /* a gap in seq: 10..14 never arrived; 2 more went missing at the end */
  int64_t run = begin_run(st, host);
  for (uint64_t seq = 0; seq < 20; seq++)
    if (seq < 10 || seq >= 15)
      assert_int_equal(add(st, run, seq, 0, NULL), GM_OK);
  assert_int_equal(gm_store_commit(st), GM_OK);
  struct record r;
  make_record(&r, 0.21, 7);
  struct gm_run_result res = {.exit_code = 0};
  assert_int_equal(gm_store_finish_run(st, run, &res, &r.rec), GM_ERR_DATABASE);
  assert_non_null(
      strstr(gm_store_last_error(st), "7 of 22 samples could not be stored"));
  struct gm_store_sample_tally t;
  assert_int_equal(gm_store_sample_tally(st, run, &t), GM_OK);
  assert_int_equal(t.stored, 15);
  assert_int_equal(t.lost, 7);
  assert_double_equal(t.stored_until_s, 0.09, 1e-9);
  assert_non_null(strstr(t.cause, "never reached the store"));
  /* a run whose samples all arrived is complete */
  int64_t run2 = begin_run(st, host);
  for (uint64_t seq = 0; seq < 5; seq++)
    assert_int_equal(add(st, run2, seq, 0, NULL), GM_OK);
  make_record(&r, 0.04, 0);
  assert_int_equal(gm_store_finish_run(st, run2, &res, &r.rec), GM_OK);
  gm_store_close(st);
  sqlite3 *db = open_file(path);
  assert_double_equal(
      scalar_d(db,
               "SELECT complete*1000 + lost_samples FROM runs WHERE "
               "id=%" PRId64,
               run),
      7, 0);
  assert_double_equal(
      scalar_d(db, "SELECT stored_until_s FROM runs WHERE id=%" PRId64, run),
      0.09, 1e-9);
  assert_double_equal(
      scalar_d(db,
               "SELECT complete*1000 + lost_samples FROM runs WHERE "
               "id=%" PRId64,
               run2),
      1000, 0);
  sqlite3_close(db);
  free(path);
  gmt_rmtree(dir);
  free(dir);
}

/* ---- databases greenml refuses ------------------------------------------ */

/* Every file of dir (names and bytes), for comparing. */
static char *dir_snapshot(const char *dir, size_t *len) {
  struct dirent **names = NULL;
  int n = scandir(dir, &names, NULL, alphasort);
  assert_true(n >= 0);
  char *buf = NULL;
  size_t size = 0;
  FILE *out = open_memstream(&buf, &size);
  assert_non_null(out);
  for (int i = 0; i < n; i++) {
    const char *nm = names[i]->d_name;
    if (strcmp(nm, ".") != 0 && strcmp(nm, "..") != 0) {
      char *p = gmt_path(dir, nm);
      FILE *f = fopen(p, "rb");
      assert_non_null(f);
      fprintf(out, "== %s\n", nm);
      int c;
      while ((c = fgetc(f)) != EOF)
        fputc(c, out);
      fclose(f);
      free(p);
    }
    free(names[i]);
  }
  free(names);
  fclose(out);
  *len = size;
  return buf;
}

/* Opening path for writing and for reading gives want (message containing
 * what), and leaves every file of dir as it was. */
static void refused_untouched(const char *dir, const char *path,
                              enum gm_status want, const char *what) {
  size_t n0, n1;
  char *before = dir_snapshot(dir, &n0);
  struct gm_store *st = NULL;
  char err[512] = "";
  assert_int_equal(gm_store_open(path, &st, err, sizeof(err)), want);
  assert_null(st);
  assert_non_null(strstr(err, what));
  assert_non_null(strstr(err, "left untouched"));
  err[0] = '\0';
  assert_int_equal(gm_store_open_readonly(path, &st, err, sizeof(err)), want);
  assert_null(st);
  assert_non_null(strstr(err, what));
  char *after = dir_snapshot(dir, &n1);
  assert_int_equal(n0, n1);
  assert_memory_equal(before, after, n0);
  free(before);
  free(after);
}

static void copy_file(const char *from, const char *to) {
  FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
  assert_non_null(a);
  assert_non_null(b);
  char buf[8192];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), a)) > 0)
    assert_int_equal(fwrite(buf, 1, n, b), n);
  fclose(a);
  assert_int_equal(fclose(b), 0);
}

static bool exists(const char *path) { return access(path, F_OK) == 0; }

/* A newer schema whose change is in the WAL alone: its version is read
 * there, with the connections that wrote it still open (-wal and -shm in
 * use) and as copied files (-wal without -shm). */
static void newer_schema_in_the_wal_is_untouched(void **state) {
  (void)state;
  char *dir = gmt_mkdtemp();
  char *path = gmt_path(dir, "new.db");
  struct gm_store *st = NULL;
  assert_int_equal(gm_store_open(path, &st, NULL, 0), GM_OK);
  put_host(st);
  gm_store_close(st);
  sqlite3 *w = open_file(path), *r = open_file(path);
  assert_int_equal(sqlite3_exec(w,
                                "PRAGMA wal_autocheckpoint=0;"
                                "PRAGMA user_version=99;"
                                "CREATE TABLE future(x);"
                                "INSERT INTO future VALUES (1);",
                                NULL, NULL, NULL),
                   SQLITE_OK);
  assert_int_equal(
      sqlite3_exec(r, "SELECT count(*) FROM future", NULL, NULL, NULL),
      SQLITE_OK);
  char *wal = gmt_path(dir, "new.db-wal"), *shm = gmt_path(dir, "new.db-shm");
  assert_true(exists(wal));
  assert_true(exists(shm));
  /* the database file itself still says 3 */
  FILE *f = fopen(path, "rb");
  unsigned char hdr[100];
  assert_int_equal(fread(hdr, 1, sizeof(hdr), f), sizeof(hdr));
  fclose(f);
  assert_int_equal(hdr[63], GM_STORE_SCHEMA_VERSION);
  refused_untouched(dir, path, GM_ERR_SCHEMA_NEWER, "schema version 99");

  char *copies = gmt_path(dir, "copies");
  gmt_mkdirs(dir, "copies");
  char *cpath = gmt_path(copies, "new.db"),
       *cwal = gmt_path(copies, "new.db-wal");
  copy_file(path, cpath);
  copy_file(wal, cwal);
  sqlite3_close(r);
  sqlite3_close(w);
  refused_untouched(copies, cpath, GM_ERR_SCHEMA_NEWER, "schema version 99");
  char *cshm = gmt_path(copies, "new.db-shm");
  assert_false(exists(cshm));
  free(cshm);
  free(cpath);
  free(cwal);
  free(copies);
  free(wal);
  free(shm);
  free(path);
  gmt_rmtree(dir);
  free(dir);
}

static void foreign_databases_are_untouched(void **state) {
  (void)state;
  char *dir = gmt_mkdtemp();
  /* another program's, in rollback-journal mode */
  char *path = gmt_path(dir, "shop.db");
  sqlite3 *db = create_file(path);
  assert_int_equal(sqlite3_exec(db,
                                "CREATE TABLE customers(id INTEGER PRIMARY "
                                "KEY, name TEXT);"
                                "INSERT INTO customers(name) VALUES ('a');",
                                NULL, NULL, NULL),
                   SQLITE_OK);
  sqlite3_close(db);
  refused_untouched(dir, path, GM_ERR_PARSE,
                    "another program's SQLite database (tables: customers)");
  char *journal = gmt_path(dir, "shop.db-journal");
  assert_false(exists(journal));
  free(journal);
  free(path);

  /* another program's, in WAL mode, with a user_version greenml knows and
   * its change not checkpointed */
  path = gmt_path(dir, "wal.db");
  db = create_file(path);
  sqlite3 *r = open_file(path);
  assert_int_equal(sqlite3_exec(db,
                                "PRAGMA journal_mode=WAL;"
                                "CREATE TABLE orders(x); CREATE TABLE runs(y);"
                                "PRAGMA wal_autocheckpoint=0;"
                                "PRAGMA user_version=2;"
                                "INSERT INTO orders VALUES (1);",
                                NULL, NULL, NULL),
                   SQLITE_OK);
  assert_int_equal(
      sqlite3_exec(r, "SELECT count(*) FROM orders", NULL, NULL, NULL),
      SQLITE_OK);
  refused_untouched(dir, path, GM_ERR_PARSE, "its tables only in its -wal");
  sqlite3_close(r);
  sqlite3_close(db);
  free(path);

  /* another program's application_id */
  path = gmt_path(dir, "app.db");
  db = create_file(path);
  assert_int_equal(sqlite3_exec(db,
                                "CREATE TABLE hosts(x);"
                                "PRAGMA application_id=1234;",
                                NULL, NULL, NULL),
                   SQLITE_OK);
  sqlite3_close(db);
  refused_untouched(dir, path, GM_ERR_PARSE, "application_id 0x000004d2");
  free(path);

  /* not SQLite */
  gmt_write(dir, "notes.db", "%s", "these are notes, not a database\n");
  path = gmt_path(dir, "notes.db");
  refused_untouched(dir, path, GM_ERR_PARSE, "not an SQLite database");
  free(path);

  /* an empty file is a new database */
  gmt_write(dir, "empty.db", "%s", "");
  path = gmt_path(dir, "empty.db");
  struct gm_store *st = NULL;
  assert_int_equal(gm_store_open(path, &st, NULL, 0), GM_OK);
  assert_int_equal(gm_store_schema_version(st), GM_STORE_SCHEMA_VERSION);
  gm_store_close(st);
  free(path);
  gmt_rmtree(dir);
  free(dir);
}

int main(int argc, char **argv) {
  if (argc == 5 && strcmp(argv[1], "--hold") == 0)
    return hold_main(argv[2], atol(argv[3]), atoi(argv[4]));
  if (argc == 3 && strcmp(argv[1], "--fill") == 0)
    return fill_main(argv[2]);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(lock_during_the_run_loses_nothing),
      cmocka_unit_test(lock_past_the_end_loses_nothing),
      cmocka_unit_test(begin_run_gives_up_after_the_lock_wait),
      cmocka_unit_test(full_disk_marks_the_run_incomplete),
      cmocka_unit_test(the_buffer_is_bounded),
      cmocka_unit_test(samples_the_meter_dropped),
      cmocka_unit_test(newer_schema_in_the_wal_is_untouched),
      cmocka_unit_test(foreign_databases_are_untouched),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

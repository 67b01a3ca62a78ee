/* test_mark_listener.c: the marker listener (mark.h) end to end: a real
 * FIFO, the real reader thread, a meter on a fake machine whose DRAM model
 * draws a constant 6 W, and a writer thread that marks phases with
 * gm_phase_begin/gm_phase_end through GREENML_MARK, as a measured program
 * does, plus lines that are not markers, and markers whose timestamps come
 * out of order, before the run or from the future. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/util.h"
#include "greenml/mark.h"
#include "greenml/meter.h"
#include "helpers.h"

/* 16 GiB and no DIMM data: 0.375 W/GiB x 16 GiB = 6 W. */
#define DRAM_W 6.0

struct fixture {
  char *root;
  char sys[512], proc[512], dev[512];
  struct gm_meter *m;
  struct gm_mark_listener *l;
};

static int setup(void **state) {
  struct fixture *f = calloc(1, sizeof(*f));
  assert_non_null(f);
  f->root = gmt_mkdtemp();
  gmt_write(f->root, "proc/stat",
            "cpu  100 0 100 800 0 0 0 0 0 0\n"
            "cpu0 100 0 100 800 0 0 0 0 0 0\nintr 1 2 3\n");
  gmt_write(f->root, "proc/meminfo",
            "MemTotal:       16777216 kB\nMemAvailable:    8388608 kB\n");
  gmt_write(f->root, "proc/cpuinfo",
            "processor\t: 0\nmodel name\t: Test CPU\n");
  gmt_mkdirs(f->root, "sys");
  gmt_mkdirs(f->root, "dev");
  gmt_roots(f->root, f->sys, f->proc, f->dev, sizeof(f->sys));
  struct gm_meter_config c = gm_meter_config_default();
  c.sysfs_root = f->sys;
  c.procfs_root = f->proc;
  c.devfs_root = f->dev;
  c.no_gpu = true;
  c.interval_ns = 5 * 1000000;
  assert_int_equal(gm_meter_create(&c, &f->m), GM_OK);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  struct fixture *f = *state;
  unsetenv(GM_MARK_ENV);
  gm_mark_listener_close(f->l);
  gm_meter_destroy(f->m);
  gmt_rmtree(f->root);
  free(f->root);
  free(f);
  return 0;
}

static size_t component(struct gm_meter *m, const char *name) {
  for (size_t i = 0; i < gm_meter_component_count(m); i++)
    if (strcmp(gm_meter_component(m, i)->name, name) == 0)
      return i;
  fail_msg("no component '%s'", name);
  return 0;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
  nanosleep(&ts, NULL);
}

/* Writes raw bytes to the channel, as a careless program might. */
static bool write_raw(const char *path, const char *bytes, size_t len) {
  int fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    return false;
  bool ok = write(fd, bytes, len) == (ssize_t)len;
  close(fd);
  return ok;
}

/* The measured program: two phases, then an end, with junk in between.
 * It records the time span of each marker call (no assertions off the
 * main thread). */
struct program {
  const char *path;
  int64_t before[3], after[3];
  enum gm_status rc[3];
  bool raw_ok;
};

static void *program_main(void *arg) {
  struct program *p = arg;
  char junk[6000];
  memset(junk, 'x', sizeof(junk));
  junk[sizeof(junk) - 1] = '\n';
  p->before[0] = gm__now_ns();
  p->rc[0] = gm_phase_begin("load data");
  p->after[0] = gm__now_ns();
  sleep_ms(30);
  p->raw_ok = write_raw(p->path, "X 12 nonsense\n", 14) &&
              write_raw(p->path, "B 5\n", 4) &&
              write_raw(p->path, junk, sizeof(junk)) &&
              write_raw(p->path, "E 0\n", 4);
  p->before[1] = gm__now_ns();
  p->rc[1] = gm_phase_begin("train");
  p->after[1] = gm__now_ns();
  sleep_ms(30);
  p->before[2] = gm__now_ns();
  p->rc[2] = gm_phase_end();
  p->after[2] = gm__now_ns();
  return NULL;
}

static void phases_from_a_writer_thread(void **state) {
  struct fixture *f = *state;
  char err[256] = "x";
  assert_int_equal(gm_mark_listener_open(f->root, &f->l, err, sizeof(err)),
                   GM_OK);
  assert_string_equal(err, "");
  const char *path = gm_mark_listener_path(f->l);
  assert_true(strncmp(path, f->root, strlen(f->root)) == 0);
  struct stat sb;
  assert_int_equal(stat(path, &sb), 0);
  assert_true(S_ISFIFO(sb.st_mode));
  assert_int_equal(sb.st_mode & 0777, 0600);
  char dir[600];
  snprintf(dir, sizeof(dir), "%s", path);
  *strrchr(dir, '/') = '\0';
  assert_int_equal(stat(dir, &sb), 0);
  assert_int_equal(sb.st_mode & 0777, 0700);

  assert_int_equal(gm_meter_start(f->m), GM_OK);
  assert_int_equal(gm_mark_listener_start(f->l, f->m), GM_OK);
  assert_int_equal(gm_mark_listener_start(f->l, f->m), GM_ERR_STATE);
  assert_true(gm_mark_listener_last_error(f->l)[0] != '\0');
  gmt_setenv(GM_MARK_ENV, path);
  struct program p = {.path = path};
  pthread_t t;
  assert_int_equal(pthread_create(&t, NULL, program_main, &p), 0);
  assert_int_equal(pthread_join(t, NULL), 0);
  sleep_ms(20); /* the meter keeps sampling after the program's end */
  assert_int_equal(gm_mark_listener_stop(f->l), GM_OK);
  assert_int_equal(gm_mark_listener_stop(f->l), GM_OK); /* idempotent */
  assert_int_equal(gm_meter_stop(f->m), GM_OK);

  for (int i = 0; i < 3; i++)
    assert_int_equal(p.rc[i], GM_OK);
  assert_true(p.raw_ok);
  /* "X 12 nonsense", "B 5", the 6000-byte line and "E 0" */
  assert_int_equal(gm_mark_listener_bad_lines(f->l), 4);
  assert_int_equal(gm_meter_phase_count(f->m), 2);
  const struct gm_phase *load = gm_meter_phase(f->m, 0);
  const struct gm_phase *train = gm_meter_phase(f->m, 1);
  assert_string_equal(load->name, "load data");
  assert_string_equal(train->name, "train");
  assert_false(load->open);
  assert_false(train->open); /* ended by the marker, not by stop */
  /* Boundaries are the markers' own timestamps: the load phase spans from
   * its begin call to the train begin call. */
  double lo = (double)(p.before[1] - p.after[0]) / 1e9;
  double hi = (double)(p.after[1] - p.before[0]) / 1e9;
  assert_true(load->duration_s >= lo && load->duration_s <= hi);
  assert_true(load->duration_s >= 0.030);
  lo = (double)(p.before[2] - p.after[1]) / 1e9;
  hi = (double)(p.after[2] - p.before[1]) / 1e9;
  assert_true(train->duration_s >= lo && train->duration_s <= hi);
  assert_double_equal(load->start_s + load->duration_s, train->start_s, 1e-9);
  assert_true(train->start_s + train->duration_s < gm_meter_duration_s(f->m));
  size_t d = component(f->m, "dram");
  assert_double_equal(load->energy_j[d], DRAM_W * load->duration_s, 1e-9);
  assert_double_equal(train->energy_j[d], DRAM_W * train->duration_s, 1e-9);

  gm_mark_listener_close(f->l);
  f->l = NULL;
  assert_int_equal(stat(path, &sb), -1); /* path is gone with the listener */
  assert_int_equal(stat(dir, &sb), -1);
  assert_int_equal(errno, ENOENT);
}

/* Markers written just before the stop, and before the reader started,
 * are all applied: the stop drains the FIFO first. */
static void stop_drains_what_was_written(void **state) {
  struct fixture *f = *state;
  assert_int_equal(gm_mark_listener_open(f->root, &f->l, NULL, 0), GM_OK);
  const char *path = gm_mark_listener_path(f->l);
  gmt_setenv(GM_MARK_ENV, path);
  assert_int_equal(gm_meter_start(f->m), GM_OK);
  /* before the reader runs: the line waits in the pipe */
  assert_int_equal(gm_phase_begin("first"), GM_OK);
  sleep_ms(10);
  assert_int_equal(gm_mark_listener_start(f->l, f->m), GM_OK);
  sleep_ms(10);
  assert_int_equal(gm_phase_begin("last"), GM_OK);
  sleep_ms(10);
  assert_int_equal(gm_phase_end(), GM_OK);
  /* a line cut short: never completed, counted at stop */
  assert_true(write_raw(path, "B 77 half", 9));
  assert_int_equal(gm_mark_listener_stop(f->l), GM_OK);
  assert_int_equal(gm_meter_stop(f->m), GM_OK);
  assert_int_equal(gm_meter_phase_count(f->m), 2);
  assert_string_equal(gm_meter_phase(f->m, 0)->name, "first");
  assert_string_equal(gm_meter_phase(f->m, 1)->name, "last");
  assert_false(gm_meter_phase(f->m, 1)->open);
  assert_int_equal(gm_mark_listener_bad_lines(f->l), 1);
  /* stopped for good */
  assert_int_equal(gm_mark_listener_stop(f->l), GM_OK);
}

static void default_directory_and_errors(void **state) {
  struct fixture *f = *state;
  char err[256] = "";
  /* NULL: $TMPDIR */
  char *tmp = gmt_path(f->root, "tmp");
  gmt_mkdirs(f->root, "tmp");
  const char *old = getenv("TMPDIR");
  char *saved = old ? strdup(old) : NULL;
  gmt_setenv("TMPDIR", tmp);
  assert_int_equal(gm_mark_listener_open(NULL, &f->l, err, sizeof(err)), GM_OK);
  assert_true(strncmp(gm_mark_listener_path(f->l), tmp, strlen(tmp)) == 0);
  assert_non_null(strstr(gm_mark_listener_path(f->l), "/greenml-"));
  if (saved)
    gmt_setenv("TMPDIR", saved);
  else
    unsetenv("TMPDIR");
  free(saved);
  /* never started: close removes everything */
  gm_mark_listener_close(f->l);
  f->l = NULL;
  assert_int_equal(rmdir(tmp), 0); /* empty again */
  free(tmp);

  /* *out is cleared on failure */
  struct gm_mark_listener *l = (struct gm_mark_listener *)(uintptr_t)1;
  char *missing = gmt_path(f->root, "no/such/dir");
  assert_int_equal(gm_mark_listener_open(missing, &l, err, sizeof(err)),
                   GM_ERR_UNAVAILABLE);
  assert_null(l);
  assert_non_null(strstr(err, missing));
  free(missing);
  assert_int_equal(gm_mark_listener_open(NULL, NULL, err, sizeof(err)),
                   GM_ERR_INVALID_ARG);
  assert_int_equal(gm_mark_listener_start(NULL, f->m), GM_ERR_INVALID_ARG);
  assert_int_equal(gm_mark_listener_stop(NULL), GM_ERR_INVALID_ARG);
  assert_int_equal(gm_mark_listener_bad_lines(NULL), 0);
  gm_mark_listener_close(NULL);
}

/* ---- faults: raw lines with chosen timestamps ---------------------------- */

#define MS (INT64_C(1000000))

/* Starts the meter and the listener on the fixture, then waits 40 ms so
 * that stamps a little in the past still fall inside the run. */
static const char *start_listening(struct fixture *f) {
  assert_int_equal(gm_mark_listener_open(f->root, &f->l, NULL, 0), GM_OK);
  assert_int_equal(gm_meter_start(f->m), GM_OK);
  assert_int_equal(gm_mark_listener_start(f->l, f->m), GM_OK);
  sleep_ms(40);
  return gm_mark_listener_path(f->l);
}

/* Writes the formatted text in one write (lines of one write arrive
 * together). */
static void put(const char *path, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void put(const char *path, const char *fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  assert_true(n > 0 && (size_t)n < sizeof(buf));
  assert_true(write_raw(path, buf, (size_t)n));
}

/* Waits until the sampler has opened phase i (200 ms at most). */
static void wait_opened(struct gm_meter *m, size_t i) {
  struct gm_phase_snapshot ps = {0};
  for (int k = 0; k < 200; k++) {
    if (gm_meter_phase_snapshot(m, i, &ps) != GM_ERR_NOT_FOUND)
      return;
    sleep_ms(1);
  }
  fail_msg("phase %zu never opened", i);
}

static void stop_all(struct fixture *f) {
  assert_int_equal(gm_mark_listener_stop(f->l), GM_OK);
  assert_int_equal(gm_meter_stop(f->m), GM_OK);
}

struct want_phase {
  const char *name;
  int64_t begin_ns, end_ns; /* end 0: ended by the stop */
};

/* The meter holds exactly the phases of want, in order, each spanning its
 * markers' timestamps (1 ns), with energy 6 W x duration >= 0 on the DRAM
 * and no negative energy anywhere. */
static void expect_phases(struct fixture *f, int64_t t0_ns,
                          const struct want_phase *want, size_t n) {
  size_t d = component(f->m, "dram");
  size_t got = gm_meter_phase_count(f->m);
  for (size_t i = 0; i < got; i++) {
    const struct gm_phase *p = gm_meter_phase(f->m, i);
    print_message("  phase %zu '%s' start %.6f s duration %.6f s dram %.6f J\n",
                  i, p->name, p->start_s, p->duration_s, p->energy_j[d]);
  }
  assert_int_equal(got, n);
  for (size_t i = 0; i < n; i++) {
    const struct gm_phase *p = gm_meter_phase(f->m, i);
    assert_string_equal(p->name, want[i].name);
    assert_true(p->duration_s >= 0.0);
    for (size_t c = 0; c < gm_meter_component_count(f->m); c++)
      assert_true(p->energy_j[c] >= 0.0);
    assert_double_equal(p->start_s, (double)(want[i].begin_ns - t0_ns) / 1e9,
                        1e-9);
    if (want[i].end_ns) {
      assert_false(p->open);
      assert_double_equal(p->duration_s,
                          (double)(want[i].end_ns - want[i].begin_ns) / 1e9,
                          1e-9);
    } else {
      assert_true(p->open);
    }
    assert_double_equal(p->energy_j[d], DRAM_W * p->duration_s, 1e-9);
  }
}

static void expect_rejected(const struct gm_mark_listener *l,
                            unsigned before_start, unsigned out_of_order,
                            unsigned in_future) {
  struct gm_mark_rejected r;
  gm_mark_listener_rejected(l, &r);
  assert_int_equal(r.before_start, before_start);
  assert_int_equal(r.out_of_order, out_of_order);
  assert_int_equal(r.in_future, in_future);
}

/* The run's t0, read back from a phase: start_s of phase i begun at t. */
static int64_t run_t0(struct fixture *f, size_t i, int64_t t) {
  return t - (int64_t)llround(gm_meter_phase(f->m, i)->start_s * 1e9);
}

/* A begin stamped before the open phase's begin (a marker held up on its
 * way) used to close that phase before it began: -0.03 s and a negative
 * energy. It is refused and counted; the phases stay as they were. */
static void a_begin_before_the_open_phase_is_rejected(void **state) {
  struct fixture *f = *state;
  const char *path = start_listening(f);
  int64_t t_a = gm__now_ns();
  put(path, "B %lld first\n", (long long)t_a);
  wait_opened(f->m, 0);
  put(path, "B %lld early\n", (long long)(t_a - 30 * MS));
  sleep_ms(20);
  int64_t t_b = gm__now_ns();
  put(path, "E %lld\n", (long long)t_b);
  sleep_ms(10);
  stop_all(f);
  const struct want_phase want[] = {{"first", t_a, t_b}};
  expect_phases(f, run_t0(f, 0, t_a), want, 1);
  expect_rejected(f->l, 0, 1, 0);
  assert_int_equal(gm_mark_listener_bad_lines(f->l), 0);
}

/* Markers that arrive in another order than their stamps (two writers):
 * within one read, and across reads while still pending, they are applied
 * in the order of their timestamps. */
static void markers_out_of_order_are_applied_in_time_order(void **state) {
  struct fixture *f = *state;
  const char *path = start_listening(f);
  /* both already due when read: one read, the later stamp first */
  int64_t now = gm__now_ns();
  int64_t t_a = now - 20 * MS, t_b = now - 10 * MS;
  put(path, "B %lld second\nB %lld first\n", (long long)t_b, (long long)t_a);
  /* pending (stamped ahead, within the tolerance): two reads, the later
   * stamp first */
  now = gm__now_ns();
  int64_t t_d = now + 80 * MS, t_c = now + 50 * MS, t_e = now + 95 * MS;
  put(path, "B %lld fourth\n", (long long)t_d);
  sleep_ms(5);
  put(path, "E %lld\n", (long long)t_e);
  sleep_ms(5);
  put(path, "B %lld third\n", (long long)t_c);
  sleep_ms(150);
  stop_all(f);
  const struct want_phase want[] = {{"first", t_a, t_b},
                                    {"second", t_b, t_c},
                                    {"third", t_c, t_d},
                                    {"fourth", t_d, t_e}};
  expect_phases(f, run_t0(f, 0, t_a), want, 4);
  expect_rejected(f->l, 0, 0, 0);
  assert_int_equal(gm_mark_listener_bad_lines(f->l), 0);
}

/* A line of 5 KiB is discarded whole and counted once, even when its tail
 * beyond the line limit reads as a marker; the next line is a marker as
 * usual. */
static void a_long_line_injects_nothing(void **state) {
  struct fixture *f = *state;
  const char *path = start_listening(f);
  int64_t t_x = gm__now_ns() - 5 * MS;
  char tail[64];
  int nt = snprintf(tail, sizeof(tail), "B %lld injected\n", (long long)t_x);
  size_t n = 5 * 1024;
  char *line = malloc(n + (size_t)nt);
  assert_non_null(line);
  memset(line, 'x', n);
  memcpy(line + n, tail, (size_t)nt);
  assert_true(write_raw(path, line, n + (size_t)nt));
  /* the same, its tail at exactly the line limit */
  memcpy(line + GM_MARK_LINE_MAX - 1, tail, (size_t)nt);
  assert_true(write_raw(path, line, GM_MARK_LINE_MAX - 1 + (size_t)nt));
  free(line);
  int64_t t_a = gm__now_ns();
  put(path, "B %lld after\n", (long long)t_a);
  sleep_ms(20);
  int64_t t_b = gm__now_ns();
  put(path, "E %lld\n", (long long)t_b);
  sleep_ms(10);
  stop_all(f);
  const struct want_phase want[] = {{"after", t_a, t_b}};
  expect_phases(f, run_t0(f, 0, t_a), want, 1);
  assert_int_equal(gm_mark_listener_bad_lines(f->l), 2);
  expect_rejected(f->l, 0, 0, 0);
}

/* A NUL byte makes its line no marker, whole (the text before it used to
 * be read as the marker and the rest of the line lost); the lines after it
 * are markers as usual. */
static void a_nul_rejects_its_line_only(void **state) {
  struct fixture *f = *state;
  const char *path = start_listening(f);
  int64_t t_x = gm__now_ns() - 10 * MS;
  char buf[256];
  int n1 = snprintf(buf, sizeof(buf), "B %lld cut", (long long)t_x);
  buf[n1] = '\0'; /* a C string's terminator, written with it */
  int n2 = snprintf(buf + n1 + 1, sizeof(buf) - (size_t)n1 - 1,
                    "B %lld hidden\n", (long long)(t_x + MS));
  assert_true(write_raw(path, buf, (size_t)(n1 + 1 + n2)));
  int64_t t_a = gm__now_ns();
  int64_t t_b = t_a + 1 * MS;
  put(path, "B %lld a\nB %lld b\n", (long long)t_a, (long long)t_b);
  sleep_ms(20);
  int64_t t_c = gm__now_ns();
  put(path, "E %lld\n", (long long)t_c);
  sleep_ms(10);
  stop_all(f);
  const struct want_phase want[] = {{"a", t_a, t_b}, {"b", t_b, t_c}};
  expect_phases(f, run_t0(f, 0, t_a), want, 2);
  assert_int_equal(gm_mark_listener_bad_lines(f->l), 1);
  expect_rejected(f->l, 0, 0, 0);
}

/* Stamps from another clock: 10 s ahead (CLOCK_BOOTTIME after a suspend,
 * say) and before the run. Both are refused and counted; the future one
 * used to wait until the stop and then make a phase there. */
static void markers_from_the_future_or_the_past_are_rejected(void **state) {
  struct fixture *f = *state;
  const char *path = start_listening(f);
  int64_t now = gm__now_ns();
  put(path, "B %lld future\nB %lld past\n", (long long)(now + 10 * 1000 * MS),
      (long long)(now - 5000 * MS));
  int64_t t_a = gm__now_ns();
  put(path, "B %lld real\n", (long long)t_a);
  sleep_ms(20);
  /* just ahead, within the tolerance: taken, and applied when due */
  int64_t t_b = gm__now_ns() + GM_METER_MARK_FUTURE_NS / 2;
  put(path, "E %lld\n", (long long)t_b);
  sleep_ms((long)(GM_METER_MARK_FUTURE_NS / MS) / 2 + 30);
  stop_all(f);
  const struct want_phase want[] = {{"real", t_a, t_b}};
  expect_phases(f, run_t0(f, 0, t_a), want, 1);
  expect_rejected(f->l, 1, 0, 1);
  assert_int_equal(gm_mark_listener_bad_lines(f->l), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(phases_from_a_writer_thread, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(stop_drains_what_was_written, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(default_directory_and_errors, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(a_begin_before_the_open_phase_is_rejected,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(
          markers_out_of_order_are_applied_in_time_order, setup, teardown),
      cmocka_unit_test_setup_teardown(a_long_line_injects_nothing, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(a_nul_rejects_its_line_only, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(
          markers_from_the_future_or_the_past_are_rejected, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_mark_listener.c: the marker listener (mark.h) end to end: a real
 * FIFO, the real reader thread, a meter on a fake machine whose DRAM model
 * draws a constant 6 W, and a writer thread that marks phases with
 * gm_phase_begin/gm_phase_end through GREENML_MARK, as a measured program
 * does, plus lines that are not markers. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
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

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(phases_from_a_writer_thread, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(stop_drains_what_was_written, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(default_directory_and_errors, setup,
                                      teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

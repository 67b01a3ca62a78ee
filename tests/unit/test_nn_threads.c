/* test_nn_threads.c: the thread count an engine chooses when given 0
 * (gm_nn_threads_choose): the allowed CPUs less those other processes keep
 * busy, read from a fake procfs (self/status, stat, self/task/TID/stat);
 * what it falls back to when the counts are missing; and the engine's
 * report of the count it computes with. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "greenml/engine.h"
#include "greenml/nn.h"
#include "helpers.h"
#include "nn/threads.h"

/* A fake procfs: CPUS allowed, RUNNING tasks on the machine, and this
 * process's threads in the states of STATES ("RS": one running, one
 * sleeping). */
static char *fake_proc(const char *cpus, int running, const char *states) {
  char *root = gmt_mkdtemp();
  gmt_write(root, "self/status",
            "Name:\tgreenml\nState:\tR (running)\nThreads:\t%zu\n"
            "Cpus_allowed:\tf\nCpus_allowed_list:\t%s\nvoluntary_ctxt_"
            "switches:\t1\n",
            strlen(states), cpus);
  gmt_write(root, "stat",
            "cpu  1 2 3 4 5 6 7 8 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\n"
            "intr 1\nctxt 2\nbtime 3\nprocesses 4\nprocs_running %d\n"
            "procs_blocked 0\nsoftirq 0\n",
            running);
  for (size_t i = 0; states[i]; i++) {
    char rel[64];
    snprintf(rel, sizeof(rel), "self/task/%zu/stat", 100 + i);
    gmt_write(root, rel, "%zu (greenml) %c 1 100 100 0 -1 4194560 0 0\n",
              100 + i, states[i]);
  }
  return root;
}

static struct gm_nn_threads choose(const char *root, enum gm_status want) {
  struct gm_nn_threads t;
  memset(&t, 0x55, sizeof(t));
  assert_int_equal(gm__nn_threads_choose(root, 5, 0, &t), want);
  return t;
}

static void cpu_lists(void **state) {
  (void)state;
  assert_int_equal(gm__nn_cpu_list_count("0-3,8,10-11"), 7);
  assert_int_equal(gm__nn_cpu_list_count("0"), 1);
  assert_int_equal(gm__nn_cpu_list_count("\t0-1\n"), 2);
  assert_int_equal(gm__nn_cpu_list_count("5,7"), 2);
  assert_int_equal(gm__nn_cpu_list_count(""), -1);
  assert_int_equal(gm__nn_cpu_list_count("3-1"), -1);
  assert_int_equal(gm__nn_cpu_list_count("a"), -1);
  assert_int_equal(gm__nn_cpu_list_count("0,,1"), -1);
  assert_int_equal(gm__nn_cpu_list_count("0-999999"), -1);
}

/* alone: procs_running counts only the caller */
static void idle_machine_gets_every_cpu(void **state) {
  (void)state;
  char *root = fake_proc("0-3", 1, "RS");
  struct gm_nn_threads t = choose(root, GM_OK);
  assert_int_equal(t.cpus, 4);
  assert_int_equal(t.busy, 0);
  assert_int_equal(t.threads, 4);
  assert_true(t.chosen);
  assert_non_null(strstr(t.detail, "4 of 4 CPUs idle"));
  gmt_rmtree(root);
  free(root);
}

/* a neighbour computing on one CPU of two: one thread */
static void busy_neighbour_takes_its_cpu(void **state) {
  (void)state;
  char *root = fake_proc("0-1", 2, "R");
  struct gm_nn_threads t = choose(root, GM_OK);
  assert_int_equal(t.cpus, 2);
  assert_int_equal(t.busy, 1);
  assert_int_equal(t.threads, 1);
  assert_non_null(strstr(t.detail, "1 of 2 CPUs idle (1 kept busy"));
  gmt_rmtree(root);
  free(root);
}

/* this process's own running threads (a previous engine's team still
 * spinning) are not a neighbour */
static void own_threads_are_not_neighbours(void **state) {
  (void)state;
  char *root = fake_proc("0-7", 4, "RRRS");
  struct gm_nn_threads t = choose(root, GM_OK);
  assert_int_equal(t.busy, 1);
  assert_int_equal(t.threads, 7);
  gmt_rmtree(root);
  free(root);
}

/* the state is the field after the last ')': a name holding ") R" is not
 * a running thread */
static void thread_names_do_not_fool_the_state(void **state) {
  (void)state;
  char *root = fake_proc("0-3", 3, "R");
  gmt_write(root, "self/task/200/stat", "200 (odd) R name) S 1 2 3\n");
  struct gm_nn_threads t = choose(root, GM_OK);
  assert_int_equal(t.busy, 2); /* 3 running less the one R thread */
  assert_int_equal(t.threads, 2);
  gmt_rmtree(root);
  free(root);
}

/* more runnable tasks than CPUs: still one thread, never 0 or negative */
static void overloaded_machine_gets_one_thread(void **state) {
  (void)state;
  char *root = fake_proc("0-3", 40, "R");
  struct gm_nn_threads t = choose(root, GM_OK);
  assert_int_equal(t.busy, 4);
  assert_int_equal(t.threads, 1);
  gmt_rmtree(root);
  free(root);
}

/* only the allowed CPUs count: a process pinned to 2 of 8 */
static void affinity_limits_the_cpus(void **state) {
  (void)state;
  char *root = fake_proc("2,5", 1, "R");
  struct gm_nn_threads t = choose(root, GM_OK);
  assert_int_equal(t.cpus, 2);
  assert_int_equal(t.threads, 2);
  gmt_rmtree(root);
  free(root);
}

/* no procs_running (or no stat at all): every allowed CPU, busy unknown,
 * the reason named, and a status that says so */
static void unreadable_stat_falls_back_to_every_cpu(void **state) {
  (void)state;
  char *root = fake_proc("0-5", 1, "R");
  gmt_write(root, "stat", "cpu  1 2 3 4 5 6 7 8 0 0\nctxt 2\n");
  struct gm_nn_threads t = choose(root, GM_ERR_UNAVAILABLE);
  assert_int_equal(t.cpus, 6);
  assert_int_equal(t.threads, 6);
  assert_int_equal(t.busy, -1);
  assert_non_null(strstr(t.detail, "no procs_running"));
  char *stat = gmt_path(root, "stat");
  assert_int_equal(unlink(stat), 0);
  free(stat);
  t = choose(root, GM_ERR_UNAVAILABLE);
  assert_int_equal(t.threads, 6);
  assert_int_equal(t.busy, -1);
  gmt_rmtree(root);
  free(root);
}

/* no task directory: the caller alone is this process's running thread */
static void missing_task_dir_counts_the_caller(void **state) {
  (void)state;
  char *root = fake_proc("0-3", 3, "");
  struct gm_nn_threads t = choose(root, GM_OK);
  assert_int_equal(t.busy, 2);
  assert_int_equal(t.threads, 2);
  gmt_rmtree(root);
  free(root);
}

/* The public call and the engine read $GREENML_PROCFS: on a machine
 * whose every CPU is taken, a threaded backend left to choose computes on
 * one thread and says why; a configured count is kept; a single-threaded
 * backend reports one thread whatever it is given. */
static void engine_reports_its_threads(void **state) {
  (void)state;
  char *root = fake_proc("0-3", 64, "R");
  setenv("GREENML_PROCFS", root, 1);
  struct gm_nn_threads t;
  assert_int_equal(gm_nn_threads_choose(NULL, &t), GM_OK);
  assert_int_equal(t.threads, 1);
  assert_int_equal(t.cpus, 4);
  assert_int_equal(gm_nn_threads_choose(NULL, NULL), GM_ERR_INVALID_ARG);

  struct gm_nn_net *net = NULL;
  assert_int_equal(gm_nn_zoo_build("LeNet", &net), GM_OK);
  int seen = 0;
  for (size_t i = 0; gm_nn_backend_name(i); i++) {
    const char *name = gm_nn_backend_name(i);
    for (int configured = 0; configured <= 3; configured += 3) {
      struct gm_nn_engine_config cfg = gm_nn_engine_config_default();
      cfg.backend = name;
      cfg.max_batch = 2;
      cfg.threads = configured;
      struct gm_nn_engine *e = NULL;
      char err[256] = "";
      assert_int_equal(gm_nn_engine_create(net, &cfg, &e, err, sizeof(err)),
                       GM_OK);
      const struct gm_nn_threads *th = gm_nn_engine_threads(e);
      if (strcmp(name, "ref") == 0) {
        assert_int_equal(th->threads, 1);
        assert_false(th->chosen);
        assert_non_null(strstr(th->detail, "one thread"));
        seen |= 1;
      } else if (configured) {
        assert_int_equal(th->threads, 3);
        assert_false(th->chosen);
        assert_string_equal(th->detail, "configured");
        seen |= 2;
      } else {
        assert_int_equal(th->threads, 1);
        assert_true(th->chosen);
        assert_int_equal(th->cpus, 4);
        assert_int_equal(th->busy, 4);
        seen |= 4;
      }
      gm_nn_engine_destroy(e);
    }
  }
  /* ref, and oneDNN both ways when it is built */
  assert_int_equal(seen, gm_nn_backend_name(1) ? 7 : 1);
  gm_nn_net_destroy(net);
  unsetenv("GREENML_PROCFS");
  gmt_rmtree(root);
  free(root);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(cpu_lists),
      cmocka_unit_test(idle_machine_gets_every_cpu),
      cmocka_unit_test(busy_neighbour_takes_its_cpu),
      cmocka_unit_test(own_threads_are_not_neighbours),
      cmocka_unit_test(thread_names_do_not_fool_the_state),
      cmocka_unit_test(overloaded_machine_gets_one_thread),
      cmocka_unit_test(affinity_limits_the_cpus),
      cmocka_unit_test(unreadable_stat_falls_back_to_every_cpu),
      cmocka_unit_test(missing_task_dir_counts_the_caller),
      cmocka_unit_test(engine_reports_its_threads),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

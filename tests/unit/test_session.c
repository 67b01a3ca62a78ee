/* test_session.c: a measured run through the session (session.h) on a fake
 * machine whose only measurable power is the DRAM model (constant 6 W, so
 * every energy is P x duration): the stored run, its phases and its
 * document; the baseline it applies; the states it refuses; a store it
 * refuses untouched. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "base/json_read.h"
#include "greenml/session.h"
#include "helpers.h"

#define DRAM_W 6.0 /* 0.375 W/GiB x 16 GiB */

struct fx {
  char *root;
  char sys[512], proc[512], dev[512];
};

static struct fx *fixture(void) {
  struct fx *f = calloc(1, sizeof(*f));
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
  return f;
}

static void fixture_free(struct fx *f) {
  gmt_rmtree(f->root);
  free(f->root);
  free(f);
}

static struct gm_session_config config(struct fx *f) {
  struct gm_session_config c = gm_session_config_default();
  c.meter.sysfs_root = f->sys;
  c.meter.procfs_root = f->proc;
  c.meter.devfs_root = f->dev;
  c.meter.no_gpu = true;
  c.meter.interval_ns = 5 * 1000000;
  return c;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
  nanosleep(&ts, NULL);
}

static size_t component(const struct gm_run_record *r, const char *name) {
  for (size_t i = 0; i < r->n_components; i++)
    if (strcmp(r->components[i].info.name, name) == 0)
      return i;
  fail_msg("no component '%s'", name);
  return 0;
}

static unsigned samples_seen;
static void count_sample(void *ctx, const struct gm_sample *s) {
  (void)ctx;
  (void)s;
  samples_seen++;
}

/* A run into a new database in a directory that does not exist yet: the
 * directories are made, the run is stored complete with every sample, the
 * caller's callback sees each sample too, phases are exact, the document
 * says what the record says. */
static void stored_run_with_phases(void **state) {
  (void)state;
  struct fx *f = fixture();
  char *db = gmt_path(f->root, "data/deeper/g.db");
  struct gm_session_config c = config(f);
  c.db = db;
  c.command = "python: train.py";
  c.tags_json = "{\"model\":\"lenet\"}";
  c.carbon_g_per_kwh = 100.0;
  c.carbon_source = "--carbon-intensity";
  c.meter.on_sample = count_sample;
  samples_seen = 0;
  struct gm_session *s = NULL;
  char err[512];
  assert_int_equal(gm_session_open(&c, &s, err, sizeof(err)), GM_OK);
  assert_true(gm_session_host_id(s) > 0);
  assert_null(gm_session_json(s)); /* nothing before stop */
  assert_int_equal(gm_session_stop(s, 0), GM_ERR_STATE);
  assert_int_equal(gm_session_start(s), GM_OK);
  assert_true(gm_session_run_id(s) > 0);
  assert_int_equal(gm_session_start(s), GM_ERR_STATE);
  assert_int_equal(gm_session_set_baseline(s, NULL), GM_ERR_STATE);
  /* no stored baseline for this new host: said, net unknown */
  assert_null(gm_session_baseline(s));
  assert_non_null(strstr(gm_session_idle_note(s), "no idle baseline"));
  sleep_ms(30);
  assert_int_equal(gm_session_phase_begin(s, "epoch-1", 0), GM_OK);
  sleep_ms(60);
  assert_int_equal(gm_session_phase_begin(s, "epoch-2", 0), GM_OK);
  sleep_ms(40);
  assert_int_equal(gm_session_phase_end(s, 0), GM_OK);
  sleep_ms(20);
  assert_int_equal(gm_session_stop(s, 3), GM_OK);
  assert_int_equal(gm_session_stop(s, 3), GM_OK); /* idempotent */

  const struct gm_run_record *r = gm_session_record(s);
  assert_non_null(r);
  size_t d = component(r, "dram");
  assert_double_equal(r->components[d].stats.energy_j, DRAM_W * r->duration_s,
                      1e-9);
  assert_true(isnan(r->components[d].net_energy_j));
  assert_int_equal(r->n_phases, 2);
  assert_string_equal(r->phases[0].name, "epoch-1");
  assert_double_equal(r->phases[0].energy_j[d],
                      DRAM_W * r->phases[0].duration_s, 1e-9);
  assert_true(r->phases[0].duration_s > 0.05);
  assert_true(r->phases[1].duration_s > 0.03);
  struct gm_store_sample_tally t;
  assert_int_equal(gm_session_tally(s, &t), GM_OK);
  assert_true(t.stored > 10);
  assert_int_equal(t.lost, 0);
  assert_int_equal(t.stored, samples_seen);

  const char *doc = gm_session_json(s);
  assert_non_null(doc);
  struct gm__json_value *v = NULL;
  assert_int_equal(gm__json_parse(doc, &v), GM_OK);
  char buf[256];
  gm__json_text(gm__json_get(v, "command"), buf, sizeof(buf));
  assert_string_equal(buf, "python: train.py");
  assert_double_equal(gm__json_number(gm__json_get(v, "run_id")),
                      (double)gm_session_run_id(s), 0);
  assert_double_equal(gm__json_number(gm__json_get(v, "exit_code")), 3, 0);
  assert_double_equal(gm__json_number(gm__json_get(v, "total_energy_j")),
                      r->total.gross_j, 1e-9 * r->total.gross_j);
  assert_double_equal(gm__json_number(gm__json_get(v, "carbon_g")),
                      r->total.gross_j / 3.6e6 * 100.0, 1e-12);
  gm__json_text(gm__json_get(v, "tags"), buf, sizeof(buf));
  assert_string_equal(buf, "{\"model\":\"lenet\"}");
  gm__json_text(gm__json_get(v, "idle_baseline"), buf, sizeof(buf));
  assert_string_equal(buf, "none");
  assert_int_equal(gm__json_get(v, "markers")->type, GM__JSON_NULL);
  assert_int_equal(gm__json_get(v, "process_cpu_s")->type, GM__JSON_NULL);
  const struct gm__json_value *ph = gm__json_get(v, "phases");
  assert_int_equal(ph->n, 2);
  assert_double_equal(gm__json_number(gm__json_get(&ph->items[1], "energy_j")),
                      r->phases[1].total.gross_j, 1e-9);
  const struct gm__json_value *st = gm__json_get(v, "store");
  assert_int_equal(gm__json_get(st, "complete")->boolean, true);
  assert_double_equal(gm__json_number(gm__json_get(st, "samples_stored")),
                      (double)t.stored, 0);
  gm__json_free(v);
  int64_t run_id = gm_session_run_id(s);
  double e_phase0 = r->phases[0].total.gross_j;
  double d_phase1 = r->phases[1].duration_s;
  size_t n_comp = r->n_components, d_idx = d;
  double dram_phase1 = r->phases[1].energy_j[d];
  gm_session_close(s);

  /* the store holds it, complete, with the command's status */
  struct gm_store *sto = NULL;
  assert_int_equal(gm_store_open_readonly(db, &sto, err, sizeof(err)), GM_OK);
  struct gm_store_run_list *l = NULL;
  assert_int_equal(gm_store_list_runs(sto, NULL, &l), GM_OK);
  assert_int_equal(l->n, 1);
  assert_int_equal(l->runs[0].id, run_id);
  assert_true(l->runs[0].complete);
  assert_int_equal(l->runs[0].exit_code, 3);
  assert_string_equal(l->runs[0].command, "python: train.py");
  gm_store_run_list_free(l);
  /* its phases read back as the record had them */
  struct gm_store_run_phases *rp = NULL;
  assert_int_equal(gm_store_load_run_phases(sto, run_id, &rp), GM_OK);
  assert_int_equal(rp->n, 2);
  assert_string_equal(rp->phases[0].name, "epoch-1");
  assert_string_equal(rp->phases[1].name, "epoch-2");
  assert_double_equal(rp->phases[0].energy_j, e_phase0, 1e-9);
  assert_double_equal(rp->phases[1].duration_s, d_phase1, 1e-9);
  assert_true(isnan(rp->phases[0].net_energy_j));
  assert_false(rp->phases[1].ended_by_stop);
  /* and each component's share, in the run's component order */
  assert_int_equal(rp->n_components, n_comp);
  assert_string_equal(rp->component[d_idx], "dram");
  assert_double_equal(rp->component_energy_j[1 * rp->n_components + d_idx],
                      dram_phase1, 1e-9);
  assert_true(isnan(rp->component_net_energy_j[d_idx]));
  gm_store_run_phases_free(rp);
  assert_int_equal(gm_store_load_run_phases(sto, run_id + 1, &rp),
                   GM_ERR_NOT_FOUND);
  assert_null(rp);
  gm_store_close(sto);
  free(db);
  fixture_free(f);
}

/* A stored baseline of the same host and configuration is applied (IDLE_AUTO)
 * and gives the DRAM model's net 0 within its noise; IDLE_NONE applies
 * none. */
static void baseline_auto_and_none(void **state) {
  (void)state;
  struct fx *f = fixture();
  char *db = gmt_path(f->root, "g.db");
  struct gm_session_config c = config(f);
  struct gm_idle_baseline *b = NULL;
  char err[512];
  assert_int_equal(
      gm_idle_measure(&c.meter, 60 * 1000000, NULL, NULL, &b, err, sizeof(err)),
      GM_OK);
  c.db = db;
  struct gm_session *s = NULL;
  assert_int_equal(gm_session_open(&c, &s, err, sizeof(err)), GM_OK);
  int64_t id = 0;
  assert_int_equal(
      gm_store_save_idle(gm_session_store(s), gm_session_host_id(s), 0, b, &id),
      GM_OK);
  assert_int_equal(gm_session_start(s), GM_OK);
  assert_non_null(gm_session_baseline(s));
  assert_int_equal(gm_session_baseline(s)->id, id);
  assert_string_equal(gm_session_idle_note(s), "");
  sleep_ms(50);
  assert_int_equal(gm_session_stop(s, 0), GM_OK);
  const struct gm_run_record *r = gm_session_record(s);
  size_t d = component(r, "dram");
  assert_double_equal(r->components[d].idle_w, DRAM_W, 1e-9);
  assert_double_equal(r->components[d].net_energy_j, 0.0, 1e-9);
  assert_int_equal(r->idle_baseline_id, id);
  gm_session_close(s);

  c.idle = GM_SESSION_IDLE_NONE;
  assert_int_equal(gm_session_open(&c, &s, err, sizeof(err)), GM_OK);
  assert_int_equal(gm_session_start(s), GM_OK);
  assert_null(gm_session_baseline(s));
  assert_string_equal(gm_session_idle_note(s), "");
  assert_int_equal(gm_session_stop(s, 0), GM_OK);
  assert_true(isnan(gm_session_record(s)->total.net_j));
  gm_session_close(s);
  gm_idle_baseline_free(b);
  free(db);
  fixture_free(f);
}

/* No store: nothing stored, no tally, the note says why there is no net. */
static void without_store(void **state) {
  (void)state;
  struct fx *f = fixture();
  struct gm_session_config c = config(f);
  struct gm_session *s = NULL;
  char err[512];
  assert_int_equal(gm_session_open(&c, &s, err, sizeof(err)), GM_OK);
  assert_null(gm_session_store(s));
  assert_int_equal(gm_session_start(s), GM_OK);
  assert_non_null(strstr(gm_session_idle_note(s), "no store"));
  sleep_ms(20);
  assert_int_equal(gm_session_stop(s, 0), GM_OK);
  assert_int_equal(gm_session_run_id(s), 0);
  struct gm_store_sample_tally t;
  assert_int_equal(gm_session_tally(s, &t), GM_ERR_STATE);
  struct gm__json_value *v = NULL;
  assert_int_equal(gm__json_parse(gm_session_json(s), &v), GM_OK);
  assert_int_equal(gm__json_get(v, "run_id")->type, GM__JSON_NULL);
  assert_int_equal(gm__json_get(v, "store")->type, GM__JSON_NULL);
  gm__json_free(v);
  /* closing a running session is safe too */
  gm_session_close(s);
  assert_int_equal(gm_session_open(&c, &s, err, sizeof(err)), GM_OK);
  assert_int_equal(gm_session_start(s), GM_OK);
  gm_session_close(s);
  fixture_free(f);
}

/* A store that cannot be opened: the error is the store's, nothing is
 * created in its place; a store and a location at once is refused. */
static void refused_store(void **state) {
  (void)state;
  struct fx *f = fixture();
  struct gm_session_config c = config(f);
  char *file = gmt_path(f->root, "notdb");
  gmt_write(f->root, "notdb", "this is not a database, it is text\n");
  struct stat before, after;
  assert_int_equal(stat(file, &before), 0);
  c.db = file;
  struct gm_session *s = (struct gm_session *)1;
  char err[512] = "";
  assert_int_equal(gm_session_open(&c, &s, err, sizeof(err)), GM_ERR_PARSE);
  assert_null(s);
  assert_true(err[0] != '\0');
  assert_int_equal(stat(file, &after), 0);
  assert_int_equal(before.st_size, after.st_size);
  assert_int_equal(before.st_mtime, after.st_mtime);
  /* a directory in the way of the database's directory */
  char *blocked = gmt_path(f->root, "notdb/sub/g.db");
  c.db = blocked;
  assert_int_not_equal(gm_session_open(&c, &s, err, sizeof(err)), GM_OK);
  assert_non_null(strstr(err, "cannot create the database directory"));
  c.db = file;
  c.store = (struct gm_store *)file; /* never dereferenced: refused first */
  assert_int_equal(gm_session_open(&c, &s, err, sizeof(err)),
                   GM_ERR_INVALID_ARG);
  free(blocked);
  free(file);
  fixture_free(f);
}

/* The settings as text (the bindings' entry): every bad value is refused
 * with its name, before anything is opened. */
static void settings_as_text(void **state) {
  (void)state;
  struct fx *f = fixture();
  const char *base_k[] = {"sysfs_root", "procfs_root", "devfs_root", "no_gpu"};
  const char *base_v[] = {f->sys, f->proc, f->dev, "1"};
  struct {
    const char *k, *v, *want;
  } bad[] = {
      {"colour", "green", "unknown session setting 'colour'"},
      {"tags", "{\"a\":1}", "not a JSON object of strings"},
      {"tags", "[\"a\"]", "not a JSON object of strings"},
      {"interval_ns", "999", "between 1 ms and 60 s"},
      {"idle", "sometimes", "idle 'sometimes'"},
      {"region", "XX", "region 'XX'"},
      {"pue", "9", "pue '9'"},
      {"no_gpu", "yes", "no_gpu 'yes'"},
      {"gpus", "", "gpus ''"},
      {"kind", "a-kind-far-too-long", "1 to 15 characters"},
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    const char *k[5], *v[5];
    for (int j = 0; j < 4; j++) {
      k[j] = base_k[j];
      v[j] = base_v[j];
    }
    k[4] = bad[i].k;
    v[4] = bad[i].v;
    struct gm_session *s = NULL;
    char err[512] = "";
    assert_int_equal(gm_session_open_kv(k, v, 5, &s, err, sizeof(err)),
                     GM_ERR_INVALID_ARG);
    assert_null(s);
    if (!strstr(err, bad[i].want))
      fail_msg("%s=%s: '%s' lacks '%s'", bad[i].k, bad[i].v, err, bad[i].want);
  }
  /* region and a given intensity together */
  const char *k2[] = {"sysfs_root", "procfs_root", "devfs_root", "region",
                      "carbon_intensity"};
  const char *v2[] = {f->sys, f->proc, f->dev, "FR", "100"};
  struct gm_session *s = NULL;
  char err[512] = "";
  assert_int_equal(gm_session_open_kv(k2, v2, 5, &s, err, sizeof(err)),
                   GM_ERR_INVALID_ARG);
  assert_non_null(strstr(err, "cannot be used together"));
  /* good values open a session with them */
  const char *k3[] = {"sysfs_root", "procfs_root", "devfs_root", "tags",
                      "carbon_intensity"};
  const char *v3[] = {f->sys, f->proc, f->dev, "{\"m\":\"lenet\"}", "100"};
  assert_int_equal(gm_session_open_kv(k3, v3, 5, &s, err, sizeof(err)), GM_OK);
  assert_int_equal(gm_session_start(s), GM_OK);
  assert_int_equal(gm_session_stop(s, 0), GM_OK);
  assert_non_null(
      strstr(gm_session_json(s), "\"carbon_intensity_g_per_kwh\":100"));
  assert_non_null(strstr(gm_session_json(s), "\"tags\":{\"m\":\"lenet\"}"));
  gm_session_close(s);
  fixture_free(f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(stored_run_with_phases),
      cmocka_unit_test(baseline_auto_and_none),
      cmocka_unit_test(without_store),
      cmocka_unit_test(refused_store),
      cmocka_unit_test(settings_as_text),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

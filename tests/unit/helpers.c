/* helpers.c: see helpers.h. */
#define _GNU_SOURCE
#include "helpers.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *gmt_mkdtemp(void) {
  const char *tmp = getenv("TMPDIR");
  char buf[512];
  snprintf(buf, sizeof(buf), "%s/gmtest.XXXXXX", tmp && *tmp ? tmp : "/tmp");
  char *p = mkdtemp(buf);
  assert_non_null(p);
  return strdup(p);
}

static int rm_cb(const char *p, const struct stat *sb, int flag,
                 struct FTW *ftw) {
  (void)sb;
  (void)flag;
  (void)ftw;
  return remove(p);
}

void gmt_rmtree(const char *path) {
  if (path)
    nftw(path, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

char *gmt_path(const char *root, const char *rel) {
  size_t n = strlen(root) + strlen(rel) + 2;
  char *p = malloc(n);
  assert_non_null(p);
  snprintf(p, n, "%s/%s", root, rel);
  return p;
}

void gmt_mkdirs(const char *root, const char *rel) {
  char *p = gmt_path(root, rel);
  for (char *s = p + strlen(root) + 1; *s; s++) {
    if (*s == '/') {
      *s = '\0';
      mkdir(p, 0755);
      *s = '/';
    }
  }
  mkdir(p, 0755);
  free(p);
}

static void parent_dirs(const char *root, const char *rel) {
  char *copy = strdup(rel);
  char *slash = strrchr(copy, '/');
  if (slash) {
    *slash = '\0';
    gmt_mkdirs(root, copy);
  }
  free(copy);
}

void gmt_write_bin(const char *root, const char *rel, const void *data,
                   size_t len) {
  parent_dirs(root, rel);
  char *p = gmt_path(root, rel);
  /* Write to a temporary name and rename, so a concurrent reader never sees
   * a half-written file (as with sysfs attributes). */
  size_t tn = strlen(p) + 8;
  char *tmp = malloc(tn);
  assert_non_null(tmp);
  snprintf(tmp, tn, "%s.tmp~", p);
  FILE *f = fopen(tmp, "wb");
  assert_non_null(f);
  if (len)
    assert_int_equal(fwrite(data, 1, len, f), len);
  assert_int_equal(fclose(f), 0);
  assert_int_equal(rename(tmp, p), 0);
  free(tmp);
  free(p);
}

void gmt_write(const char *root, const char *rel, const char *fmt, ...) {
  char buf[65536];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  assert_true(n >= 0 && (size_t)n < sizeof(buf));
  gmt_write_bin(root, rel, buf, (size_t)n);
}

void gmt_setenv(const char *name, const char *value) {
  assert_int_equal(setenv(name, value, 1), 0);
}

void gmt_assert_near(double a, double b, double eps, const char *ea,
                     const char *eb, const char *file, int line) {
  if (fabs(a - b) <= eps)
    return;
  print_error("%s = %.17g\n%s = %.17g\n|difference| = %.6g > %.6g\n", ea, a, eb,
              b, fabs(a - b), eps);
  _fail(file, line);
}

void gmt_roots(const char *root, char *sysfs, char *procfs, char *devfs,
               size_t size) {
  snprintf(sysfs, size, "%s/sys", root);
  snprintf(procfs, size, "%s/proc", root);
  snprintf(devfs, size, "%s/dev", root);
}

/* The host's GPU selection is not the tests': every GPU of the fake NVML
 * is metered unless a test sets these itself. */
__attribute__((constructor)) static void gmt_forget_gpu_selection(void) {
  unsetenv("CUDA_VISIBLE_DEVICES");
  unsetenv("NVIDIA_VISIBLE_DEVICES");
}

static const char undo_schema_9[] =
    /* 9: the tables as schema 8 had them (the precision is in their keys,
     * so each is rebuilt without it) */
    "CREATE TABLE bench_phases_8 ("
    "  bench_id INTEGER NOT NULL REFERENCES benches(id),"
    "  model TEXT NOT NULL, batch_size INTEGER NOT NULL,"
    "  kind TEXT NOT NULL, epoch INTEGER NOT NULL, metered INTEGER NOT NULL,"
    "  run_id INTEGER REFERENCES runs(id), phase_idx INTEGER,"
    "  ended_at TEXT NOT NULL, start_s REAL, duration_s REAL NOT NULL,"
    "  steps INTEGER, samples INTEGER, step_time_s REAL, samples_per_s REAL,"
    "  loss REAL, accuracy REAL, lr REAL,"
    "  energy_j REAL, net_energy_j REAL, j_per_sample REAL,"
    "  net_j_per_sample REAL, avg_power_w REAL, peak_power_w REAL,"
    "  provenance TEXT,"
    "  cpu_util_pct REAL, dram_used_bytes REAL, gpu_util_pct REAL,"
    "  vram_used_bytes REAL, tags_json TEXT,"
    "  PRIMARY KEY (bench_id, model, batch_size, kind, epoch, metered));"
    "INSERT INTO bench_phases_8 SELECT bench_id, model, batch_size, kind,"
    "  epoch, metered, run_id, phase_idx, ended_at, start_s, duration_s,"
    "  steps, samples, step_time_s, samples_per_s, loss, accuracy, lr,"
    "  energy_j, net_energy_j, j_per_sample, net_j_per_sample, avg_power_w,"
    "  peak_power_w, provenance, cpu_util_pct, dram_used_bytes,"
    "  gpu_util_pct, vram_used_bytes, tags_json FROM bench_phases;"
    "DROP TABLE bench_phases;"
    "ALTER TABLE bench_phases_8 RENAME TO bench_phases;"
    "CREATE TABLE bench_phase_components_8 ("
    "  bench_id INTEGER NOT NULL, model TEXT NOT NULL,"
    "  batch_size INTEGER NOT NULL, kind TEXT NOT NULL, epoch INTEGER NOT NULL,"
    "  metered INTEGER NOT NULL, component TEXT NOT NULL,"
    "  component_kind TEXT NOT NULL, provenance TEXT NOT NULL,"
    "  in_total INTEGER NOT NULL,"
    "  energy_j REAL, net_energy_j REAL, avg_power_w REAL, peak_power_w REAL,"
    "  PRIMARY KEY (bench_id, model, batch_size, kind, epoch, metered,"
    "               component));"
    "INSERT INTO bench_phase_components_8 SELECT bench_id, model, batch_size,"
    "  kind, epoch, metered, component, component_kind, provenance, in_total,"
    "  energy_j, net_energy_j, avg_power_w, peak_power_w"
    "  FROM bench_phase_components;"
    "DROP TABLE bench_phase_components;"
    "ALTER TABLE bench_phase_components_8 RENAME TO bench_phase_components;"
    "CREATE TABLE bench_predictions_8 ("
    "  bench_id INTEGER NOT NULL REFERENCES benches(id),"
    "  model TEXT NOT NULL, batch_size INTEGER NOT NULL, kind TEXT NOT NULL,"
    "  made_at TEXT NOT NULL, profile_epochs REAL, profile_steps INTEGER,"
    "  target_steps INTEGER, target_samples INTEGER, level REAL,"
    "  duration_s REAL, duration_lo_s REAL, duration_hi_s REAL,"
    "  energy_j REAL, energy_lo_j REAL, energy_hi_j REAL,"
    "  net_energy_j REAL, provenance TEXT,"
    "  actual_duration_s REAL, actual_energy_j REAL,"
    "  duration_error_rel REAL, energy_error_rel REAL,"
    "  PRIMARY KEY (bench_id, model, batch_size, kind));"
    "INSERT INTO bench_predictions_8 SELECT bench_id, model, batch_size, kind,"
    "  made_at, profile_epochs, profile_steps, target_steps, target_samples,"
    "  level, duration_s, duration_lo_s, duration_hi_s, energy_j,"
    "  energy_lo_j, energy_hi_j, net_energy_j, provenance, actual_duration_s,"
    "  actual_energy_j, duration_error_rel, energy_error_rel"
    "  FROM bench_predictions;"
    "DROP TABLE bench_predictions;"
    "ALTER TABLE bench_predictions_8 RENAME TO bench_predictions;";

static const char undo_schemas_5_8[] =
    /* 8 */
    "ALTER TABLE bench_phases DROP COLUMN tags_json;"
    /* 7 */
    "DROP INDEX runs_origin;"
    "DROP INDEX idle_origin;"
    "DROP INDEX benches_origin;"
    "ALTER TABLE runs DROP COLUMN origin_db;"
    "ALTER TABLE runs DROP COLUMN origin_id;"
    "ALTER TABLE idle_baselines DROP COLUMN origin_db;"
    "ALTER TABLE idle_baselines DROP COLUMN origin_id;"
    "ALTER TABLE benches DROP COLUMN origin_db;"
    "ALTER TABLE benches DROP COLUMN origin_id;"
    "DROP TABLE store_meta;"
    /* 6 */
    "ALTER TABLE components DROP COLUMN attributed_j;"
    "ALTER TABLE components DROP COLUMN attributed_net_j;"
    "ALTER TABLE components DROP COLUMN attributed_share_s;"
    "ALTER TABLE components DROP COLUMN attributed_unknown_j;"
    "ALTER TABLE components DROP COLUMN attributed_method;"
    "ALTER TABLE runs DROP COLUMN attributed_to;"
    "ALTER TABLE runs DROP COLUMN attributed_j;"
    "ALTER TABLE runs DROP COLUMN attributed_net_j;"
    "ALTER TABLE runs DROP COLUMN attributed_provenance;"
    "ALTER TABLE runs DROP COLUMN attributed_partial;"
    "ALTER TABLE phases DROP COLUMN attributed_j;"
    "ALTER TABLE phases DROP COLUMN attributed_net_j;"
    /* 5 */
    "DROP TABLE run_missing;"
    "ALTER TABLE runs DROP COLUMN total_partial;"
    "ALTER TABLE runs DROP COLUMN partial_why;"
    "ALTER TABLE phases DROP COLUMN total_partial;"
    "ALTER TABLE components DROP COLUMN glitches;"
    "ALTER TABLE components DROP COLUMN max_power_w;"
    "ALTER TABLE components DROP COLUMN max_power_origin;"
    "ALTER TABLE components DROP COLUMN counter_stopped_at_s;"
    "ALTER TABLE components DROP COLUMN lost_at_s;";

const char *gmt_sql_undo_schema_9(void) { return undo_schema_9; }

const char *gmt_sql_undo_schemas_5_9(void) {
  static char sql[sizeof(undo_schema_9) + sizeof(undo_schemas_5_8)];
  snprintf(sql, sizeof(sql), "%s%s", undo_schema_9, undo_schemas_5_8);
  return sql;
}

/* ---- a PostgreSQL server for the tests ----------------------------------- */

#ifdef GM_TEST_HAVE_POSTGRES
#include <libpq-fe.h>
#endif

static char pg_dir[512];  /* the cluster's directory; "" when not started */
static pid_t pg_owner;    /* the process that started it */
static unsigned pg_count; /* databases named so far */

void gmt_pg_stop(void) {
  if (!pg_dir[0] || getpid() != pg_owner)
    return; /* a forked child leaves the server to its parent */
  char cmd[1200];
  snprintf(cmd, sizeof(cmd), "bash '%s' stop '%s'", GM_TEST_PG_CLUSTER, pg_dir);
  if (system(cmd) != 0)
    fprintf(stderr, "gmt_pg_stop: %s failed\n", cmd);
  pg_dir[0] = '\0';
}

/* The cluster's socket directory, started on first use. */
static const char *pg_socket(void) {
  static char sock[600];
#ifndef GM_TEST_HAVE_POSTGRES
  fail_msg("this greenml was built without libpq: the PostgreSQL store "
           "cannot be tested; run scripts/deps.sh (apt-get install libpq-dev "
           "postgresql) and configure again");
#endif
  if (pg_dir[0])
    return sock;
  char cmd[800];
  snprintf(cmd, sizeof(cmd), "bash '%s' start %ld", GM_TEST_PG_CLUSTER,
           (long)getpid());
  FILE *p = popen(cmd, "r");
  assert_non_null(p);
  char line[512] = "";
  if (!fgets(line, sizeof(line), p))
    line[0] = '\0';
  int st = pclose(p);
  line[strcspn(line, "\n")] = '\0';
  if (st != 0 || !line[0])
    fail_msg("cannot start a PostgreSQL server for the tests (%s); install "
             "it with scripts/deps.sh (apt-get install postgresql libpq-dev)",
             cmd);
  snprintf(pg_dir, sizeof(pg_dir), "%s", line);
  snprintf(sock, sizeof(sock), "%s/sock", pg_dir);
  pg_owner = getpid();
  atexit(gmt_pg_stop);
  return sock;
}

char *gmt_pg_uri(const char *db) {
  const char *sock = pg_socket();
  char *uri = NULL;
  assert_true(
      asprintf(&uri, "postgresql:///%s?host=%s&user=greenml", db, sock) > 0);
  return uri;
}

char *gmt_pg_new_db(const char *prefix) {
  char *db = NULL;
  assert_true(asprintf(&db, "%s_%ld_%u", prefix, (long)getpid(), ++pg_count) >
              0);
  for (char *c = db; *c; c++)
    if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9')))
      *c = '_';
  return db;
}

#ifdef GM_TEST_HAVE_POSTGRES
static PGconn *pg_connect(const char *uri) {
  PGconn *c = PQconnectdb(uri);
  if (PQstatus(c) != CONNECTION_OK)
    fail_msg("cannot connect to %s: %s", uri, PQerrorMessage(c));
  return c;
}

void gmt_pg_exec(const char *uri, const char *sql) {
  PGconn *c = pg_connect(uri);
  PGresult *r = PQexec(c, sql);
  ExecStatusType s = PQresultStatus(r);
  if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK)
    fail_msg("%s on %s: %s", sql, uri, PQerrorMessage(c));
  PQclear(r);
  PQfinish(c);
}

long long gmt_pg_value(const char *uri, const char *sql) {
  PGconn *c = pg_connect(uri);
  PGresult *r = PQexec(c, sql);
  if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) < 1)
    fail_msg("%s on %s: %s", sql, uri, PQerrorMessage(c));
  long long v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
  PQclear(r);
  PQfinish(c);
  return v;
}

bool gmt_pg_db_exists(const char *db) {
  char *uri = gmt_pg_uri("postgres");
  PGconn *c = pg_connect(uri);
  const char *v[1] = {db};
  PGresult *r = PQexecParams(c, "SELECT 1 FROM pg_database WHERE datname = $1",
                             1, NULL, v, NULL, NULL, 0);
  assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
  bool found = PQntuples(r) > 0;
  PQclear(r);
  PQfinish(c);
  free(uri);
  return found;
}

char *gmt_pg_dump(const char *uri, size_t *len) {
  char cmd[1200];
  /* pg_dump of the server's version, from the cluster's bindir */
  snprintf(cmd, sizeof(cmd),
           "for d in /usr/lib/postgresql/*/bin; do [ -x \"$d/pg_dump\" ] && "
           "exec \"$d/pg_dump\" --no-sync '%s'; done; exit 127",
           uri);
  FILE *p = popen(cmd, "r");
  assert_non_null(p);
  size_t cap = 1 << 16, n = 0;
  char *buf = malloc(cap);
  assert_non_null(buf);
  size_t got;
  while ((got = fread(buf + n, 1, cap - n, p)) > 0) {
    n += got;
    if (n == cap) {
      cap *= 2;
      buf = realloc(buf, cap);
      assert_non_null(buf);
    }
  }
  assert_int_equal(pclose(p), 0);
  /* pg_dump's \restrict and \unrestrict lines carry a random key: not
   * part of the database */
  size_t o = 0;
  for (size_t i = 0; i < n;) {
    size_t e = i;
    while (e < n && buf[e] != '\n')
      e++;
    if (e < n)
      e++;
    bool keyed = (e - i > 10 && memcmp(buf + i, "\\restrict ", 10) == 0) ||
                 (e - i > 12 && memcmp(buf + i, "\\unrestrict ", 12) == 0);
    if (!keyed) {
      memmove(buf + o, buf + i, e - i);
      o += e - i;
    }
    i = e;
  }
  *len = o;
  return buf;
}
#else
void gmt_pg_exec(const char *uri, const char *sql) {
  (void)uri;
  (void)sql;
  pg_socket();
}

long long gmt_pg_value(const char *uri, const char *sql) {
  (void)uri;
  (void)sql;
  pg_socket();
  return 0;
}

bool gmt_pg_db_exists(const char *db) {
  (void)db;
  pg_socket();
  return false;
}

char *gmt_pg_dump(const char *uri, size_t *len) {
  (void)uri;
  *len = 0;
  pg_socket();
  return NULL;
}
#endif

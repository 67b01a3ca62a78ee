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

const char gmt_sql_undo_schemas_5_7[] =
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

/* meter_only.c: a program that only meters and stores, built by
 * tests/cli/install_check.sh against an installed greenml (pkg-config
 * greenml, public headers only) to show that it needs libgreenml and nothing
 * of the training, data or statistics libraries.
 *
 *   meter_only DB
 *
 * Opens (creates) the database DB, meters for about 0.3 s without NVML,
 * prints one line per component, "NAME PROVENANCE ENERGY_J", and the
 * database's schema version. The roots of /sys, /proc and /dev come from
 * GREENML_SYSFS, GREENML_PROCFS and GREENML_DEVFS: the test points them at a
 * fake machine whose /proc/stat this program advances half-way through, as
 * a busy CPU would, so that the CPU model has a utilisation to work with.
 * Exit status 0, or 1 with a message on stderr. */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <greenml/meter.h>
#include <greenml/store.h>

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* 100 more jiffies of user time on the one CPU of the fake /proc/stat, and
 * no idle time: 100 % utilisation over the interval that sees it. The meter
 * keeps the file open, as it would the real /proc/stat, so the bytes are
 * replaced in place, at the same length, in one write. */
static int advance_proc_stat(void) {
  static const char stat[] = "cpu  200 0 100 800 0 0 0 0 0 0\n"
                             "cpu0 200 0 100 800 0 0 0 0 0 0\n";
  const char *proc = getenv("GREENML_PROCFS");
  if (!proc)
    return 0;
  char path[1024];
  snprintf(path, sizeof(path), "%s/stat", proc);
  int fd = open(path, O_WRONLY);
  if (fd < 0)
    return -1;
  ssize_t n = pwrite(fd, stat, sizeof(stat) - 1, 0);
  close(fd);
  return n == (ssize_t)(sizeof(stat) - 1) ? 0 : -1;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: meter_only DB\n");
    return 1;
  }
  struct gm_store *st = NULL;
  char err[256] = "";
  enum gm_status rc = gm_store_open(argv[1], &st, err, sizeof(err));
  if (rc != GM_OK) {
    fprintf(stderr, "meter_only: %s: %s\n", gm_status_str(rc), err);
    return 1;
  }

  struct gm_meter_config cfg = gm_meter_config_default();
  cfg.no_gpu = true;
  cfg.interval_ns = 50 * 1000000LL;
  struct gm_meter *m = NULL;
  rc = gm_meter_create(&cfg, &m);
  if (rc != GM_OK) {
    fprintf(stderr, "meter_only: %s\n", gm_status_str(rc));
    gm_store_close(st);
    return 1;
  }
  int ok = gm_meter_start(m) == GM_OK;
  sleep_ms(150);
  ok = ok && advance_proc_stat() == 0;
  sleep_ms(150);
  ok = gm_meter_stop(m) == GM_OK && ok;
  if (!ok)
    fprintf(stderr, "meter_only: %s\n", gm_meter_last_error(m));
  for (size_t i = 0; ok && i < gm_meter_component_count(m); i++) {
    const struct gm_component_info *c = gm_meter_component(m, i);
    struct gm_component_stats s;
    if (gm_meter_stats(m, i, &s) != GM_OK) {
      ok = 0;
      break;
    }
    printf("%s %s %.9f\n", c->name, gm_provenance_name(c->provenance),
           s.energy_j);
  }
  printf("duration_s %.9f\n", gm_meter_duration_s(m));
  printf("schema %d\n", gm_store_schema_version(st));
  gm_meter_destroy(m);
  gm_store_close(st);
  return ok ? 0 : 1;
}

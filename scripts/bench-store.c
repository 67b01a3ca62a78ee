/* bench-store.c: samples a second written by gm_store_add_sample and
 * gm_store_commit into a store (scripts/bench-store.sh runs it against
 * SQLite and PostgreSQL). usage: bench-store LOCATION [SAMPLES] [COMPONENTS]
 * Prints one line: the store, the samples, the seconds, samples/s. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "greenml/store.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: bench-store LOCATION [SAMPLES] [COMPONENTS]\n");
    return 64;
  }
  long n = argc > 2 ? atol(argv[2]) : 100000;
  int nc = argc > 3 ? atoi(argv[3]) : 4;
  if (n <= 0 || nc <= 0 || nc > 64)
    return 64;
  struct gm_store *st = NULL;
  char err[512] = "";
  if (gm_store_open(argv[1], &st, err, sizeof(err)) != GM_OK) {
    fprintf(stderr, "bench-store: %s\n", err);
    return 1;
  }
  struct gm_host h;
  memset(&h, 0, sizeof(h));
  snprintf(h.fingerprint, sizeof(h.fingerprint), "bench-store");
  struct gm_component_info c[64];
  memset(c, 0, sizeof(c));
  for (int i = 0; i < nc; i++) {
    snprintf(c[i].name, sizeof(c[i].name), "c%d", i);
    snprintf(c[i].source, sizeof(c[i].source), "bench");
    c[i].kind = GM_KIND_CPU;
    c[i].domain = GM_DOMAIN_PACKAGE;
    c[i].provenance = GM_PROV_MEASURED_COUNTER;
    c[i].in_total = true;
  }
  struct gm_run_meta meta = {.kind = "measure", .interval_s = 0.001};
  int64_t host = 0, run = 0;
  if (gm_store_put_host(st, &h, &host) != GM_OK ||
      gm_store_begin_run(st, host, &meta, (size_t)nc, c, 0, NULL, &run) !=
          GM_OK) {
    fprintf(stderr, "bench-store: %s\n", gm_store_last_error(st));
    return 1;
  }
  double e[64], w[64];
  double t0 = now_s();
  for (long s = 0; s < n; s++) {
    for (int i = 0; i < nc; i++) {
      e[i] = (double)s * 0.001 * (i + 1);
      w[i] = 10.0 * (i + 1) + (double)(s % 7);
    }
    struct gm_sample smp = {.seq = (uint64_t)s,
                            .t_ns = s * 1000000,
                            .n_components = (size_t)nc,
                            .energy_j = e,
                            .power_w = w};
    if (gm_store_add_sample(st, run, &smp) != GM_OK)
      return 1;
    /* as the meter's writer does: a commit every 1,000 samples */
    if (s % 1000 == 999 && gm_store_commit(st) != GM_OK)
      return 1;
  }
  /* what is left, however long it takes */
  struct gm_store_sample_tally t;
  do {
    if (gm_store_commit(st) != GM_OK) {
      fprintf(stderr, "bench-store: %s\n", gm_store_last_error(st));
      return 1;
    }
    gm_store_sample_tally(st, run, &t);
  } while (t.pending);
  double dt = now_s() - t0;
  printf("%-8s %ld samples x %d components in %.3f s: %.0f samples/s\n",
         gm_store_kind(st), n, nc, dt, (double)n / dt);
  gm_store_close(st);
  return t.stored == (uint64_t)n ? 0 : 1;
}

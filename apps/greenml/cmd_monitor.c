/* cmd_monitor.c: `greenml monitor`: live per-component power averaged over
 * a window (the last second, or the refresh period when longer) and its
 * total, refreshed in place on a terminal, one line per refresh otherwise.
 * The window mean is the difference of two cumulative energies of the
 * meter's live view over the difference of their times, so it is exact
 * whatever the single sampling intervals show. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "greenml/energy.h"

#define WINDOW_NS INT64_C(1000000000)

static const char usage_text[] =
    "usage: greenml monitor [--refresh DUR] [--duration DUR] [options]\n"
    "\n"
    "Shows live power per component (mean over the last second, or over the\n"
    "refresh period when longer), energy since start and provenance, and\n"
    "their total over the components that add up (cores, uncore and psys\n"
    "lie inside others) with its provenance: measured, modelled or mixed.\n"
    "Runs until interrupted (Ctrl-C). When stdout is not a terminal, one\n"
    "line per refresh: t=SECONDS NAME=WATTS[provenance] ... total=WATTS[...].\n"
    "\n"
    "  --refresh DUR        display refresh period (default 1s)\n"
    "  --duration DUR       stop after DUR\n" GM_CLI_METER_HELP;

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig) {
  (void)sig;
  stop_flag = 1;
}

/* The live view at past refreshes: t[k] and e[k * nc ...], oldest first
 * from head - n (a ring of cap entries). */
struct history {
  size_t nc, cap, n, head;
  double *t, *e;
};

/* Mean power per component over the window ending at (t, e): from the
 * latest stored view at least window_s - tol_s older, else the oldest; the
 * last interval's power p when no time has passed. Then stores (t, e). */
static void window_power(struct history *h, double t, const double *e,
                         const double *p, double window_s, double tol_s,
                         double *out_w, double *used_s) {
  size_t base = SIZE_MAX;
  for (size_t k = 0; k < h->n; k++) {
    size_t i = (h->head + h->cap - h->n + k) % h->cap;
    if (base == SIZE_MAX || h->t[i] <= t - window_s + tol_s)
      base = i;
  }
  double dt = base == SIZE_MAX ? 0 : t - h->t[base];
  for (size_t c = 0; c < h->nc; c++)
    out_w[c] = dt > 0 ? (e[c] - h->e[base * h->nc + c]) / dt : p[c];
  *used_s = dt;
  h->t[h->head] = t;
  memcpy(h->e + h->head * h->nc, e, h->nc * sizeof(double));
  h->head = (h->head + 1) % h->cap;
  if (h->n < h->cap)
    h->n++;
}

int cmd_monitor(int argc, char **argv) {
  struct gm_cli_meter_opts mo;
  gm_cli_meter_opts_init(&mo);
  int64_t refresh_ns = INT64_C(1000000000), dur_ns = 0;
  enum { O_REFRESH = GM_OPT_FIRST_FREE, O_DURATION };
  static const struct option longopts[] = {{"refresh", 1, 0, O_REFRESH},
                                           {"duration", 1, 0, O_DURATION},
                                           {"help", 0, 0, 'h'},
                                           GM_CLI_METER_LONGOPTS,
                                           {0}};
  int opt;
  optind = 1;
  while ((opt = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
    int r = gm_cli_meter_opt(&mo, opt, optarg, "monitor");
    if (r < 0)
      return GM_CLI_OPT_EXIT(r);
    if (r > 0)
      continue;
    if (opt == O_REFRESH || opt == O_DURATION) {
      int64_t v;
      if (!gm_cli_parse_duration(optarg, &v) || v < 10 * INT64_C(1000000)) {
        gm_cli_error("monitor", "--%s '%s' is not a duration of at least 10ms",
                     opt == O_REFRESH ? "refresh" : "duration", optarg);
        return GM_EXIT_USAGE;
      }
      if (opt == O_REFRESH)
        refresh_ns = v;
      else
        dur_ns = v;
    } else if (opt == 'h') {
      fputs(usage_text, stdout);
      return 0;
    } else {
      fputs(usage_text, stderr);
      return GM_EXIT_USAGE;
    }
  }
  if (optind < argc) {
    gm_cli_error("monitor", "unexpected argument '%s'", argv[optind]);
    return GM_EXIT_USAGE;
  }
  struct gm_meter_config cfg = gm_cli_meter_config(&mo);
  struct gm_meter *m = NULL;
  if (gm_meter_create(&cfg, &m) != GM_OK) {
    gm_cli_error("monitor", "cannot create the meter");
    return GM_EXIT_SOFTWARE;
  }
  size_t nc = gm_meter_component_count(m), n1 = nc ? nc : 1;
  /* The window: 1 s, or the refresh period when longer; a view counts as
   * old enough within half a sampling interval (ticks are not aligned with
   * refreshes). */
  int64_t window_ns = refresh_ns > WINDOW_NS ? refresh_ns : WINDOW_NS;
  double window_s = (double)window_ns / 1e9;
  double tol_s = (double)cfg.interval_ns / 2e9;
  struct history h = {.nc = nc, .cap = (size_t)(window_ns / refresh_ns) + 3};
  h.t = calloc(h.cap, sizeof(double));
  h.e = calloc(h.cap * n1, sizeof(double));
  double *e = calloc(n1, sizeof(double));
  double *p = calloc(n1, sizeof(double));
  double *w = calloc(n1, sizeof(double));
  struct gm_energy_part *parts = calloc(n1, sizeof(*parts));
  if (!e || !p || !w || !parts || !h.t || !h.e) {
    free(e);
    free(p);
    free(w);
    free(parts);
    free(h.t);
    free(h.e);
    gm_meter_destroy(m);
    return GM_EXIT_SOFTWARE;
  }
  h.n = 1; /* at the start (t = 0) every cumulative energy is 0 */
  h.head = 1 % h.cap;
  for (size_t i = 0; i < nc; i++) {
    parts[i].provenance = gm_meter_component(m, i)->provenance;
    parts[i].in_total = gm_meter_component(m, i)->in_total;
    parts[i].idle_w = NAN;
  }
  struct sigaction sa = {0};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  bool tty = isatty(STDOUT_FILENO);
  gm_meter_start(m);
  bool first = true;
  if (!tty)
    printf("# greenml monitor: power is the mean over the last %.1f s; total "
           "sums the components that add up\n",
           window_s);
  while (!stop_flag) {
    /* With --duration, the last wait ends when DUR has elapsed. */
    int64_t wait_ns = refresh_ns;
    if (dur_ns > 0) {
      int64_t left = dur_ns - (int64_t)(gm_meter_duration_s(m) * 1e9);
      if (left < wait_ns)
        wait_ns = left > 0 ? left : 0;
    }
    struct timespec ts = {.tv_sec = wait_ns / 1000000000,
                          .tv_nsec = wait_ns % 1000000000};
    while (!stop_flag && nanosleep(&ts, &ts) != 0 && errno == EINTR)
      ;
    double t, used_s, total_w = 0;
    gm_meter_live(m, e, p, &t);
    window_power(&h, t, e, p, window_s, tol_s, w, &used_s);
    for (size_t i = 0; i < nc; i++) {
      parts[i].gross_j = e[i];
      if (parts[i].in_total)
        total_w += w[i];
    }
    struct gm_energy_total tot;
    gm_energy_account(parts, nc, t, &tot);
    if (tty) {
      char en[32], prov[64];
      if (!first)
        printf("\033[%zuA", nc + 3);
      printf("\033[K greenml monitor: %.1f s elapsed, power averaged over the "
             "last %.1f s (Ctrl-C to stop)\n",
             t, used_s);
      printf("\033[K %-12s %10s %13s  %s\n", "component", "power", "energy",
             "provenance");
      for (size_t i = 0; i < nc; i++) {
        const struct gm_component_info *ci = gm_meter_component(m, i);
        gm_cli_fmt_energy(en, sizeof(en), e[i]);
        gm_cli_fmt_provenance(prov, sizeof(prov), ci);
        printf("\033[K %-12s %8.2f W %13s  %s, %s%s\n", ci->name, w[i], en,
               prov, ci->source, ci->in_total ? "" : " (not in total)");
      }
      gm_cli_fmt_energy(en, sizeof(en), tot.gross_j);
      printf("\033[K %-12s %8.2f W %13s  %s\n", "total", total_w, en,
             tot.provenance);
    } else {
      printf("t=%.3fs", t);
      for (size_t i = 0; i < nc; i++)
        printf(" %s=%.3fW[%s]", gm_meter_component(m, i)->name, w[i],
               gm_provenance_name(gm_meter_component(m, i)->provenance));
      printf(" total=%.3fW[%s]\n", total_w, tot.provenance);
    }
    /* a reader gone (monitor | head): stop; main says so and exits 74 */
    if (fflush(stdout) != 0 || ferror(stdout))
      break;
    first = false;
    if (dur_ns > 0 && gm_meter_duration_s(m) * 1e9 >= (double)dur_ns)
      break;
  }
  gm_meter_stop(m);
  free(e);
  free(p);
  free(w);
  free(parts);
  free(h.t);
  free(h.e);
  gm_meter_destroy(m);
  return 0;
}

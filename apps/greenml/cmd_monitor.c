/* cmd_monitor.c: `greenml monitor`: live per-component power, refreshed in
 * place on a terminal, one line per refresh otherwise. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static const char usage_text[] =
    "usage: greenml monitor [--refresh DUR] [--duration DUR] [options]\n"
    "\n"
    "Shows live power per component (mean over the last sampling interval),\n"
    "energy since start and provenance, until interrupted (Ctrl-C).\n"
    "\n"
    "  --refresh DUR        display refresh period (default 1s)\n"
    "  --duration DUR       stop after DUR\n" GM_CLI_METER_HELP;

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig) {
  (void)sig;
  stop_flag = 1;
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
  size_t nc = gm_meter_component_count(m);
  double *e = calloc(nc ? nc : 1, sizeof(double));
  double *p = calloc(nc ? nc : 1, sizeof(double));
  if (!e || !p) {
    free(e);
    free(p);
    gm_meter_destroy(m);
    return GM_EXIT_SOFTWARE;
  }
  struct sigaction sa = {0};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  bool tty = isatty(STDOUT_FILENO);
  gm_meter_start(m);
  bool first = true;
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
    double t;
    gm_meter_live(m, e, p, &t);
    if (tty) {
      if (!first)
        printf("\033[%zuA", nc + 2);
      printf("\033[K greenml monitor: %.1f s elapsed (Ctrl-C to stop)\n", t);
      printf("\033[K %-12s %10s %13s  %s\n", "component", "power", "energy",
             "provenance");
      for (size_t i = 0; i < nc; i++) {
        const struct gm_component_info *ci = gm_meter_component(m, i);
        char en[32], prov[64];
        gm_cli_fmt_energy(en, sizeof(en), e[i]);
        gm_cli_fmt_provenance(prov, sizeof(prov), ci);
        printf("\033[K %-12s %8.2f W %13s  %s, %s\n", ci->name, p[i], en, prov,
               ci->source);
      }
    } else {
      printf("t=%.3fs", t);
      for (size_t i = 0; i < nc; i++)
        printf(" %s=%.3fW[%s]", gm_meter_component(m, i)->name, p[i],
               gm_provenance_name(gm_meter_component(m, i)->provenance));
      printf("\n");
    }
    fflush(stdout);
    first = false;
    if (dur_ns > 0 && gm_meter_duration_s(m) * 1e9 >= (double)dur_ns)
      break;
  }
  gm_meter_stop(m);
  free(e);
  free(p);
  gm_meter_destroy(m);
  return 0;
}

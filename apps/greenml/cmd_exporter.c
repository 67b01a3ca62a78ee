/* cmd_exporter.c: `greenml exporter`: a meter sampling until SIGINT or
 * SIGTERM, served to Prometheus by libgreenml-exporter (exporter.h). The
 * command parses flags, chooses the baseline's database, says where it
 * listens and maps errors to exit codes; what is served and how is the
 * library's. Built into greenml-exporter and greenml-study, never into
 * `greenml` itself, which runs it through greenml-exporter (main.c). */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "greenml/exporter.h"

/* An exporter's readings change once per interval and are scraped every
 * 15 to 60 s: a second keeps its own cost low (bench-exporter.sh) and a
 * dashboard's rate() over a minute exact to a few per cent at worst. */
#define EXPORTER_INTERVAL_NS INT64_C(1000000000)

static const char usage_head[] =
    "usage: greenml exporter [--listen ADDR:PORT] [--idle auto|none] [--db "
    "PATH] [options]\n"
    "\n"
    "Serves the meter's live readings to Prometheus at\n"
    "http://ADDR:PORT/metrics until SIGINT or SIGTERM (then exits 0): energy\n"
    "per component since the start (a counter: rate() of it is the power),\n"
    "the latest interval's power, provenance and whether a component adds to\n"
    "the machine's total, the health of its readings, the sources found but\n"
    "not measurable, the idle baseline, utilisation, memory, GPU\n"
    "temperature and clocks. A scrape copies what the meter has; the meter\n"
    "samples once per interval however often it is scraped. OpenMetrics is\n"
    "served when the request's Accept header asks for it. Exit 69 when the\n"
    "address cannot be listened on (in use, not this machine's, a port\n"
    "below 1024 without the capability).\n"
    "\n"
    "  --listen ADDR:PORT   address to serve "
    "(default " GM_EXPORTER_DEFAULT_LISTEN ";\n"
    "                       [ADDR]:PORT for IPv6, :PORT for every IPv4\n"
    "                       address; port 0 takes a free one, printed at\n"
    "                       start)\n"
    "  --idle auto|none     show the idle power of each component that the\n"
    "                       host's newest stored baseline applies to, as\n"
    "                       'measure --idle auto' subtracts it (default auto;\n"
    "                       none without a database or a baseline), or none\n"
    "  --db PATH            the database of the baseline (default\n"
    "                       $XDG_DATA_HOME/greenml/greenml.db); nothing is\n"
    "                       created when it does not exist\n"
    "  --attribute WHAT     runs,jobs (default), runs, jobs or none: besides\n"
    "                       the machine, what each 'greenml measure' running\n"
    "                       here (label run_pid, command, tags) and each\n"
    "                       Slurm job (cgroup v2 job_ID, label job_id) is\n"
    "                       charged, by the rules of 'measure' (searched\n"
    "                       for every 5 s)\n"
    "  --interval DUR       sampling period (default 1s; 1ms .. 60s)\n";

static void usage(FILE *f) {
  fputs(usage_head, f);
  /* the shared meter flags, less their --interval line (its default is
   * another here) */
  const char *rest = GM_CLI_METER_HELP;
  if (strncmp(rest, "  --interval", 12) == 0 && strchr(rest, '\n'))
    rest = strchr(rest, '\n') + 1;
  fputs(rest, f);
}

int cmd_exporter(int argc, char **argv) {
  struct gm_cli_meter_opts mo;
  gm_cli_meter_opts_init(&mo);
  mo.interval_ns = EXPORTER_INTERVAL_NS;
  const char *listen = GM_EXPORTER_DEFAULT_LISTEN, *db = NULL;
  bool idle_auto = true;
  unsigned attribute = GM_EXPORTER_RUN | GM_EXPORTER_JOB;
  enum { O_LISTEN = GM_OPT_FIRST_FREE, O_IDLE, O_ATTRIBUTE };
  static const struct option longopts[] = {{"listen", 1, 0, O_LISTEN},
                                           {"idle", 1, 0, O_IDLE},
                                           {"attribute", 1, 0, O_ATTRIBUTE},
                                           {"db", 1, 0, GM_OPT_DB},
                                           {"help", 0, 0, 'h'},
                                           GM_CLI_METER_LONGOPTS,
                                           {0}};
  int opt;
  optind = 1;
  while ((opt = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
    int r = gm_cli_meter_opt(&mo, opt, optarg, "exporter");
    if (r < 0)
      return GM_CLI_OPT_EXIT(r);
    if (r > 0)
      continue;
    if (opt == O_LISTEN) {
      char err[512];
      if (gm_exporter_listen_check(optarg, err, sizeof(err)) != GM_OK) {
        gm_cli_error("exporter", "--listen: %s", err);
        return GM_EXIT_USAGE;
      }
      listen = optarg;
    } else if (opt == O_IDLE) {
      if (strcmp(optarg, "auto") != 0 && strcmp(optarg, "none") != 0) {
        gm_cli_error("exporter", "--idle '%s' must be auto or none", optarg);
        return GM_EXIT_USAGE;
      }
      idle_auto = strcmp(optarg, "auto") == 0;
    } else if (opt == O_ATTRIBUTE) {
      if (strcmp(optarg, "runs,jobs") == 0 || strcmp(optarg, "jobs,runs") == 0)
        attribute = GM_EXPORTER_RUN | GM_EXPORTER_JOB;
      else if (strcmp(optarg, "runs") == 0)
        attribute = GM_EXPORTER_RUN;
      else if (strcmp(optarg, "jobs") == 0)
        attribute = GM_EXPORTER_JOB;
      else if (strcmp(optarg, "none") == 0)
        attribute = 0;
      else {
        gm_cli_error("exporter",
                     "--attribute '%s' must be runs,jobs, runs, jobs or none",
                     optarg);
        return GM_EXIT_USAGE;
      }
    } else if (opt == GM_OPT_DB) {
      db = optarg;
    } else if (opt == 'h') {
      usage(stdout);
      return 0;
    } else {
      usage(stderr);
      return GM_EXIT_USAGE;
    }
  }
  if (optind < argc) {
    gm_cli_error("exporter", "unexpected argument '%s'", argv[optind]);
    return GM_EXIT_USAGE;
  }
  if (!gm_cli_db_given("exporter", db))
    return GM_EXIT_USAGE;
  char def[4096];
  if (!db && idle_auto) {
    if (!gm_store_default_location(def, sizeof(def))) {
      gm_cli_error("exporter", "the default database path is too long; "
                               "pass --db PATH or --idle none");
      return GM_EXIT_USAGE;
    }
    db = def;
  }

  /* SIGINT and SIGTERM are taken by sigwait in this thread alone: blocked
   * before any thread starts, so every thread inherits the mask. */
  sigset_t stop_set;
  sigemptyset(&stop_set);
  sigaddset(&stop_set, SIGINT);
  sigaddset(&stop_set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_set, NULL);

  struct gm_meter_config cfg = gm_cli_meter_config(&mo);
  struct gm_meter *m = NULL;
  if (gm_meter_create(&cfg, &m) != GM_OK) {
    gm_cli_error("exporter", "cannot create the meter");
    return GM_EXIT_SOFTWARE;
  }
  struct gm_idle_baseline *base = NULL;
  char note[1024] = "";
  if (idle_auto) {
    enum gm_status rc =
        gm_exporter_load_baseline(m, db, &base, note, sizeof(note));
    if (rc != GM_OK && rc != GM_ERR_NOT_FOUND) {
      gm_cli_error("exporter", "%s", note);
      gm_meter_destroy(m);
      if (rc == GM_ERR_SCHEMA_NEWER || rc == GM_ERR_PARSE)
        return GM_EXIT_DATAERR;
      return rc == GM_ERR_UNSUPPORTED || rc == GM_ERR_INVALID_ARG
                 ? GM_EXIT_USAGE
                 : GM_EXIT_IOERR;
    }
  }
  if (gm_meter_start(m) != GM_OK) {
    gm_cli_error("exporter", "cannot start the meter: %s",
                 gm_meter_last_error(m));
    gm_idle_baseline_free(base);
    gm_meter_destroy(m);
    return GM_EXIT_SOFTWARE;
  }
  struct gm_exporter_config ec = gm_exporter_config_default();
  ec.listen = listen;
  ec.baseline = base;
  ec.interval_s = (double)mo.interval_ns / 1e9;
  ec.attribute = attribute;
  struct gm_exporter *e = NULL;
  char err[512];
  enum gm_status rc = gm_exporter_start(m, &ec, &e, err, sizeof(err));
  if (rc != GM_OK) {
    int code = GM_EXIT_SOFTWARE;
    if (rc == GM_ERR_UNAVAILABLE || rc == GM_ERR_PERMISSION) {
      gm_cli_error("exporter",
                   "%s; choose another address with --listen "
                   "ADDR:PORT",
                   err);
      code = GM_EXIT_UNAVAIL;
    } else if (rc == GM_ERR_INVALID_ARG) {
      gm_cli_error("exporter", "--listen: %s", err);
      code = GM_EXIT_USAGE;
    } else {
      gm_cli_error("exporter", "%s", err);
    }
    gm_meter_stop(m);
    gm_idle_baseline_free(base);
    gm_meter_destroy(m);
    return code;
  }

  struct gm_exporter_snapshot s;
  size_t applies = 0, nc = gm_meter_component_count(m);
  if (base && gm_exporter_snapshot_take(m, base, &s) == GM_OK) {
    for (size_t i = 0; i < s.n_components; i++)
      applies += !isnan(s.components[i].idle_w);
    gm_exporter_snapshot_release(&s);
  }
  fprintf(stderr,
          "greenml exporter: serving http://%s/metrics (%zu component%s, "
          "%zu missing; sampling every %g s)\n",
          gm_exporter_address(e), nc, nc == 1 ? "" : "s",
          gm_meter_missing_count(m), (double)mo.interval_ns / 1e9);
  if (base)
    fprintf(stderr,
            "greenml exporter: idle baseline #%lld (measured %s) applies to "
            "%zu of %zu components\n",
            (long long)base->id, base->measured_at, applies, nc);
  else if (idle_auto)
    fprintf(stderr, "greenml exporter: %s\n", note);
  fflush(stderr);

  for (;;) {
    int sig = sigwaitinfo(&stop_set, NULL);
    if (sig == SIGINT || sig == SIGTERM)
      break;
    if (sig < 0 && errno != EINTR)
      break;
  }
  uint64_t scrapes = gm_exporter_scrapes(e);
  gm_exporter_stop(e);
  gm_meter_stop(m);
  fprintf(stderr, "greenml exporter: stopped after %llu scrape%s\n",
          (unsigned long long)scrapes, scrapes == 1 ? "" : "s");
  gm_idle_baseline_free(base);
  gm_meter_destroy(m);
  return 0;
}

/* cmd_idle.c: `greenml idle [--duration D]`: measures the mean and spread of
 * idle power per component (gm_idle_measure, idle.h) and stores it for this
 * host. `measure` subtracts it (mean idle power x run duration, per
 * component; energy.h). Also the idle step that `measure --idle DUR` and
 * `bench` share: gm_cli_measure_idle. */
#define _GNU_SOURCE
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "greenml/idle.h"

static const char usage_text[] =
    "usage: greenml idle [--duration DUR] [--db PATH | --no-db] [options]\n"
    "\n"
    "Measures the idle power of every component (mean and standard\n"
    "deviation of the interval power) while nothing else should run, and\n"
    "stores it as this host's baseline. 'greenml measure' subtracts mean idle\n"
    "power x run duration from each component's energy.\n"
    "\n"
    "  --duration DUR       how long to measure (default 30s)\n"
    "  --db PATH            database (default "
    "$XDG_DATA_HOME/greenml/greenml.db)\n"
    "  --no-db              print the baseline without storing it\n"
    "  --show               print the stored baseline and exit\n"
    "  --force-busy         store the baseline even when the CPU was busy\n"
    "                       while it was measured (flagged as busy)\n"
    "\n"
    "The baseline records what it was measured with (each component's\n"
    "source and detail: the device, or the model with its constants; the\n"
    "interval and model flags) and applies only to runs measured the same\n"
    "way. With the CPU 10 % busy or more during the measurement it is not\n"
    "stored (exit 75) unless --force-busy is given.\n" GM_CLI_METER_HELP;

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig) {
  (void)sig;
  interrupted = 1;
}

void gm_cli_print_idle(FILE *f, const struct gm_idle_baseline *b) {
  fprintf(f, "idle baseline #%lld, measured %s over %.1f s:\n",
          (long long)b->id, b->measured_at, b->duration_s);
  for (size_t i = 0; i < b->n; i++) {
    const struct gm_idle_entry *e = &b->entries[i];
    fprintf(f, "  %-12s %-14s %9.3f W mean  %8.3f W sd  [%s]\n", e->name,
            e->source, e->mean_power_w, e->sd_power_w,
            strstr(e->source, "model") ? "modelled" : "measured");
    fprintf(f, "  %-12s %s\n", "",
            e->detail[0] ? e->detail : "(configuration not recorded)");
  }
  char with[160] = "";
  size_t len = 0;
  if (b->interval_s > 0)
    len += (size_t)snprintf(with + len, sizeof(with) - len, "interval %g ms",
                            b->interval_s * 1e3);
  if (b->cpu_tdp_w > 0 && len < sizeof(with))
    len += (size_t)snprintf(with + len, sizeof(with) - len, ", --cpu-tdp %g",
                            b->cpu_tdp_w);
  if (b->dimm_capacitance_f > 0 && len < sizeof(with))
    snprintf(with + len, sizeof(with) - len, ", --dimm-capacitance %g",
             b->dimm_capacitance_f);
  if (with[0])
    fprintf(f, "  measured with %s\n", with);
  if (isnan(b->cpu_util_pct))
    fprintf(f, "  CPU utilisation during the measurement: unknown\n");
  else
    fprintf(f,
            "  CPU utilisation during the measurement: %.1f %% (busy from "
            "%.0f %%)%s\n",
            b->cpu_util_pct, GM_IDLE_BUSY_PCT,
            b->busy ? ": BUSY, stored with --force-busy or by a bench; net "
                      "energies from it are too low"
                    : "");
}

void gm_cli_idle_command(char *buf, size_t size,
                         const struct gm_cli_meter_opts *mo) {
  size_t len = (size_t)snprintf(buf, size, "greenml idle");
  if (mo->cpu_tdp_w > 0 && len < size)
    len +=
        (size_t)snprintf(buf + len, size - len, " --cpu-tdp %g", mo->cpu_tdp_w);
  if (mo->dimm_capacitance_f > 0 && len < size)
    len += (size_t)snprintf(buf + len, size - len, " --dimm-capacitance %g",
                            mo->dimm_capacitance_f);
  if (mo->dmidecode_file && len < size)
    len += (size_t)snprintf(buf + len, size - len,
                            strpbrk(mo->dmidecode_file, " \t'\"$\\")
                                ? " --dmidecode '%s'"
                                : " --dmidecode %s",
                            mo->dmidecode_file);
  if (mo->no_gpu && len < size)
    snprintf(buf + len, size - len, " --no-gpu");
}

static bool stop_requested(void *ctx) {
  (void)ctx;
  return interrupted != 0;
}

int gm_cli_measure_idle(const char *cmd, const struct gm_cli_meter_opts *mo,
                        int64_t dur_ns, bool force_busy, struct gm_store *st,
                        int64_t host_id, struct gm_idle_baseline **out) {
  *out = NULL;
  struct gm_meter_config cfg = gm_cli_meter_config(mo);
  fprintf(stderr,
          "greenml %s: measuring idle power for %.1f s; keep the machine "
          "quiet\n",
          cmd, (double)dur_ns / 1e9);
  struct sigaction sa = {0}, old_int, old_term;
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);
  interrupted = 0;
  struct gm_idle_baseline *b = NULL;
  char err[256];
  enum gm_status rc =
      gm_idle_measure(&cfg, dur_ns, stop_requested, NULL, &b, err, sizeof(err));
  sigaction(SIGINT, &old_int, NULL);
  sigaction(SIGTERM, &old_term, NULL);
  if (rc == GM_ERR_INTERRUPTED) {
    gm_cli_error(cmd, "interrupted: no baseline stored");
    return 130;
  }
  if (rc != GM_OK) {
    gm_cli_error(cmd, "%s", err);
    return GM_EXIT_SOFTWARE;
  }
  if (b->busy && !force_busy) {
    gm_cli_error(cmd,
                 "the CPU was %.0f %% busy during the idle measurement "
                 "(threshold %.0f %%): no baseline stored; stop other work "
                 "and measure again, or pass --force-busy to store it "
                 "flagged as busy",
                 b->cpu_util_pct, GM_IDLE_BUSY_PCT);
    gm_idle_baseline_free(b);
    return GM_EXIT_TEMPFAIL;
  }
  if (b->busy)
    gm_cli_error(cmd,
                 "warning: the CPU was %.0f %% busy during the idle "
                 "measurement (threshold %.0f %%); stored flagged as busy "
                 "(--force-busy): net energies from it are too low",
                 b->cpu_util_pct, GM_IDLE_BUSY_PCT);
  if (st) {
    int64_t id = 0;
    if (gm_store_save_idle(st, host_id, 0, b, &id) != GM_OK) {
      gm_cli_error(cmd, "%s", gm_store_last_error(st));
      gm_idle_baseline_free(b);
      return GM_EXIT_IOERR;
    }
    b->id = id;
  }
  *out = b;
  return 0;
}

int cmd_idle(int argc, char **argv) {
  struct gm_cli_meter_opts mo;
  gm_cli_meter_opts_init(&mo);
  int64_t dur_ns = 30 * INT64_C(1000000000);
  const char *db = NULL;
  bool no_db = false, show = false, force_busy = false;
  enum { O_DURATION = GM_OPT_FIRST_FREE, O_DB, O_NO_DB, O_SHOW, O_FORCE_BUSY };
  static const struct option longopts[] = {{"duration", 1, 0, O_DURATION},
                                           {"db", 1, 0, O_DB},
                                           {"no-db", 0, 0, O_NO_DB},
                                           {"show", 0, 0, O_SHOW},
                                           {"force-busy", 0, 0, O_FORCE_BUSY},
                                           {"help", 0, 0, 'h'},
                                           GM_CLI_METER_LONGOPTS,
                                           {0}};
  int opt;
  optind = 1;
  while ((opt = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
    int r = gm_cli_meter_opt(&mo, opt, optarg, "idle");
    if (r < 0)
      return GM_CLI_OPT_EXIT(r);
    if (r > 0)
      continue;
    switch (opt) {
    case O_DURATION:
      if (!gm_cli_parse_duration(optarg, &dur_ns) ||
          dur_ns < 100 * INT64_C(1000000)) {
        gm_cli_error("idle",
                     "--duration '%s' is not a duration of at least 100ms "
                     "(examples: 30s, 2m)",
                     optarg);
        return GM_EXIT_USAGE;
      }
      break;
    case O_DB:
      db = optarg;
      break;
    case O_NO_DB:
      no_db = true;
      break;
    case O_SHOW:
      show = true;
      break;
    case O_FORCE_BUSY:
      force_busy = true;
      break;
    case 'h':
      fputs(usage_text, stdout);
      return 0;
    default:
      fputs(usage_text, stderr);
      return GM_EXIT_USAGE;
    }
  }
  if (optind < argc) {
    gm_cli_error("idle", "unexpected argument '%s'", argv[optind]);
    return GM_EXIT_USAGE;
  }
  if (no_db && (db || show)) {
    gm_cli_error("idle", "--no-db cannot be combined with --db or --show");
    return GM_EXIT_USAGE;
  }
  char dbpath[1024];
  if (!db && !no_db) {
    if (!gm_cli_default_db(dbpath, sizeof(dbpath))) {
      gm_cli_error("idle", "database path too long; pass --db PATH");
      return GM_EXIT_USAGE;
    }
    db = dbpath;
  }
  struct gm_store *st = NULL;
  int64_t host_id = 0;
  int ec = 0;
  if (db) {
    ec = gm_cli_open_store("idle", db, &st);
    if (ec)
      return ec;
    struct gm_meter_config cfg = gm_cli_meter_config(&mo);
    struct gm_meter *probe = NULL;
    if (gm_meter_create(&cfg, &probe) != GM_OK) {
      gm_store_close(st);
      return GM_EXIT_SOFTWARE;
    }
    ec = gm_cli_host("idle", st, probe, &host_id);
    gm_meter_destroy(probe);
    if (ec) {
      gm_store_close(st);
      return ec;
    }
  }
  struct gm_idle_baseline *b = NULL;
  if (show) {
    enum gm_status rc = gm_store_load_idle(st, host_id, &b);
    if (rc != GM_OK) {
      gm_cli_error("idle", "%s; run 'greenml idle' to measure one",
                   gm_store_last_error(st));
      gm_store_close(st);
      return rc == GM_ERR_NOT_FOUND ? GM_EXIT_NOINPUT : GM_EXIT_IOERR;
    }
    gm_cli_print_idle(stdout, b);
  } else {
    ec = gm_cli_measure_idle("idle", &mo, dur_ns, force_busy, st, host_id, &b);
    if (ec == 0) {
      gm_cli_print_idle(stdout, b);
      if (db)
        printf("stored in '%s'\n", db);
    }
  }
  gm_idle_baseline_free(b);
  gm_store_close(st);
  return ec;
}

/* cmd_measure.c: `greenml measure [options] -- CMD [ARGS...]`.
 *
 * Order of events: the command is forked but held on a pipe; the meter is
 * created and started; the command is released and exec'd (so the first
 * sample precedes its first instruction); signals sent to greenml by another
 * process are forwarded (terminal signals already reach the whole foreground
 * process group); phase markers arrive on a FIFO named by GREENML_MARK; the
 * meter stops when the command has been reaped. The summary goes to stderr
 * so the command's stdout stays clean. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "greenml/json.h"
#include "cli.h"
#include "greenml/carbon.h"
#include "greenml/mark.h"

static const char usage_text[] =
    "usage: greenml measure [options] -- CMD [ARGS...]\n"
    "\n"
    "Runs CMD (stdin, stdout and stderr untouched), measures the energy of\n"
    "every component while it runs, prints a summary on stderr and exits with\n"
    "CMD's status (127: CMD could not be started; 128+N: killed by signal N).\n"
    "\n"
    "  --idle auto|none|DUR subtract the stored idle baseline (auto, the\n"
    "                       default; none when there is none), nothing, or\n"
    "                       measure a new one for DUR first\n"
    "  --db PATH            database (default "
    "$XDG_DATA_HOME/greenml/greenml.db)\n"
    "  --no-db              do not store the run\n"
    "  --json PATH          write the summary as JSON\n"
    "  --csv PATH           write the time series as CSV\n"
    "  --tag K=V            label the run (repeatable)\n"
    "  --region CC          grid carbon intensity of country CC (ISO 3166-1)\n"
    "  --carbon-intensity G grid carbon intensity in gCO2e/kWh\n"
    "  --pue X              data-centre power usage effectiveness (default "
    "1.0)\n"
    "  --quiet              no summary on stderr\n" GM_CLI_METER_HELP
    "\nInside CMD, 'greenml mark NAME' begins a phase and 'greenml mark "
    "--end'\n"
    "ends it (or gm_phase_begin()/gm_phase_end() from <greenml/mark.h>).\n";

/* ---- signal forwarding --------------------------------------------------- */

static volatile sig_atomic_t child_pid;

static void forward_signal(int sig, siginfo_t *si, void *uc) {
  (void)uc;
  /* Terminal-generated signals (SI_KERNEL) already reached the command, which
   * shares our process group; forward only those another process sent. */
  if (child_pid > 0 && si && si->si_code <= 0)
    kill((pid_t)child_pid, sig);
}

static const int forwarded[] = {SIGINT,  SIGTERM, SIGHUP,
                                SIGQUIT, SIGUSR1, SIGUSR2};
#define N_FORWARDED (sizeof(forwarded) / sizeof(forwarded[0]))

/* ---- options ------------------------------------------------------------- */

struct measure_opts {
  struct gm_cli_meter_opts mo;
  const char *idle; /* "auto", "none" or a duration */
  int64_t idle_ns;
  const char *db;
  bool no_db;
  const char *json_path;
  const char *csv_path;
  struct gm_cli_cost_opts cost;
  bool quiet;
  char tags_json[4096];
  size_t n_tags;
};

static bool add_tag(struct measure_opts *o, const char *kv) {
  const char *eq = strchr(kv, '=');
  if (!eq || eq == kv)
    return false;
  char key[256];
  size_t kl = (size_t)(eq - kv);
  if (kl >= sizeof(key))
    return false;
  memcpy(key, kv, kl);
  key[kl] = '\0';
  char ek[600], ev[2048];
  gm_json_escape_into(ek, sizeof(ek), key);
  gm_json_escape_into(ev, sizeof(ev), eq + 1);
  size_t len = strlen(o->tags_json);
  int n = snprintf(o->tags_json + len, sizeof(o->tags_json) - len, "%s%s:%s",
                   o->n_tags ? "," : "{", ek, ev);
  if (n < 0 || (size_t)n >= sizeof(o->tags_json) - len - 2)
    return false;
  o->n_tags++;
  return true;
}

/* ---- the run context shared with the writer thread ---------------------- */

struct run_ctx {
  struct gm_store *st;
  int64_t run_id;
  FILE *csv;
  bool db_failed;
  char db_err[512];
  bool csv_failed;
};

static void on_sample(void *arg, const struct gm_sample *s) {
  struct run_ctx *rc = arg;
  if (rc->st && !rc->db_failed &&
      gm_store_add_sample(rc->st, rc->run_id, s) != GM_OK) {
    rc->db_failed = true;
    snprintf(rc->db_err, sizeof(rc->db_err), "%s", gm_store_last_error(rc->st));
  }
  if (rc->csv && !rc->csv_failed) {
    fprintf(rc->csv, "%.6f", (double)s->t_ns / 1e9);
    for (size_t c = 0; c < s->n_components; c++) {
      if (s->seq == 0)
        fprintf(rc->csv, ",%.6f,", s->energy_j[c]);
      else
        fprintf(rc->csv, ",%.6f,%.6f", s->energy_j[c], s->power_w[c]);
    }
    for (size_t k = 0; k < s->n_metrics; k++) {
      if (isnan(s->metrics[k]))
        fputs(",", rc->csv);
      else
        fprintf(rc->csv, ",%.6g", s->metrics[k]);
    }
    if (fputc('\n', rc->csv) == EOF)
      rc->csv_failed = true;
  }
}

static void on_flush(void *arg) {
  struct run_ctx *rc = arg;
  if (rc->st && !rc->db_failed && gm_store_commit(rc->st) != GM_OK) {
    rc->db_failed = true;
    snprintf(rc->db_err, sizeof(rc->db_err), "%s", gm_store_last_error(rc->st));
  }
  if (rc->csv && fflush(rc->csv) != 0)
    rc->csv_failed = true;
}

static void csv_header(FILE *f, const struct gm_meter *m) {
  fputs("t_s", f);
  for (size_t c = 0; c < gm_meter_component_count(m); c++) {
    const struct gm_component_info *ci = gm_meter_component(m, c);
    /* unit, provenance and source in every column name */
    fprintf(f, ",%s.energy_j[J %s %s],%s.power_w[W %s %s]", ci->name,
            gm_provenance_name(ci->provenance), ci->source, ci->name,
            gm_provenance_name(ci->provenance), ci->source);
  }
  for (size_t k = 0; k < gm_meter_metric_count(m); k++)
    fprintf(f, ",%s[%s measured %s]", gm_meter_metric(m, k)->name,
            gm_meter_metric(m, k)->unit, gm_meter_metric(m, k)->source);
  fputc('\n', f);
}

/* ---- phase markers --------------------------------------------------------
 */

struct mark_reader {
  int fifo_fd;
  int stop_pipe[2];
  struct gm_meter *m;
  pthread_t thread;
  unsigned bad_lines;
};

static void *mark_main(void *arg) {
  struct mark_reader *mr = arg;
  char buf[4096];
  size_t have = 0;
  for (;;) {
    struct pollfd p[2] = {{mr->fifo_fd, POLLIN, 0},
                          {mr->stop_pipe[0], POLLIN, 0}};
    if (poll(p, 2, -1) < 0) {
      if (errno == EINTR)
        continue;
      break;
    }
    bool stopping = p[1].revents != 0;
    for (;;) {
      ssize_t n = read(mr->fifo_fd, buf + have, sizeof(buf) - 1 - have);
      if (n <= 0)
        break;
      have += (size_t)n;
      buf[have] = '\0';
      char *line = buf, *nl;
      while ((nl = strchr(line, '\n')) != NULL) {
        *nl = '\0';
        int begin;
        long long t;
        char name[GM_MARK_NAME_MAX + 1];
        if (gm_mark_parse(line, &begin, &t, name, sizeof(name)) == GM_OK) {
          if (begin)
            gm_meter_phase_begin(mr->m, name, t);
          else
            gm_meter_phase_end(mr->m, t);
        } else {
          mr->bad_lines++;
        }
        line = nl + 1;
      }
      have = strlen(line);
      memmove(buf, line, have);
      if (have == sizeof(buf) - 1)
        have = 0; /* a line longer than any valid marker: drop it */
    }
    if (stopping)
      break;
  }
  return NULL;
}

/* ---- summary ---------------------------------------------------------------
 */

struct summary {
  double dur_s;
  double total_j, total_net_j;
  bool have_idle;
  double *idle_w; /* per component, NAN when no baseline entry */
  double carbon_g, carbon_net_g;
  double intensity, pue;
  char carbon_source[256];
  double sampler_cpu_s;
  double command_cpu_s; /* user + system of the command and its reaped
                           descendants (wait4) */
  int exit_code;
  char idle_note[256];
};

static void print_summary(FILE *f, struct gm_meter *m, const struct summary *s,
                          const char *cmdline) {
  char buf[64], buf2[64];
  fprintf(f, "\n Energy of '%s' (exit status %d):\n\n", cmdline, s->exit_code);
  fprintf(f, " %-12s %-5s %-14s %-26s %13s %13s %10s %10s %10s\n", "component",
          "kind", "source", "provenance", "gross", "net", "avg", "peak",
          "idle");
  for (size_t i = 0; i < gm_meter_component_count(m); i++) {
    const struct gm_component_info *ci = gm_meter_component(m, i);
    struct gm_component_stats cs;
    gm_meter_stats(m, i, &cs);
    char prov[64], idle[32], net[40];
    gm_cli_fmt_provenance(prov, sizeof(prov), ci);
    gm_cli_fmt_energy(buf, sizeof(buf), cs.energy_j);
    if (isnan(s->idle_w[i])) {
      snprintf(idle, sizeof(idle), "n/a");
      snprintf(net, sizeof(net), "n/a");
    } else {
      snprintf(idle, sizeof(idle), "%.2f W", s->idle_w[i]);
      gm_cli_fmt_energy(net, sizeof(net),
                        cs.energy_j - s->idle_w[i] * s->dur_s);
    }
    fprintf(f, " %-12s %-5s %-14s %-26s %13s %13s %8.2f W %8.2f W %10s%s\n",
            ci->name, gm_kind_name(ci->kind), ci->source, prov, buf, net,
            cs.avg_power_w, cs.peak_power_w, idle,
            ci->in_total ? "" : "  (inside another; not in total)");
  }
  gm_cli_fmt_energy(buf, sizeof(buf), s->total_j);
  if (s->have_idle)
    gm_cli_fmt_energy(buf2, sizeof(buf2), s->total_net_j);
  else
    snprintf(buf2, sizeof(buf2), "n/a");
  fprintf(f, " %-12s %-5s %-14s %-26s %13s %13s %8.2f W\n", "total", "", "", "",
          buf, buf2, s->dur_s > 0 ? s->total_j / s->dur_s : 0.0);
  fprintf(f, "\n %12.3f s   duration (wall clock, CLOCK_MONOTONIC)\n",
          s->dur_s);
  fprintf(f,
          " %12.3f s   meter CPU time (sampler + writer threads, %.3f %% of "
          "one core)\n",
          s->sampler_cpu_s,
          s->dur_s > 0 ? 100.0 * s->sampler_cpu_s / s->dur_s : 0.0);
  bool cores_header = false;
  for (size_t k = 0; k < gm_meter_metric_count(m); k++) {
    const struct gm_metric_info *mi = gm_meter_metric(m, k);
    double mean = gm_meter_metric_mean(m, k), mx = gm_meter_metric_max(m, k);
    if (isnan(mean))
      continue;
    bool per_core =
        strncmp(mi->name, "cpu", 3) == 0 && strcmp(mi->name, "cpu.util") != 0;
    if (per_core) {
      fprintf(f, "%s %s %.0f%%",
              cores_header ? "," : "  per-core mean:", mi->name, mean);
      cores_header = true;
      continue;
    }
    if (cores_header) {
      fputc('\n', f);
      cores_header = false;
    }
    if (strcmp(mi->name, "mem.total") == 0 ||
        strstr(mi->name, ".vram_total") != NULL ||
        strstr(mi->name, ".power_limit") != NULL)
      continue;
    if (strcmp(mi->unit, "B") == 0)
      fprintf(f, " %12.3f GiB %s mean (max %.3f GiB) [measured, %s]\n",
              mean / 1073741824.0, mi->name, mx / 1073741824.0, mi->source);
    else if (strcmp(mi->name, "proc.cpu_time") == 0)
      continue; /* the exact figure from wait4 is printed instead */
    else
      fprintf(f, " %12.1f %-3s %s mean (max %.1f %s) [measured, %s]\n", mean,
              mi->unit, mi->name, mx, mi->unit, mi->source);
  }
  if (cores_header)
    fputc('\n', f);
  fprintf(f,
          " %12.3f s   CPU time of the command and its children (user + "
          "system, wait4) [measured]\n",
          s->command_cpu_s);
  fprintf(
      f, " %12.3f g   CO2e gross (%.6f kWh x PUE %.2f x %.0f gCO2e/kWh, %s)\n",
      s->carbon_g, s->total_j / 3.6e6, s->pue, s->intensity, s->carbon_source);
  if (s->have_idle)
    fprintf(f, " %12.3f g   CO2e net of idle\n", /* never -0.000 */
            fabs(s->carbon_net_g) < 0.0005 ? 0.0 : s->carbon_net_g);
  if (s->idle_note[0])
    fprintf(f, "\n note: %s\n", s->idle_note);
  for (size_t i = 0; i < gm_meter_component_count(m); i++) {
    const struct gm_component_info *ci = gm_meter_component(m, i);
    struct gm_component_stats cs;
    gm_meter_stats(m, i, &cs);
    if (ci->provenance == GM_PROV_MODELLED)
      fprintf(f, " note: %s is modelled, not measured: %s\n", ci->name,
              ci->detail);
    if (cs.xcheck_failed)
      fprintf(f,
              " warning: %s energy counter and integrated power disagree by "
              "%.1f %% (counter %.3f J, power %.3f J)\n",
              ci->name, 100 * cs.xcheck_rel, cs.energy_j, cs.power_energy_j);
    if (cs.read_errors)
      fprintf(f, " warning: %s could not be read %llu times\n", ci->name,
              (unsigned long long)cs.read_errors);
    if (cs.resets)
      fprintf(f,
              " warning: %s counter reset %llu times (interval filled from "
              "power)\n",
              ci->name, (unsigned long long)cs.resets);
  }
  if (gm_meter_missed_ticks(m))
    fprintf(f,
            " warning: %llu sampling deadlines missed (machine overloaded)\n",
            (unsigned long long)gm_meter_missed_ticks(m));
  size_t np = gm_meter_phase_count(m);
  if (np) {
    fprintf(f,
            "\n %-20s %10s %10s %13s %13s   (in-total components; "
            "provenance as above)\n",
            "phase", "start", "duration", "gross", "net");
    for (size_t p = 0; p < np; p++) {
      const struct gm_phase *ph = gm_meter_phase(m, p);
      double tot = 0, net = 0;
      for (size_t c = 0; c < gm_meter_component_count(m); c++) {
        if (!gm_meter_component(m, c)->in_total)
          continue;
        tot += ph->energy_j[c];
        net += ph->energy_j[c] -
               (isnan(s->idle_w[c]) ? 0.0 : s->idle_w[c] * ph->duration_s);
      }
      gm_cli_fmt_energy(buf, sizeof(buf), tot);
      if (s->have_idle)
        gm_cli_fmt_energy(buf2, sizeof(buf2), net);
      else
        snprintf(buf2, sizeof(buf2), "n/a");
      fprintf(f, " %-20s %8.3f s %8.3f s %13s %13s%s\n", ph->name, ph->start_s,
              ph->duration_s, buf, buf2, ph->open ? "  (ended at exit)" : "");
    }
  }
  fputc('\n', f);
}

static bool write_json(const char *path, struct gm_meter *m,
                       const struct summary *s, const char *cmdline,
                       const struct measure_opts *o, int64_t run_id) {
  struct gm_json j;
  gm_json_init(&j);
  gm_json_begin_object(&j);
  gm_json_key(&j, "greenml_version");
  gm_json_string(&j, GM_VERSION_STRING);
  gm_json_key(&j, "command");
  gm_json_string(&j, cmdline);
  gm_json_key(&j, "run_id");
  if (run_id > 0)
    gm_json_int(&j, run_id);
  else
    gm_json_null(&j);
  gm_json_key(&j, "exit_code");
  gm_json_int(&j, s->exit_code);
  gm_json_key(&j, "duration_s");
  gm_json_number(&j, s->dur_s);
  gm_json_key(&j, "interval_s");
  gm_json_number(&j, (double)o->mo.interval_ns / 1e9);
  gm_json_key(&j, "total_energy_j");
  gm_json_number(&j, s->total_j);
  gm_json_key(&j, "total_net_energy_j");
  gm_json_number(&j, s->have_idle ? s->total_net_j : NAN);
  gm_json_key(&j, "carbon_g");
  gm_json_number(&j, s->carbon_g);
  gm_json_key(&j, "carbon_net_g");
  gm_json_number(&j, s->have_idle ? s->carbon_net_g : NAN);
  gm_json_key(&j, "carbon_intensity_g_per_kwh");
  gm_json_number(&j, s->intensity);
  gm_json_key(&j, "carbon_source");
  gm_json_string(&j, s->carbon_source);
  gm_json_key(&j, "pue");
  gm_json_number(&j, s->pue);
  gm_json_key(&j, "sampler_cpu_s");
  gm_json_number(&j, s->sampler_cpu_s);
  gm_json_key(&j, "command_cpu_s");
  gm_json_number(&j, s->command_cpu_s);
  gm_json_key(&j, "missed_ticks");
  gm_json_int(&j, (int64_t)gm_meter_missed_ticks(m));
  gm_json_key(&j, "dropped_samples");
  gm_json_int(&j, (int64_t)gm_meter_dropped_samples(m));
  gm_json_key(&j, "idle_baseline");
  gm_json_string(&j, s->have_idle ? "subtracted" : "none");
  gm_json_key(&j, "tags");
  gm_json_raw(&j, o->n_tags ? o->tags_json : "{}");
  gm_json_key(&j, "components");
  gm_json_begin_array(&j);
  for (size_t i = 0; i < gm_meter_component_count(m); i++) {
    const struct gm_component_info *ci = gm_meter_component(m, i);
    struct gm_component_stats cs;
    gm_meter_stats(m, i, &cs);
    gm_json_begin_object(&j);
    gm_cli_json_component(&j, ci);
    gm_json_key(&j, "energy_j");
    gm_json_number(&j, cs.energy_j);
    gm_json_key(&j, "net_energy_j");
    gm_json_number(
        &j, isnan(s->idle_w[i]) ? NAN : cs.energy_j - s->idle_w[i] * s->dur_s);
    gm_json_key(&j, "avg_power_w");
    gm_json_number(&j, cs.avg_power_w);
    gm_json_key(&j, "peak_power_w");
    gm_json_number(&j, cs.peak_power_w);
    gm_json_key(&j, "power_sd_w");
    gm_json_number(&j, cs.power_sd_w);
    gm_json_key(&j, "idle_power_w");
    gm_json_number(&j, s->idle_w[i]);
    gm_json_key(&j, "power_integral_j");
    gm_json_number(&j, cs.power_energy_j >= 0 ? cs.power_energy_j : NAN);
    gm_json_key(&j, "counter_vs_power_rel");
    gm_json_number(&j, cs.xcheck_rel >= 0 ? cs.xcheck_rel : NAN);
    gm_json_key(&j, "counter_vs_power_disagree");
    gm_json_bool(&j, cs.xcheck_failed);
    gm_json_key(&j, "wraps");
    gm_json_int(&j, (int64_t)cs.wraps);
    gm_json_key(&j, "resets");
    gm_json_int(&j, (int64_t)cs.resets);
    gm_json_key(&j, "read_errors");
    gm_json_int(&j, (int64_t)cs.read_errors);
    gm_json_end_object(&j);
  }
  gm_json_end_array(&j);
  gm_json_key(&j, "metrics");
  gm_json_begin_array(&j);
  for (size_t k = 0; k < gm_meter_metric_count(m); k++) {
    gm_json_begin_object(&j);
    gm_cli_json_metric(&j, gm_meter_metric(m, k));
    gm_json_key(&j, "provenance");
    gm_json_string(&j, "measured");
    gm_json_key(&j, "mean");
    gm_json_number(&j, gm_meter_metric_mean(m, k));
    gm_json_key(&j, "max");
    gm_json_number(&j, gm_meter_metric_max(m, k));
    gm_json_end_object(&j);
  }
  gm_json_end_array(&j);
  gm_json_key(&j, "phases");
  gm_json_begin_array(&j);
  for (size_t p = 0; p < gm_meter_phase_count(m); p++) {
    const struct gm_phase *ph = gm_meter_phase(m, p);
    double tot = 0, net = 0;
    gm_json_begin_object(&j);
    gm_json_key(&j, "name");
    gm_json_string(&j, ph->name);
    gm_json_key(&j, "start_s");
    gm_json_number(&j, ph->start_s);
    gm_json_key(&j, "duration_s");
    gm_json_number(&j, ph->duration_s);
    gm_json_key(&j, "ended_by_exit");
    gm_json_bool(&j, ph->open);
    gm_json_key(&j, "components");
    gm_json_begin_array(&j);
    for (size_t c = 0; c < gm_meter_component_count(m); c++) {
      const struct gm_component_info *ci = gm_meter_component(m, c);
      double idle = s->idle_w[c];
      double cnet = isnan(idle) ? NAN : ph->energy_j[c] - idle * ph->duration_s;
      if (ci->in_total) {
        tot += ph->energy_j[c];
        net += isnan(cnet) ? ph->energy_j[c] : cnet;
      }
      gm_json_begin_object(&j);
      gm_json_key(&j, "name");
      gm_json_string(&j, ci->name);
      gm_json_key(&j, "energy_j");
      gm_json_number(&j, ph->energy_j[c]);
      gm_json_key(&j, "net_energy_j");
      gm_json_number(&j, cnet);
      gm_json_end_object(&j);
    }
    gm_json_end_array(&j);
    gm_json_key(&j, "energy_j");
    gm_json_number(&j, tot);
    gm_json_key(&j, "net_energy_j");
    gm_json_number(&j, s->have_idle ? net : NAN);
    gm_json_end_object(&j);
  }
  gm_json_end_array(&j);
  gm_json_end_object(&j);
  bool ok = false;
  FILE *f = j.oom ? NULL : fopen(path, "w");
  if (f) {
    ok = fprintf(f, "%s\n", j.buf) > 0;
    ok = (fclose(f) == 0) && ok;
  }
  gm_json_release(&j);
  return ok;
}

/* ---- the command -----------------------------------------------------------
 */

static int parse_args(int argc, char **argv, struct measure_opts *o) {
  enum {
    O_IDLE = GM_OPT_FIRST_FREE,
    O_DB,
    O_NO_DB,
    O_JSON,
    O_CSV,
    O_TAG,
    O_QUIET
  };
  static const struct option longopts[] = {{"idle", 1, 0, O_IDLE},
                                           {"db", 1, 0, O_DB},
                                           {"no-db", 0, 0, O_NO_DB},
                                           {"json", 1, 0, O_JSON},
                                           {"csv", 1, 0, O_CSV},
                                           {"tag", 1, 0, O_TAG},
                                           GM_CLI_COST_LONGOPTS,
                                           {"quiet", 0, 0, O_QUIET},
                                           {"help", 0, 0, 'h'},
                                           GM_CLI_METER_LONGOPTS,
                                           {0}};
  int opt;
  optind = 1;
  opterr = 1;
  while ((opt = getopt_long(argc, argv, "+hq", longopts, NULL)) != -1) {
    int r = gm_cli_meter_opt(&o->mo, opt, optarg, "measure");
    if (r < 0)
      return GM_CLI_OPT_EXIT(r);
    if (r > 0)
      continue;
    r = gm_cli_cost_opt(&o->cost, opt, optarg, "measure");
    if (r < 0)
      return GM_EXIT_USAGE;
    if (r > 0)
      continue;
    switch (opt) {
    case O_IDLE:
      o->idle = optarg;
      if (strcmp(optarg, "auto") != 0 && strcmp(optarg, "none") != 0 &&
          (!gm_cli_parse_duration(optarg, &o->idle_ns) ||
           o->idle_ns < 100 * INT64_C(1000000))) {
        gm_cli_error("measure",
                     "--idle '%s' must be auto, none or a duration of at "
                     "least 100ms (e.g. 30s)",
                     optarg);
        return GM_EXIT_USAGE;
      }
      break;
    case O_DB:
      o->db = optarg;
      break;
    case O_NO_DB:
      o->no_db = true;
      break;
    case O_JSON:
      o->json_path = optarg;
      break;
    case O_CSV:
      o->csv_path = optarg;
      break;
    case O_TAG:
      if (!add_tag(o, optarg)) {
        gm_cli_error("measure", "--tag '%s' must look like KEY=VALUE", optarg);
        return GM_EXIT_USAGE;
      }
      break;
    case 'q':
    case O_QUIET:
      o->quiet = true;
      break;
    case 'h':
      fputs(usage_text, stdout);
      return -1;
    default:
      fputs(usage_text, stderr);
      return GM_EXIT_USAGE;
    }
  }
  if (o->n_tags)
    strcat(o->tags_json, "}");
  if (optind >= argc) {
    gm_cli_error("measure",
                 "no command given: greenml measure [options] -- CMD [ARGS]");
    return GM_EXIT_USAGE;
  }
  if (o->no_db && o->db) {
    gm_cli_error("measure", "--db and --no-db cannot be used together");
    return GM_EXIT_USAGE;
  }
  return 0;
}

static int resolve_carbon(const struct measure_opts *o, struct summary *s) {
  struct gm_cli_cost c;
  int ec = gm_cli_cost_resolve("measure", &o->cost, &c);
  if (ec)
    return ec;
  s->pue = c.pue;
  s->intensity = c.g_per_kwh;
  snprintf(s->carbon_source, sizeof(s->carbon_source), "%s", c.source);
  return 0;
}

static char *join_args(char **argv) {
  size_t n = 1;
  for (char **a = argv; *a; a++)
    n += strlen(*a) * 2 + 3;
  char *s = malloc(n);
  if (!s)
    return NULL;
  s[0] = '\0';
  for (char **a = argv; *a; a++) {
    if (a != argv)
      strcat(s, " ");
    bool quote = strpbrk(*a, " \t\"'\\$") != NULL || !**a;
    if (quote)
      strcat(s, "'");
    strcat(s, *a);
    if (quote)
      strcat(s, "'");
  }
  return s;
}

/* Forks CMD held on a pipe. Returns the pid, or -1. */
static pid_t spawn_held(char **argv, int *go_fd, int *err_fd) {
  int go[2], err[2];
  if (pipe2(go, O_CLOEXEC) != 0)
    return -1;
  if (pipe2(err, O_CLOEXEC) != 0) {
    close(go[0]);
    close(go[1]);
    return -1;
  }
  pid_t pid = fork();
  if (pid < 0) {
    close(go[0]);
    close(go[1]);
    close(err[0]);
    close(err[1]);
    return -1;
  }
  if (pid == 0) {
    close(go[1]);
    close(err[0]);
    char c;
    ssize_t r;
    do {
      r = read(go[0], &c, 1);
    } while (r < 0 && errno == EINTR);
    if (r != 1)
      _exit(127); /* greenml went away before releasing us */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execvp(argv[0], argv);
    int e = errno;
    if (write(err[1], &e, sizeof(e)) < 0)
      _exit(127);
    _exit(127);
  }
  close(go[0]);
  close(err[1]);
  *go_fd = go[1];
  *err_fd = err[0];
  return pid;
}

int cmd_measure(int argc, char **argv) {
  struct measure_opts o;
  memset(&o, 0, sizeof(o));
  gm_cli_meter_opts_init(&o.mo);
  o.idle = "auto";
  gm_cli_cost_opts_init(&o.cost);
  int ec = parse_args(argc, argv, &o);
  if (ec < 0)
    return 0;
  if (ec)
    return ec;
  char **cmd = argv + optind;
  struct summary s;
  memset(&s, 0, sizeof(s));
  ec = resolve_carbon(&o, &s);
  if (ec)
    return ec;

  char *cmdline = join_args(cmd);
  struct run_ctx rc = {0};
  struct gm_meter *m = NULL;
  struct gm_idle_baseline *base = NULL;
  struct mark_reader mr = {.fifo_fd = -1, .stop_pipe = {-1, -1}};
  char fifo_dir[256] = "", fifo_path[300] = "";
  int go_fd = -1, err_fd = -1;
  pid_t pid = -1;
  int64_t host_id = 0;

  /* Outputs first: a bad path must fail before the command runs. */
  if (o.csv_path) {
    rc.csv = fopen(o.csv_path, "w");
    if (!rc.csv) {
      gm_cli_error("measure", "cannot create --csv '%s': %s", o.csv_path,
                   strerror(errno));
      ec = GM_EXIT_CANTCREAT;
      goto out;
    }
  }
  if (o.json_path) {
    FILE *f = fopen(o.json_path, "a");
    if (!f) {
      gm_cli_error("measure", "cannot create --json '%s': %s", o.json_path,
                   strerror(errno));
      ec = GM_EXIT_CANTCREAT;
      goto out;
    }
    fclose(f);
  }
  char dbpath[1024];
  if (!o.no_db) {
    if (!o.db) {
      if (!gm_cli_default_db(dbpath, sizeof(dbpath))) {
        gm_cli_error("measure", "database path too long; pass --db PATH");
        ec = GM_EXIT_USAGE;
        goto out;
      }
      o.db = dbpath;
    }
    ec = gm_cli_open_store("measure", o.db, &rc.st);
    if (ec)
      goto out;
  }

  struct gm_meter_config cfg = gm_cli_meter_config(&o.mo);
  /* The command is forked first, held on a pipe, so the one meter knows the
   * process tree to follow; it also describes the host. */

  /* The marker channel. */
  const char *tmpdir = getenv("TMPDIR");
  if (!tmpdir || !*tmpdir || strlen(tmpdir) > sizeof(fifo_dir) - 24)
    tmpdir = "/tmp";
  snprintf(fifo_dir, sizeof(fifo_dir), "%s/greenml-XXXXXX", tmpdir);
  if (!mkdtemp(fifo_dir)) {
    fifo_dir[0] = '\0';
  } else {
    snprintf(fifo_path, sizeof(fifo_path), "%s/mark", fifo_dir);
    if (mkfifo(fifo_path, 0600) == 0)
      mr.fifo_fd = open(fifo_path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (mr.fifo_fd >= 0)
      setenv(GM_MARK_ENV, fifo_path, 1);
  }

  pid = spawn_held(cmd, &go_fd, &err_fd);
  if (pid < 0) {
    gm_cli_error("measure", "cannot fork: %s", strerror(errno));
    ec = GM_EXIT_SOFTWARE;
    goto out;
  }
  child_pid = pid;
  cfg.track_pid = (int)pid;
  cfg.on_sample = on_sample;
  cfg.on_flush = on_flush;
  cfg.callback_ctx = &rc;
  if (!rc.st && !rc.csv) {
    cfg.on_sample = NULL;
    cfg.on_flush = NULL;
  }
  if (gm_meter_create(&cfg, &m) != GM_OK) {
    gm_cli_error("measure", "cannot create the meter");
    ec = GM_EXIT_SOFTWARE;
    goto out;
  }
  if (rc.st) {
    ec = gm_cli_host("measure", rc.st, m, &host_id);
    if (ec)
      goto out;
  }
  if (o.idle_ns > 0) {
    ec =
        gm_cli_measure_idle("measure", &o.mo, o.idle_ns, rc.st, host_id, &base);
    if (ec)
      goto out;
  } else if (strcmp(o.idle, "auto") == 0 && rc.st) {
    if (gm_store_load_idle(rc.st, host_id, &base) != GM_OK)
      snprintf(s.idle_note, sizeof(s.idle_note),
               "no idle baseline for this host, net energy not computed: "
               "run 'greenml idle' once, or pass --idle 30s");
  } else if (strcmp(o.idle, "auto") == 0) {
    snprintf(s.idle_note, sizeof(s.idle_note),
             "--no-db: no stored idle baseline; pass --idle 30s to measure "
             "one");
  }

  size_t nc = gm_meter_component_count(m);
  s.idle_w = malloc((nc ? nc : 1) * sizeof(double));
  if (!s.idle_w) {
    ec = GM_EXIT_SOFTWARE;
    goto out;
  }
  for (size_t i = 0; i < nc; i++) {
    s.idle_w[i] = NAN;
    const struct gm_component_info *ci = gm_meter_component(m, i);
    for (size_t k = 0; base && k < base->n; k++)
      if (strcmp(base->entries[k].name, ci->name) == 0 &&
          strcmp(base->entries[k].source, ci->source) == 0) {
        s.idle_w[i] = base->entries[k].mean_power_w;
        s.have_idle = true;
      }
  }
  if (rc.csv)
    csv_header(rc.csv, m);
  if (rc.st) {
    struct gm_run_meta meta = {.kind = "measure",
                               .interval_s = (double)o.mo.interval_ns / 1e9,
                               .command = cmdline,
                               .tags_json = o.n_tags ? o.tags_json : NULL,
                               .carbon_g_per_kwh = s.intensity,
                               .carbon_source = s.carbon_source,
                               .pue = s.pue,
                               .idle_baseline_id = base ? base->id : 0};
    if (gm_store_begin_run(rc.st, host_id, &meta, m, &rc.run_id) != GM_OK) {
      gm_cli_error("measure", "%s", gm_store_last_error(rc.st));
      ec = GM_EXIT_IOERR;
      goto out;
    }
  }

  struct sigaction sa = {0};
  sa.sa_sigaction = forward_signal;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&sa.sa_mask);
  for (size_t i = 0; i < N_FORWARDED; i++)
    sigaction(forwarded[i], &sa, NULL);

  mr.m = m;
  bool reader = false;
  if (gm_meter_start(m) != GM_OK) {
    gm_cli_error("measure", "cannot start the meter: %s",
                 gm_meter_last_error(m));
    ec = GM_EXIT_SOFTWARE;
    goto out;
  }
  if (mr.fifo_fd >= 0 && pipe2(mr.stop_pipe, O_CLOEXEC) == 0 &&
      pthread_create(&mr.thread, NULL, mark_main, &mr) == 0)
    reader = true;

  /* Release the command and learn whether exec worked. A command killed
   * while held (a signal forwarded to it) has closed the pipe: that write
   * must fail with EPIPE, not kill greenml with SIGPIPE. */
  char go = 1;
  int exec_errno = 0;
  struct sigaction ign = {0}, old_pipe;
  ign.sa_handler = SIG_IGN;
  sigemptyset(&ign.sa_mask);
  sigaction(SIGPIPE, &ign, &old_pipe);
  if (write(go_fd, &go, 1) != 1)
    exec_errno = errno;
  sigaction(SIGPIPE, &old_pipe, NULL);
  close(go_fd);
  go_fd = -1;
  ssize_t got;
  do {
    got = read(err_fd, &exec_errno, sizeof(exec_errno));
  } while (got < 0 && errno == EINTR);
  close(err_fd);
  err_fd = -1;

  int status = 0;
  struct rusage ru;
  while (wait4(pid, &status, 0, &ru) < 0 && errno == EINTR)
    ;
  child_pid = 0;
  pid = -1;
  /* The reader drains the markers the command wrote before it exited while
   * the meter still runs: a stopped meter refuses them. */
  if (reader) {
    if (write(mr.stop_pipe[1], "x", 1) < 0)
      gm_cli_error("measure", "cannot stop the marker reader");
    pthread_join(mr.thread, NULL);
  }
  gm_meter_stop(m);
  if (WIFEXITED(status))
    s.exit_code = WEXITSTATUS(status);
  else if (WIFSIGNALED(status))
    s.exit_code = 128 + WTERMSIG(status);
  else
    s.exit_code = 127;
  if (got == (ssize_t)sizeof(exec_errno) && exec_errno) {
    gm_cli_error("measure", "cannot run '%s': %s", cmd[0],
                 strerror(exec_errno));
    s.exit_code = 127;
  }

  s.dur_s = gm_meter_duration_s(m);
  s.command_cpu_s = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
                    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
  s.sampler_cpu_s = gm_meter_self_cpu_s(m);
  for (size_t i = 0; i < nc; i++) {
    const struct gm_component_info *ci = gm_meter_component(m, i);
    if (!ci->in_total)
      continue;
    struct gm_component_stats cs;
    gm_meter_stats(m, i, &cs);
    s.total_j += cs.energy_j;
    s.total_net_j +=
        isnan(s.idle_w[i]) ? cs.energy_j : cs.energy_j - s.idle_w[i] * s.dur_s;
  }
  s.carbon_g = gm_carbon_grams(s.total_j, s.intensity, s.pue);
  s.carbon_net_g = gm_carbon_grams(s.total_net_j, s.intensity, s.pue);
  ec = s.exit_code;

  if (rc.st) {
    struct gm_run_result res = {.exit_code = s.exit_code,
                                .duration_s = s.dur_s,
                                .total_energy_j = s.total_j,
                                .total_net_energy_j =
                                    s.have_idle ? s.total_net_j : NAN,
                                .carbon_g = s.carbon_g,
                                .sampler_cpu_s = s.sampler_cpu_s,
                                .dropped_samples = gm_meter_dropped_samples(m),
                                .idle_power_w = s.have_idle ? s.idle_w : NULL};
    if (rc.db_failed)
      gm_cli_error("measure", "samples could not all be stored: %s", rc.db_err);
    if (gm_store_finish_run(rc.st, rc.run_id, &res, m) != GM_OK)
      gm_cli_error("measure", "cannot store the run summary: %s",
                   gm_store_last_error(rc.st));
  }
  if (!(got == (ssize_t)sizeof(exec_errno) && exec_errno)) {
    if (!o.quiet)
      print_summary(stderr, m, &s, cmdline);
    if (rc.st && !o.quiet)
      fprintf(stderr, " stored as run %lld in '%s'\n\n", (long long)rc.run_id,
              o.db);
  }
  if (o.json_path &&
      !write_json(o.json_path, m, &s, cmdline, &o, rc.st ? rc.run_id : 0))
    gm_cli_error("measure", "cannot write --json '%s': %s", o.json_path,
                 strerror(errno));
  if (rc.csv_failed)
    gm_cli_error("measure", "cannot write --csv '%s'", o.csv_path);
  if (mr.bad_lines)
    gm_cli_error("measure", "%u malformed phase markers ignored", mr.bad_lines);

out:
  if (go_fd >= 0)
    close(go_fd); /* the held command sees EOF and exits 127 */
  if (err_fd >= 0)
    close(err_fd);
  if (pid > 0)
    waitpid(pid, NULL, 0);
  gm_meter_destroy(m);
  gm_store_close(rc.st);
  if (rc.csv)
    fclose(rc.csv);
  if (mr.fifo_fd >= 0)
    close(mr.fifo_fd);
  if (mr.stop_pipe[0] >= 0) {
    close(mr.stop_pipe[0]);
    close(mr.stop_pipe[1]);
  }
  if (fifo_path[0])
    unlink(fifo_path);
  if (fifo_dir[0])
    rmdir(fifo_dir);
  gm_idle_baseline_free(base);
  free(s.idle_w);
  free(cmdline);
  return ec;
}

/* cmd_measure.c: `greenml measure [options] -- CMD [ARGS...]`.
 *
 * Order of events: the command is forked but held on a pipe; the meter is
 * created and started; the command is released and exec'd (so the first
 * sample precedes its first instruction); signals sent to greenml by another
 * process are forwarded (terminal signals already reach the whole foreground
 * process group); phase markers arrive on a FIFO named by GREENML_MARK (the
 * library's listener, mark.h); the meter stops when the command has been
 * reaped and the markers it wrote are applied. Every number printed, written
 * as JSON or stored comes from the run record (run.h), accounted once by the
 * rules of energy.h. The summary goes to stderr so the command's stdout
 * stays clean. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "greenml/json.h"
#include "cli.h"
#include "greenml/carbon.h"
#include "greenml/mark.h"
#include "greenml/run.h"
#include "output.h"

static const char usage_text[] =
    "usage: greenml measure [options] -- CMD [ARGS...]\n"
    "\n"
    "Runs CMD (stdin, stdout and stderr untouched), measures the energy of\n"
    "every component while it runs, prints a summary on stderr and exits with\n"
    "CMD's status (127: CMD could not be started; 128+N: killed by signal N),\n"
    "or 74 when the database, --json or --csv could not be written, samples\n"
    "included (the run is then recorded incomplete with the cause; CMD's\n"
    "status is in the outputs that were written).\n"
    "\n"
    "Besides the machine's energy it reports the command's share: CPU and\n"
    "DRAM by the command's process tree's share of the busy CPU time (or a\n"
    "cgroup's, --cgroup), GPUs by the command's compute processes on each.\n"
    "\n"
    "  --idle auto|none|DUR subtract the stored idle baseline (auto, the\n"
    "                       default; none when there is none), nothing, or\n"
    "                       measure a new one for DUR first; a baseline\n"
    "                       applies only to components measured as it was\n"
    "  --force-busy         with --idle DUR: keep a baseline measured while\n"
    "                       the CPU was busy (flagged), instead of exit 75\n"
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
    "  --quiet              no summary on stderr\n"
    "  --cgroup PATH        attribute to this cgroup v2 (e.g. a Slurm job's,\n"
    "                       /system.slice/slurmstepd.scope/job_42) instead of\n"
    "                       the command's process tree\n" GM_CLI_METER_HELP
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
  bool force_busy;
  const char *db;
  bool no_db;
  const char *json_path;
  const char *csv_path;
  struct gm_cli_cost_opts cost;
  bool quiet;
  const char *cgroup; /* --cgroup: attribute to this cgroup, not the tree */
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
  FILE *csv;
  bool csv_failed;
};

/* The session hands each sample to the store first (it keeps those it
 * cannot write yet and counts those it loses: gm_store_finish_run tells),
 * then here, for the CSV. */
static void on_sample(void *arg, const struct gm_sample *s) {
  struct run_ctx *rc = arg;
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
    for (size_t c = 0; s->attributed_j && c < s->n_components; c++)
      fprintf(rc->csv, ",%.6f", s->attributed_j[c]);
    if (fputc('\n', rc->csv) == EOF)
      rc->csv_failed = true;
  }
}

static void on_flush(void *arg) {
  struct run_ctx *rc = arg;
  if (rc->csv && fflush(rc->csv) != 0)
    rc->csv_failed = true;
}

static void csv_header(FILE *f, struct gm_meter *m) {
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
  /* the command's cumulative share, labelled as attributed, not measured */
  for (size_t c = 0; gm_meter_attributing(m) && c < gm_meter_component_count(m);
       c++) {
    struct gm_attribution a;
    gm_meter_attribution(m, c, &a);
    fprintf(f, ",%s.attributed_j[J %s]", gm_meter_component(m, c)->name,
            gm_attrib_method_name(a.method));
  }
  fputc('\n', f);
}

/* ---- summary ---------------------------------------------------------------
 */

struct summary {
  const struct gm_run_record *rec;
  const struct gm_idle_baseline *base; /* NULL: none */
  const struct gm_cli_meter_opts *mo;  /* for the matching idle command */
  bool have_idle; /* a baseline applies to at least one component */
  double carbon_g, carbon_net_g;
  double intensity, pue;
  char carbon_source[256];
  double process_cpu_s; /* user + system of greenml itself, every thread,
                          from its start to the outputs (getrusage
                          RUSAGE_SELF; the command is not in it) */
  double command_cpu_s; /* user + system of the command and its reaped
                           descendants (wait4) */
  int exit_code;
  char idle_note[512];
  unsigned marker_bad_lines; /* the listener's counts */
  struct gm_mark_rejected marker_rejected;
  /* what the store kept of the run's samples; NULL: --no-db */
  const struct gm_store_sample_tally *stored;
  bool store_complete; /* the run is recorded complete */
};

/* Energy with its unit, "n/a" when unknown (net without a baseline). */
static void fmt_j(char *buf, size_t size, double j) {
  if (isnan(j))
    snprintf(buf, size, "n/a");
  else
    gm_cli_fmt_energy(buf, size, j);
}

/* Why a total's net is unknown although a baseline applies: the in-total
 * components it has no entry for (those it has one for, measured another
 * way, get a note each: print_baseline_notes). */
static void note_missing_baseline(struct summary *s) {
  const struct gm_run_record *r = s->rec;
  bool any = false;
  for (size_t i = 0; i < r->n_components; i++)
    any = any || (r->components[i].info.in_total &&
                  r->components[i].idle_match == GM_IDLE_NO_ENTRY);
  if (!any)
    return;
  size_t len = (size_t)snprintf(s->idle_note, sizeof(s->idle_note),
                                "net not computed: no idle baseline for");
  const char *sep = " ";
  for (size_t i = 0; i < r->n_components && len < sizeof(s->idle_note); i++) {
    const struct gm_run_component *c = &r->components[i];
    if (!c->info.in_total || c->idle_match != GM_IDLE_NO_ENTRY)
      continue;
    len += (size_t)snprintf(s->idle_note + len, sizeof(s->idle_note) - len,
                            "%s%s (%s)", sep, c->info.name, c->info.source);
    sep = ", ";
  }
  if (len < sizeof(s->idle_note))
    snprintf(s->idle_note + len, sizeof(s->idle_note) - len,
             "; measure a new one with 'greenml idle', or pass --idle 30s");
}

/* The baseline's notes: components it was measured another way for (net
 * not computed, with the command that measures a matching one), a busy
 * baseline, and nets that the baseline's noise cannot tell from zero or
 * that fall below it. */
static void print_baseline_notes(FILE *f, const struct summary *s) {
  const struct gm_run_record *r = s->rec;
  if (!s->base)
    return;
  char cmd[1400];
  gm_cli_idle_command(cmd, sizeof(cmd), s->mo);
  for (size_t i = 0; i < r->n_components; i++) {
    const struct gm_run_component *c = &r->components[i];
    if (c->idle_match == GM_IDLE_UNRECORDED ||
        c->idle_match == GM_IDLE_OTHER_CONFIG)
      fprintf(f, " note: net not computed for %s: %s; run '%s'\n", c->info.name,
              c->net_reason, cmd);
  }
  if (s->base->busy)
    fprintf(f,
            " warning: the idle baseline #%lld was measured while the CPU was "
            "%.0f %% busy (threshold %.0f %%, stored with --force-busy): net "
            "energies are too low; run '%s' on a quiet machine\n",
            (long long)s->base->id, s->base->cpu_util_pct, GM_IDLE_BUSY_PCT,
            cmd);
  char net[40], noise[40];
  for (size_t i = 0; i <= r->n_components; i++) {
    bool total = i == r->n_components;
    const char *name = total ? "the total" : r->components[i].info.name;
    double e = total ? r->total.net_j : r->components[i].net_energy_j;
    double n = total ? r->total.net_noise_j : r->components[i].net_noise_j;
    enum gm_net_check k =
        total ? r->total.net_check : r->components[i].net_check;
    if (k != GM_NET_WITHIN_NOISE && k != GM_NET_NEGATIVE)
      continue;
    fmt_j(net, sizeof(net), e);
    if (isnan(n))
      snprintf(noise, sizeof(noise), "unknown");
    else
      gm_cli_fmt_energy(noise, sizeof(noise), n);
    if (k == GM_NET_NEGATIVE)
      fprintf(f,
              " warning: net energy of %s is %s, below zero beyond the "
              "baseline's noise (%s): it drew less than the idle baseline "
              "says, so the baseline does not describe this run; measure a "
              "new one with '%s'\n",
              name, net, noise, cmd);
    else
      fprintf(f,
              " note: net energy of %s (%s) is within the baseline's noise "
              "(+/- %s): indistinguishable from zero\n",
              name, net, noise);
  }
}

/* The command's part: per component and in total, each labelled with how
 * it was attributed. */
static void print_attribution(FILE *f, const struct gm_run_record *r) {
  const struct gm_run_attribution *a = &r->attribution;
  char buf[64], buf2[64];
  fprintf(f, "\n The command's share (%s; the rest is the machine's):\n\n",
          a->subject);
  for (size_t i = 0; i < r->n_components; i++) {
    const struct gm_run_component *c = &r->components[i];
    if (!c->info.in_total)
      continue;
    gm_cli_fmt_energy(buf, sizeof(buf), c->attr.energy_j);
    fmt_j(buf2, sizeof(buf2), c->attr_net_j);
    char share[96];
    if (c->stats.energy_j > 0)
      snprintf(share, sizeof(share), "%.1f %% of %s",
               100.0 * c->attr.energy_j / c->stats.energy_j, c->info.name);
    else
      snprintf(share, sizeof(share), "-");
    fprintf(f, " %-12s %-5s %-14s %-26s %13s %13s  %s%s\n", c->info.name,
            gm_kind_name(c->info.kind), "",
            gm_attrib_method_name(c->attr.method), buf, buf2, share,
            c->attr.unknown_j > 0 ? "  (share unknown for part of the run)"
                                  : "");
  }
  gm_cli_fmt_energy(buf, sizeof(buf), a->energy_j);
  fmt_j(buf2, sizeof(buf2), a->net_j);
  char pct[32] = "-";
  if (!isnan(a->share_pct))
    snprintf(pct, sizeof(pct), "%.1f %% of total", a->share_pct);
  fprintf(f, " %-12s %-5s %-14s %-26s %13s %13s  %s%s\n", "command", "", "",
          a->partial ? "attributed, PARTIAL" : "attributed", buf, buf2, pct,
          "");
  fprintf(f, " (%s)\n", a->provenance);
  if (a->unknown_j > 0)
    fprintf(f,
            " warning: %.3f J of the machine's energy could not be "
            "attributed (the command's share was unknown then): the "
            "command's figure is a lower bound\n",
            a->unknown_j);
}

static void print_summary(FILE *f, const struct summary *s,
                          const char *cmdline) {
  const struct gm_run_record *r = s->rec;
  double dur_s = r->duration_s;
  char buf[64], buf2[64];
  fprintf(f, "\n Energy of '%s' (exit status %d):\n\n", cmdline, s->exit_code);
  fprintf(f, " %-12s %-5s %-14s %-26s %13s %13s %10s %10s %10s\n", "component",
          "kind", "source", "provenance", "gross", "net", "avg", "peak",
          "idle");
  for (size_t i = 0; i < r->n_components; i++) {
    const struct gm_run_component *c = &r->components[i];
    char prov[64], idle[32], net[40];
    gm_cli_fmt_provenance(prov, sizeof(prov), &c->info);
    gm_cli_fmt_energy(buf, sizeof(buf), c->stats.energy_j);
    fmt_j(net, sizeof(net), c->net_energy_j);
    if (isnan(c->idle_w))
      snprintf(idle, sizeof(idle), "n/a");
    else
      snprintf(idle, sizeof(idle), "%.2f W", c->idle_w);
    fprintf(f, " %-12s %-5s %-14s %-26s %13s %13s %8.2f W %8.2f W %10s%s\n",
            c->info.name, gm_kind_name(c->info.kind), c->info.source, prov, buf,
            net, c->stats.avg_power_w, c->stats.peak_power_w, idle,
            c->info.in_total ? "" : "  (inside another; not in total)");
  }
  gm_cli_fmt_energy(buf, sizeof(buf), r->total.gross_j);
  fmt_j(buf2, sizeof(buf2), r->total.net_j);
  for (size_t i = 0; i < r->n_missing; i++)
    fprintf(f, " %-12s %-5s %-14s %-26s %13s %13s%s\n", r->missing[i].name,
            gm_kind_name(r->missing[i].kind),
            r->missing[i].source[0] ? r->missing[i].source : "-",
            "MISSING: not measured", "n/a", "n/a",
            r->missing[i].in_total ? "" : "  (not in total)");
  char total_prov[64];
  snprintf(total_prov, sizeof(total_prov), "%s%s", r->total.provenance,
           r->total.partial ? ", PARTIAL" : "");
  fprintf(f, " %-12s %-5s %-14s %-26s %13s %13s %8.2f W\n", "total", "", "",
          total_prov, buf, buf2, dur_s > 0 ? r->total.gross_j / dur_s : 0.0);
  if (r->attributed)
    print_attribution(f, r);
  fprintf(f, "\n %12.3f s   duration (wall clock, CLOCK_MONOTONIC)\n", dur_s);
  fprintf(f,
          " %12.3f s   meter CPU time (sampler + writer threads, %.3f %% of "
          "one core)\n",
          r->meter_cpu_s, dur_s > 0 ? 100.0 * r->meter_cpu_s / dur_s : 0.0);
  fprintf(f,
          " %12.3f s   greenml CPU time (the whole process, start-up included, "
          "%.3f %% of one core)\n",
          s->process_cpu_s, dur_s > 0 ? 100.0 * s->process_cpu_s / dur_s : 0.0);
  bool cores_header = false;
  for (size_t k = 0; k < r->n_metrics; k++) {
    const struct gm_metric_info *mi = &r->metrics[k].info;
    double mean = r->metrics[k].mean, mx = r->metrics[k].max;
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
  fprintf(f,
          " %12.3f g   CO2e gross (%.6f kWh x PUE %.2f x %.0f gCO2e/kWh, %s)\n",
          s->carbon_g, r->total.gross_j / 3.6e6, s->pue, s->intensity,
          s->carbon_source);
  if (s->have_idle && isnan(s->carbon_net_g))
    fprintf(f, " %12s g   CO2e net of idle\n", "n/a");
  else if (s->have_idle)
    fprintf(f, " %12.3f g   CO2e net of idle\n", /* never -0.000 */
            fabs(s->carbon_net_g) < 0.0005 ? 0.0 : s->carbon_net_g);
  if (s->idle_note[0])
    fprintf(f, "\n note: %s\n", s->idle_note);
  print_baseline_notes(f, s);
  for (size_t i = 0; i < r->n_components; i++) {
    const struct gm_component_info *ci = &r->components[i].info;
    if (ci->provenance == GM_PROV_MODELLED)
      fprintf(f, " note: %s is modelled, not measured: %s\n", ci->name,
              ci->detail);
    char w[512];
    for (size_t k = 0;
         gm_run_component_warning(&r->components[i], k, w, sizeof(w)); k++)
      fprintf(f, " warning: %s\n", w);
  }
  for (size_t i = 0; i < r->n_missing; i++)
    fprintf(f, " warning: %s (%s) is missing: %s\n", r->missing[i].name,
            gm_kind_name(r->missing[i].kind), r->missing[i].reason);
  if (r->n_idle_unmatched)
    fprintf(f,
            " warning: the idle baseline was measured with %s, which this run "
            "does not meter: its sources differ from the baseline's\n",
            r->idle_unmatched);
  if (r->total.partial)
    fprintf(f, " warning: the total is PARTIAL, a lower bound: %s\n",
            r->partial_why);
  if (r->missed_ticks)
    fprintf(f,
            " warning: %llu sampling deadlines missed (machine overloaded)\n",
            (unsigned long long)r->missed_ticks);
  if (r->n_phases) {
    fprintf(f,
            "\n %-20s %10s %10s %13s %13s %13s   (in-total components; "
            "provenance as above)\n",
            "phase", "start", "duration", "gross", "net",
            r->attributed ? "command's" : "");
    for (size_t p = 0; p < r->n_phases; p++) {
      const struct gm_run_phase *ph = &r->phases[p];
      char buf3[64] = "";
      gm_cli_fmt_energy(buf, sizeof(buf), ph->total.gross_j);
      fmt_j(buf2, sizeof(buf2), ph->total.net_j);
      if (ph->attributed_j)
        gm_cli_fmt_energy(buf3, sizeof(buf3), ph->attributed_total_j);
      fprintf(f, " %-20s %8.3f s %8.3f s %13s %13s %13s%s\n", ph->name,
              ph->start_s, ph->duration_s, buf, buf2, buf3,
              ph->ended_by_stop ? "  (ended at exit)" : "");
    }
    if (r->attributed)
      fprintf(f, " (command's: gross, %s)\n", r->attribution.provenance);
  }
  fputc('\n', f);
}

/* "net_noise_j", "net_below_noise" (within the noise or below it) and
 * "net_negative" (below zero beyond the noise); null without a net. */
/* Writes the session's document into out and commits it: 0 or an errno
 * value. */
static int write_json(struct gm_cli_file *out, struct gm_session *ses) {
  const char *doc = gm_session_json(ses);
  int err = 0;
  if (!doc)
    err = ENOMEM;
  else if (fputs(doc, out->f) < 0 || fputc('\n', out->f) == EOF)
    err = errno ? errno : EIO;
  if (err)
    gm_cli_file_abort(out);
  else
    err = gm_cli_file_commit(out);
  return err;
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
    O_QUIET,
    O_FORCE_BUSY,
    O_CGROUP
  };
  static const struct option longopts[] = {{"idle", 1, 0, O_IDLE},
                                           {"db", 1, 0, O_DB},
                                           {"no-db", 0, 0, O_NO_DB},
                                           {"json", 1, 0, O_JSON},
                                           {"csv", 1, 0, O_CSV},
                                           {"tag", 1, 0, O_TAG},
                                           GM_CLI_COST_LONGOPTS,
                                           {"quiet", 0, 0, O_QUIET},
                                           {"force-busy", 0, 0, O_FORCE_BUSY},
                                           {"cgroup", 1, 0, O_CGROUP},
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
      if (!gm_cli_db_given("measure", optarg))
        return GM_EXIT_USAGE;
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
    case O_FORCE_BUSY:
      o->force_busy = true;
      break;
    case O_CGROUP:
      if (optarg[0] != '/' || strlen(optarg) >= 256 || strstr(optarg, "..")) {
        gm_cli_error("measure",
                     "--cgroup '%s' is not a cgroup v2 path such as "
                     "/system.slice/job.scope",
                     optarg);
        return GM_EXIT_USAGE;
      }
      o->cgroup = optarg;
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

/* Forks CMD held on a pipe; it gets back the disposition of SIGXFSZ that
 * greenml had (xfsz). Returns the pid, or -1. */
static pid_t spawn_held(char **argv, const struct sigaction *xfsz, int *go_fd,
                        int *err_fd) {
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
    gm_cli_streams_for_child();
    sigaction(SIGXFSZ, xfsz, NULL);
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

/* The idle baseline --idle asks for: measured now (and stored), or the
 * session's choice (the stored one, or none), with the note that says why
 * there is none. 0 or an exit code after printing. */
static int idle_baseline(const struct measure_opts *o, struct gm_session *ses,
                         struct gm_idle_baseline **base, struct summary *s) {
  if (o->idle_ns > 0) {
    int ec = gm_cli_measure_idle("measure", &o->mo, o->idle_ns, o->force_busy,
                                 gm_session_store(ses), gm_session_host_id(ses),
                                 base);
    if (!ec)
      gm_session_set_baseline(ses, *base);
    return ec;
  }
  if (strcmp(o->idle, "auto") == 0 && !gm_session_store(ses))
    snprintf(s->idle_note, sizeof(s->idle_note),
             "--no-db: no stored idle baseline; pass --idle 30s to measure "
             "one");
  return 0;
}

/* Releases the held command and learns whether exec worked: the errno of
 * a failed exec, else 0. A command killed while held (a signal forwarded to
 * it) has closed the pipe: that write must fail with EPIPE, not kill greenml
 * with SIGPIPE. Closes both descriptors. */
static int release(int *go_fd, int *err_fd) {
  char go = 1;
  struct sigaction ign = {0}, old_pipe;
  ign.sa_handler = SIG_IGN;
  sigemptyset(&ign.sa_mask);
  sigaction(SIGPIPE, &ign, &old_pipe);
  /* EPIPE: the command is gone; its status says how */
  ssize_t sent = write(*go_fd, &go, 1);
  (void)sent;
  sigaction(SIGPIPE, &old_pipe, NULL);
  close(*go_fd);
  *go_fd = -1;
  ssize_t got;
  int child_errno = 0;
  do {
    got = read(*err_fd, &child_errno, sizeof(child_errno));
  } while (got < 0 && errno == EINTR);
  close(*err_fd);
  *err_fd = -1;
  return got == (ssize_t)sizeof(child_errno) ? child_errno : 0;
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

  /* Past a file-size limit (ulimit -f) a write fails with EFBIG, which the
   * store reports like a full disk, instead of killing greenml with
   * SIGXFSZ while the command runs on. */
  struct sigaction ign_xfsz = {0}, old_xfsz;
  ign_xfsz.sa_handler = SIG_IGN;
  sigemptyset(&ign_xfsz.sa_mask);
  sigaction(SIGXFSZ, &ign_xfsz, &old_xfsz);

  char *cmdline = join_args(cmd);
  struct run_ctx rc = {0};
  struct gm_store *st = NULL;
  struct gm_store_sample_tally tally;
  struct gm_session *ses = NULL;
  struct gm_idle_baseline *base = NULL;
  struct gm_mark_listener *marks = NULL;
  int go_fd = -1, err_fd = -1;
  pid_t pid = -1;
  /* Written beside their names and renamed when complete (output.h). */
  struct gm_cli_file csv_out, json_out;
  memset(&csv_out, 0, sizeof(csv_out));
  memset(&json_out, 0, sizeof(json_out));

  /* Outputs first: a bad path must fail before the command runs. */
  if (o.csv_path) {
    int e = gm_cli_file_open(&csv_out, o.csv_path);
    if (e) {
      gm_cli_error("measure", "cannot create --csv '%s': %s", o.csv_path,
                   strerror(e));
      ec = GM_EXIT_CANTCREAT;
      goto out;
    }
    rc.csv = csv_out.f;
  }
  if (o.json_path) {
    int e = gm_cli_file_open(&json_out, o.json_path);
    if (e) {
      gm_cli_error("measure", "cannot create --json '%s': %s", o.json_path,
                   strerror(e));
      ec = GM_EXIT_CANTCREAT;
      goto out;
    }
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
    ec = gm_cli_open_store("measure", o.db, &st);
    if (ec)
      goto out;
  }

  /* The marker channel exists before the command is forked, which inherits
   * its path; without one the command runs unmarked. */
  if (gm_mark_listener_open(NULL, &marks, NULL, 0) == GM_OK)
    setenv(GM_MARK_ENV, gm_mark_listener_path(marks), 1);

  /* The command is forked first, held on a pipe, so that the meter knows the
   * process tree to follow; the meter also describes the host. */
  pid = spawn_held(cmd, &old_xfsz, &go_fd, &err_fd);
  if (pid < 0) {
    gm_cli_error("measure", "cannot fork: %s", strerror(errno));
    ec = GM_EXIT_SOFTWARE;
    goto out;
  }
  child_pid = pid;
  struct gm_session_config scfg = gm_session_config_default();
  scfg.meter = gm_cli_meter_config(&o.mo);
  scfg.meter.track_pid = (int)pid;
  scfg.meter.track_cgroup = o.cgroup;
  if (rc.csv) {
    scfg.meter.on_sample = on_sample;
    scfg.meter.on_flush = on_flush;
    scfg.meter.callback_ctx = &rc;
  }
  scfg.store = st;
  scfg.idle =
      strcmp(o.idle, "none") == 0 ? GM_SESSION_IDLE_NONE : GM_SESSION_IDLE_AUTO;
  scfg.kind = "measure";
  scfg.command = cmdline;
  scfg.tags_json = o.n_tags ? o.tags_json : NULL;
  scfg.carbon_g_per_kwh = s.intensity;
  scfg.carbon_source = s.carbon_source;
  scfg.pue = s.pue;
  char serr[512];
  enum gm_status srs = gm_session_open(&scfg, &ses, serr, sizeof(serr));
  if (srs != GM_OK) {
    gm_cli_error("measure", "%s", serr[0] ? serr : gm_status_str(srs));
    ec = srs == GM_ERR_DATABASE    ? GM_EXIT_IOERR
         : srs == GM_ERR_NOT_FOUND ? GM_EXIT_UNAVAIL
                                   : GM_EXIT_SOFTWARE;
    goto out;
  }
  struct gm_meter *m = gm_session_meter(ses);
  ec = idle_baseline(&o, ses, &base, &s);
  if (ec)
    goto out;
  if (rc.csv)
    csv_header(rc.csv, m);

  struct sigaction sa = {0};
  sa.sa_sigaction = forward_signal;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&sa.sa_mask);
  for (size_t i = 0; i < N_FORWARDED; i++)
    sigaction(forwarded[i], &sa, NULL);

  srs = gm_session_start(ses);
  if (srs != GM_OK) {
    if (st && gm_session_run_id(ses) == 0) {
      gm_cli_error("measure", "%s; '%s' was not run",
                   gm_session_last_error(ses), cmd[0]);
      ec = GM_EXIT_IOERR;
    } else {
      gm_cli_error("measure", "%s", gm_session_last_error(ses));
      ec = GM_EXIT_SOFTWARE;
    }
    goto out;
  }
  if (st && !gm_session_baseline(ses) && strcmp(o.idle, "auto") == 0)
    snprintf(s.idle_note, sizeof(s.idle_note),
             "no idle baseline for this host, net energy not computed: "
             "run 'greenml idle' once, or pass --idle 30s");
  if (marks && gm_mark_listener_start(marks, m) != GM_OK)
    gm_cli_error("measure", "%s; phase markers are ignored",
                 gm_mark_listener_last_error(marks));

  int exec_errno = release(&go_fd, &err_fd);
  /* Waits for the command's exit without reaping it: until it is reaped its
   * CPU time (children included) stays readable in /proc, so the meter's
   * last reading charges the command the work of its last moments. */
  siginfo_t si;
  memset(&si, 0, sizeof(si));
  while (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) < 0 && errno == EINTR)
    ;
  /* The markers the command wrote before it exited are applied while the
   * meter still runs: a stopped meter refuses them. */
  gm_mark_listener_stop(marks);
  s.marker_bad_lines = gm_mark_listener_bad_lines(marks);
  gm_mark_listener_rejected(marks, &s.marker_rejected);
  if (marks)
    gm_session_set_markers(ses, s.marker_bad_lines, &s.marker_rejected);
  if (si.si_code == CLD_EXITED)
    s.exit_code = si.si_status;
  else if (si.si_code == CLD_KILLED || si.si_code == CLD_DUMPED)
    s.exit_code = 128 + si.si_status;
  else
    s.exit_code = 127;
  if (exec_errno) {
    gm_cli_error("measure", "cannot run '%s': %s", cmd[0],
                 strerror(exec_errno));
    s.exit_code = 127;
  }

  /* THE output rule (README, "Exit codes"): the command's status, unless an
   * output greenml was asked for (the database, its samples included, --json,
   * --csv) could not be written: then 74, the command's status still in the
   * outputs that were. A run whose samples are not all stored is recorded
   * incomplete with the cause (gm_session_stop). The files and the database
   * are complete before the summary is printed: a closed or broken stderr
   * loses nothing else. */
  srs = gm_session_stop(ses, s.exit_code);
  int status = 0;
  struct rusage ru;
  memset(&ru, 0, sizeof(ru));
  while (wait4(pid, &status, 0, &ru) < 0 && errno == EINTR)
    ;
  child_pid = 0;
  pid = -1;
  s.command_cpu_s = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
                    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
  const struct gm_run_record *rec = gm_session_record(ses);
  if (!rec) {
    gm_cli_error("measure", "%s", gm_session_last_error(ses));
    ec = GM_EXIT_SOFTWARE;
    goto out;
  }
  s.rec = rec;
  s.base = gm_session_baseline(ses);
  s.mo = &o.mo;
  for (size_t i = 0; i < rec->n_components; i++)
    s.have_idle |= !isnan(rec->components[i].idle_w);
  if (s.base)
    note_missing_baseline(&s);
  s.carbon_g = gm_carbon_grams(rec->total.gross_j, s.intensity, s.pue);
  s.carbon_net_g = gm_carbon_grams(rec->total.net_j, s.intensity, s.pue);
  bool lost = false, store_failed = false;
  if (st) {
    store_failed = srs != GM_OK;
    gm_session_tally(ses, &tally);
    s.stored = &tally;
    s.store_complete = !store_failed;
    if (store_failed) {
      gm_cli_error("measure", "%s (database '%s')", gm_session_last_error(ses),
                   o.db);
      lost = true;
    }
  }
  /* the whole process: start-up, every thread, the store's last writes */
  struct rusage self;
  if (getrusage(RUSAGE_SELF, &self) == 0)
    s.process_cpu_s =
        (double)self.ru_utime.tv_sec + self.ru_utime.tv_usec / 1e6 +
        (double)self.ru_stime.tv_sec + self.ru_stime.tv_usec / 1e6;
  else
    s.process_cpu_s = NAN;
  gm_session_set_cpu(ses, s.command_cpu_s, s.process_cpu_s);
  int json_err = 0, csv_err = 0;
  if (o.json_path)
    json_err = write_json(&json_out, ses);
  if (rc.csv) {
    rc.csv = NULL; /* the writer thread has been joined */
    if (rc.csv_failed) {
      csv_err = EIO;
      gm_cli_file_abort(&csv_out);
    } else {
      csv_err = gm_cli_file_commit(&csv_out);
    }
  }
  if (!exec_errno) {
    if (!o.quiet)
      print_summary(stderr, &s, cmdline);
    if (st && !o.quiet && !store_failed)
      fprintf(stderr, " stored as run %lld in '%s'\n\n",
              (long long)gm_session_run_id(ses), o.db);
  }
  if (json_err)
    gm_cli_error("measure", "cannot write --json '%s': %s", o.json_path,
                 strerror(json_err));
  if (csv_err)
    gm_cli_error("measure", "cannot write --csv '%s': %s", o.csv_path,
                 strerror(csv_err));
  lost |= json_err || csv_err;
  if (s.marker_bad_lines)
    gm_cli_error("measure", "%u malformed phase markers ignored",
                 s.marker_bad_lines);
  const struct gm_mark_rejected *mr = &s.marker_rejected;
  if (mr->before_start + mr->out_of_order + mr->in_future)
    gm_cli_error("measure",
                 "warning: %u phase markers rejected for their timestamps "
                 "(%u before the start, %u before the phase boundary already "
                 "applied, %u in the future); phases as if never written",
                 mr->before_start + mr->out_of_order + mr->in_future,
                 mr->before_start, mr->out_of_order, mr->in_future);
  ec = s.exit_code;
  if (lost) {
    gm_cli_error("measure",
                 "exit %d: an output was not written (above); the command "
                 "exited with status %d",
                 GM_EXIT_IOERR, s.exit_code);
    ec = GM_EXIT_IOERR;
  }

out:
  if (go_fd >= 0)
    close(go_fd); /* the held command sees EOF and exits 127 */
  if (err_fd >= 0)
    close(err_fd);
  if (pid > 0)
    waitpid(pid, NULL, 0);
  gm_mark_listener_close(marks); /* before the meter it feeds */
  gm_session_close(ses);
  gm_store_close(st);
  gm_cli_file_abort(&csv_out); /* no-ops once committed */
  gm_cli_file_abort(&json_out);
  gm_idle_baseline_free(base);
  free(cmdline);
  sigaction(SIGXFSZ, &old_xfsz, NULL);
  return ec;
}

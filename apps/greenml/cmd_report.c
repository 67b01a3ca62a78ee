/* cmd_report.c: `greenml report`: one self-contained HTML page (inline CSS
 * and SVG, no script, no external reference) with the study's figures
 * (Figs. 2-7 of the paper), the models' characteristics and the energy,
 * carbon and cost per model, every number with its unit and provenance.
 * The data come from the library (greenml/report.h, read from a store
 * opened read-only), the figures from report_figures.c (gnuplot, whose
 * files stay in the figures' directory for re-use); this file holds the
 * flags, the exit codes and the HTML. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "greenml/analysis.h"
#include "output.h"
#include "greenml/version.h"
#include "report.h"

static const char usage_text[] =
    "usage: greenml report [--db PATH] [--run NAME|ID] [--out FILE]\n"
    "                      [--figures DIR] [carbon and cost options]\n"
    "       greenml report --from-run ID [--db PATH] [--out FILE] ...\n"
    "\n"
    "Writes one self-contained HTML page (it opens offline: inline SVG and\n"
    "CSS, no script) from the benches in the database: duration (Fig. 2),\n"
    "power per part (Fig. 3), power against utilisation (Fig. 4), loss,\n"
    "accuracy and energy per epoch (Fig. 5), energy against MACs per\n"
    "parameter on log-log axes with the fit of greenml estimate and\n"
    "correlations (Fig. 6), energy against batch size (Fig. 7), the models'\n"
    "characteristics and the energy, carbon and cost per model. A figure\n"
    "whose data are missing is left out with the reason. The database is\n"
    "only read. Needs gnuplot (apt-get install gnuplot-nox).\n"
    "\n"
    "  --db PATH            database (default "
    "$XDG_DATA_HOME/greenml/greenml.db)\n"
    "  --run NAME|ID        the bench to report (default: every complete "
    "one)\n"
    "  --out FILE           the HTML page (default report.html)\n"
    "  --figures DIR        where each figure's data, gnuplot script, SVG,\n"
    "                       PNG and PDF go (default: FILE without .html,\n"
    "                       plus -figures)\n"
    "  --gross              figures on gross energy (default: net when every\n"
    "                       phase has one, leaving out and counting those\n"
    "                       whose net is not above 0)\n"
    "  --from-run ID        report one measured run ('greenml runs' lists\n"
    "                       them: greenml measure, the Python package):\n"
    "                       power per component over time with its phases\n"
    "                       shaded, utilisation, energy per component and\n"
    "                       per phase, carbon and cost\n" GM_CLI_COST_HELP;

enum { O_OUT = GM_OPT_FIRST_FREE, O_FIGURES, O_GROSS, O_FROM_RUN };

struct report_opts {
  const char *db, *run, *out, *figures;
  bool gross;
  int64_t from_run;
  struct gm_cli_cost cost;
};

/* ---- HTML helpers -------------------------------------------------------- */

static void html(FILE *fp, const char *s) {
  for (; *s; s++) {
    switch (*s) {
    case '<':
      fputs("&lt;", fp);
      break;
    case '>':
      fputs("&gt;", fp);
      break;
    case '&':
      fputs("&amp;", fp);
      break;
    case '"':
      fputs("&quot;", fp);
      break;
    default:
      fputc(*s, fp);
    }
  }
}

/* A net energy cell: as td_energy, marked "†" when not above 0 (explained
 * below the table); *marked records that one was. */
static void td_net(FILE *fp, double j, bool *marked);

/* An energy cell with its unit: "571.0 J", "17.74 kJ", or "n/a". */
static void td_energy(FILE *fp, double j) {
  double a = fabs(j);
  if (a < 0.0005)
    j = 0.0; /* 0.000 J, never -0.000 J */
  if (isnan(j))
    fputs("<td class=\"num\">n/a</td>", fp);
  else if (a >= 1e6)
    fprintf(fp, "<td class=\"num\">%.3f MJ</td>", j / 1e6);
  else if (a >= 1e3)
    fprintf(fp, "<td class=\"num\">%.2f kJ</td>", j / 1e3);
  else
    fprintf(fp, "<td class=\"num\">%.*f J</td>", a >= 100 ? 1 : 3, j);
}

static void td_carbon(FILE *fp, double g) {
  if (g < 1)
    fprintf(fp, "<td class=\"num\">%.3g gCO2e</td>", g);
  else
    fprintf(fp, "<td class=\"num\">%.*f gCO2e</td>", g < 10 ? 2 : 1, g);
}

static const char css[] =
    "body{font-family:Helvetica,Arial,sans-serif;margin:2em auto;"
    "max-width:1250px;padding:0 1em;color:#222;line-height:1.4}"
    "h1{font-size:1.6em}h2{margin-top:2em;border-bottom:2px solid #ccc}"
    "h3{margin-top:1.6em}"
    "table{border-collapse:collapse;margin:.6em 0;font-size:.88em}"
    "th,td{border:1px solid #ccc;padding:.25em .5em;vertical-align:top}"
    "th{background:#f0f0f0;text-align:left}td.num{text-align:right;"
    "white-space:nowrap}tr:nth-child(even) td{background:#fafafa}"
    "tr.total td{font-weight:bold}"
    "figure{margin:1.5em 0;padding:0}figure svg{width:100%;height:auto;"
    "max-width:1250px;display:block}"
    "figcaption{font-size:.9em;margin-top:.4em}"
    ".omitted{background:#fff6e0;border-left:4px solid #e8a33d;"
    "padding:.4em .8em}.partial{color:#8a5a00}.files{color:#666;"
    "font-size:.85em}.prov{color:#555;font-size:.9em}";

/* ---- sections ------------------------------------------------------------ */

static void write_benches(FILE *fp, const struct gm_report *d,
                          const struct report_opts *o) {
  fputs("<section id=\"benches\"><h2>Benches</h2>\n<p>", fp);
  if (o->run) {
    fputs("Selected with --run ", fp);
    html(fp, o->run);
  } else {
    fprintf(fp, "Every complete bench in the database (%zu)", d->n_benches);
  }
  fputs(".</p>\n<table><tr><th>Bench</th><th>Id</th><th>Status</th>"
        "<th>Created (UTC)</th><th>Grid</th></tr>\n",
        fp);
  for (size_t i = 0; i < d->n_benches; i++) {
    const struct gm_report_bench *b = &d->benches[i];
    fputs("<tr><td>", fp);
    html(fp, b->name);
    fprintf(fp, "</td><td class=\"num\">%lld</td><td>", (long long)b->id);
    html(fp, b->status);
    fputs("</td><td>", fp);
    html(fp, b->created);
    fputs("</td><td>", fp);
    html(fp, b->grid);
    fputs("</td></tr>\n", fp);
  }
  fputs("</table></section>\n", fp);
}

static void write_components(FILE *fp, const struct gm_report_group *g) {
  fputs("<h3>How each component was measured</h3>\n<table><tr><th>Component"
        "</th><th>Kind</th><th>Source</th><th>Provenance</th><th>In the "
        "total</th><th>Detail</th></tr>\n",
        fp);
  for (size_t i = 0; i < g->n_components; i++) {
    const struct gm_report_component *c = &g->components[i];
    fputs("<tr><td>", fp);
    html(fp, c->name);
    fputs("</td><td>", fp);
    html(fp, c->kind);
    fputs("</td><td>", fp);
    html(fp, c->source);
    fputs("</td><td>", fp);
    html(fp, c->prov);
    fprintf(fp, "</td><td>%s</td><td>",
            c->in_total ? "yes"
                        : "no (inside "
                          "another)");
    html(fp, c->detail);
    fputs("</td></tr>\n", fp);
  }
  fputs("</table>\n", fp);
  if (!g->metered)
    fputs("<p class=\"partial\">No energy was measured: the bench ran "
          "unmetered (--no-meter), so only durations are shown.</p>\n",
          fp);
  else if (!g->part[GM_REPORT_GPU].present)
    fputs("<p class=\"partial\">No GPU was measured on this host: the "
          "figures and tables have no GPU part.</p>\n",
          fp);
}

static void write_models(FILE *fp, const struct gm_report_group *g) {
  fputs("<h3>Model characteristics</h3>\n<p class=\"prov\">Counted from each "
        "model's graph when the bench ran (as <code>greenml models</code> "
        "prints them): parameters, size of parameters and buffers, "
        "multiply-accumulates per 3x32x32 sample.</p>\n<table><tr><th>Model"
        "</th><th>Parameters (M)</th><th>Size (MB)</th><th>MACs per sample "
        "(M)</th><th>MACs per parameter</th></tr>\n",
        fp);
  for (size_t i = 0; i < g->n_models; i++) {
    const struct gm_report_model *m = &g->models[i];
    fputs("<tr><td>", fp);
    html(fp, m->name);
    fprintf(fp,
            "</td><td class=\"num\">%.3f M</td><td class=\"num\">%.2f MB</td>"
            "<td class=\"num\">%.1f M</td><td class=\"num\">%.1f</td></tr>\n",
            (double)m->params / 1e6, (double)m->size_bytes / 1e6,
            (double)m->macs / 1e6, m->macs_per_param);
  }
  fputs("</table>\n", fp);
}

static void write_figure(FILE *fp, const struct rep_figure *f,
                         const char *dir) {
  if (!f->svg) {
    fprintf(fp, "<p class=\"omitted\" id=\"%s-omitted\">", f->id);
    html(fp, f->omitted);
    fputs("</p>\n", fp);
    return;
  }
  fprintf(fp, "<figure id=\"%s\">\n%s\n<figcaption><b>Fig. %d.</b> ", f->id,
          f->svg, f->number);
  html(fp, f->title);
  fputs(". ", fp);
  html(fp, f->caption);
  if (f->partial[0]) {
    fputs(" <span class=\"partial\">", fp);
    html(fp, f->partial);
    fputs("</span>", fp);
  }
  fputs("<br><span class=\"files\">Files in ", fp);
  html(fp, dir);
  fputs(": ", fp);
  html(fp, f->files);
  fprintf(fp,
          " (re-draw with: gnuplot %s.gp)</span></figcaption>\n"
          "</figure>\n",
          f->id);
}

static void td_net(FILE *fp, double j, bool *marked) {
  if (isnan(j) || j > 0) {
    td_energy(fp, j);
    return;
  }
  *marked = true;
  double a = fabs(j);
  if (a < 0.0005)
    j = 0.0; /* 0.000 J, never -0.000 J */
  if (a >= 1e3)
    fprintf(fp, "<td class=\"num net-low\">%.2f kJ &dagger;</td>", j / 1e3);
  else
    fprintf(fp, "<td class=\"num net-low\">%.*f J &dagger;</td>",
            a >= 100 ? 1 : 3, j);
}

/* Energy, carbon and cost per model at the group's main batch size. */
static void write_energy(FILE *fp, const struct gm_report_group *g,
                         const struct report_opts *o) {
  const struct gm_cli_cost *c = &o->cost;
  bool price = !isnan(c->price_per_kwh);
  if (!g->metered) {
    fputs("<h3>Energy, carbon and cost per model</h3>\n<p class=\"omitted\">"
          "No energy was measured (the bench ran unmetered), so there is no "
          "energy, carbon or cost to show.</p>\n",
          fp);
    return;
  }
  fprintf(fp,
          "<h3>Energy, carbon and cost per model</h3>\n<p class=\"prov\">"
          "Batch size %d. Training: all its epochs; inference: all its "
          "passes. Gross energy is what the parts drew; net energy has each "
          "part's idle power x duration subtracted (n/a without an idle "
          "baseline). Provenance of the totals: ",
          g->main_batch);
  html(fp, g->energy_prov);
  fprintf(fp, ". Carbon is of the gross total x PUE %.2f at %.4g gCO2e/kWh (",
          c->pue, c->g_per_kwh);
  html(fp, c->source);
  fputs(")", fp);
  if (price) {
    fprintf(fp, "; cost at %.4g ", c->price_per_kwh);
    html(fp, c->currency);
    fputs(" per kWh", fp);
  }
  fputs(".</p>\n<table><tr><th>Model</th><th>Training, gross</th><th>"
        "Training, net</th><th>Inference, gross</th><th>Inference, net</th>",
        fp);
  for (int p = 0; p < GM_REPORT_N_PARTS; p++)
    if (g->part[p].present) {
      fprintf(fp, "<th>%s (%s)</th>",
              gm_report_part_label((enum gm_report_part)p), g->part[p].prov);
    }
  fputs("<th>Total, gross</th><th>Total, net</th><th>Carbon (gCO2e)</th>", fp);
  if (price) {
    fputs("<th>Cost (", fp);
    html(fp, c->currency);
    fputs(")</th>", fp);
  }
  fputs("</tr>\n", fp);
  /* the four phase columns, the parts, gross, net */
  double sum[4 + GM_REPORT_N_PARTS + 2] = {0};
  bool marked = false;
  for (size_t i = 0; i < g->n_models; i++) {
    const struct gm_report_cell *cell =
        gm_report_cell_find(g, g->models[i].name, g->main_batch);
    if (!cell)
      continue;
    const struct gm_report_phases *tr = &cell->ph[GM_REPORT_TRAIN],
                                  *in = &cell->ph[GM_REPORT_INFER];
    double gross = (tr->n ? tr->energy_j : 0) + (in->n ? in->energy_j : 0);
    double net =
        (tr->n ? tr->net_energy_j : 0) + (in->n ? in->net_energy_j : 0);
    fputs("<tr><td>", fp);
    html(fp, cell->model);
    fputs("</td>", fp);
    double v[4] = {tr->n ? tr->energy_j : NAN, tr->n ? tr->net_energy_j : NAN,
                   in->n ? in->energy_j : NAN, in->n ? in->net_energy_j : NAN};
    for (int k = 0; k < 4; k++) {
      if (k % 2)
        td_net(fp, v[k], &marked);
      else
        td_energy(fp, v[k]);
      sum[k] += v[k];
    }
    for (int p = 0; p < GM_REPORT_N_PARTS; p++) {
      if (!g->part[p].present)
        continue;
      double e = 0;
      for (int k = 0; k < GM_REPORT_N_KINDS; k++)
        if (cell->ph[k].n)
          e += cell->ph[k].power_w[p] * cell->ph[k].duration_s;
      td_energy(fp, e);
      sum[4 + p] += e;
    }
    td_energy(fp, gross);
    td_net(fp, net, &marked);
    sum[4 + GM_REPORT_N_PARTS] += gross;
    sum[5 + GM_REPORT_N_PARTS] += net;
    td_carbon(fp, gm_cli_cost_carbon_g(c, gross));
    if (price) {
      fprintf(fp, "<td class=\"num\">%.4f ", gm_cli_cost_money(c, gross));
      html(fp, c->currency);
      fputs("</td>", fp);
    }
    fputs("</tr>\n", fp);
  }
  fputs("<tr class=\"total\"><td>All models</td>", fp);
  for (int k = 0; k < 4; k++)
    if (k % 2)
      td_net(fp, sum[k], &marked);
    else
      td_energy(fp, sum[k]);
  for (int p = 0; p < GM_REPORT_N_PARTS; p++)
    if (g->part[p].present)
      td_energy(fp, sum[4 + p]);
  td_energy(fp, sum[4 + GM_REPORT_N_PARTS]);
  td_net(fp, sum[5 + GM_REPORT_N_PARTS], &marked);
  td_carbon(fp, gm_cli_cost_carbon_g(c, sum[4 + GM_REPORT_N_PARTS]));
  if (price) {
    fprintf(fp, "<td class=\"num\">%.4f ",
            gm_cli_cost_money(c, sum[4 + GM_REPORT_N_PARTS]));
    html(fp, c->currency);
    fputs("</td>", fp);
  }
  fputs("</tr>\n</table>\n", fp);
  if (marked)
    fputs("<p class=\"partial\" id=\"net-low\">&dagger; A net energy at or "
          "below 0: the parts drew no more than the idle baseline says, which "
          "no work does, so the baseline does not describe these phases (it "
          "was measured on a busier machine, or another way); the figures "
          "leave them out when they use net energy (greenml report --gross "
          "draws every phase on gross energy).</p>\n",
          fp);
  if (!price)
    fputs("<p class=\"prov\">No cost: give the electricity price with "
          "<code>--price P</code> (per kWh) and <code>--currency C</code>."
          "</p>\n",
          fp);
}

static void write_group(FILE *fp, const struct gm_report_group *g,
                        const struct rep_figure figs[REP_N_FIGURES],
                        const struct report_opts *o) {
  fprintf(fp, "<section id=\"%s\"><h2>", g->prefix[0] ? g->prefix : "host");
  if (g->prefix[0])
    fprintf(fp, "%s: ", g->prefix);
  html(fp, g->host);
  fputs("</h2>\n<p>Benches: ", fp);
  html(fp, g->bench_names);
  fputs(".", fp);
  if (g->n_superseded)
    fprintf(fp,
            " %zu (model, batch size) cell%s measured by more than one bench "
            "use%s the newest bench's rows.",
            g->n_superseded, g->n_superseded == 1 ? "" : "s",
            g->n_superseded == 1 ? "s" : "");
  fprintf(fp,
          " Figures 2 to 6 and the tables are at batch size %d, the size "
          "measured for the most models.",
          g->main_batch);
  size_t others = 0;
  for (size_t i = 0; i < g->n_models; i++)
    if (!gm_report_cell_find(g, g->models[i].name, g->main_batch)) {
      fputs(others++ ? ", " : " Not measured at that size: ", fp);
      html(fp, g->models[i].name);
    }
  fputs(others ? ".</p>\n" : "</p>\n", fp);
  write_components(fp, g);
  write_models(fp, g);
  fputs("<h3>Figures</h3>\n", fp);
  for (int i = 0; i < REP_N_FIGURES; i++)
    write_figure(fp, &figs[i], o->figures);
  write_energy(fp, g, o);
  fputs("</section>\n", fp);
}

static void write_head(FILE *fp, const struct gm_report *d,
                       const struct report_opts *o) {
  char now[32];
  time_t t = time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(now, sizeof(now), "%Y-%m-%d %H:%M UTC", &tm);
  fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">"
        "\n<meta name=\"viewport\" content=\"width=device-width, "
        "initial-scale=1\">\n<title>greenml report: ",
        fp);
  for (size_t i = 0; i < d->n_benches; i++) {
    fputs(i ? ", " : "", fp);
    html(fp, d->benches[i].name);
  }
  fprintf(fp, "</title>\n<style>%s</style>\n</head>\n<body>\n", css);
  fputs("<header><h1>Energy of training and inference</h1>\n<p>Generated by "
        "greenml " GM_VERSION_STRING " on ",
        fp);
  fprintf(fp, "%s from ", now);
  html(fp, o->db);
  fputs(". Figures follow Mavromatis, Katsaros and Khan, <i>Computing "
        "Within Limits: An Empirical Study of Energy Consumption in ML "
        "Training and Inference</i> (2024), Figs. 2-7.</p>\n<p class=\"prov\">"
        "Provenance of every energy and power: <b>measured counter</b> (a "
        "hardware energy counter, RAPL or NVML, differenced), <b>measured "
        "power</b> (a hardware power sensor, integrated over time) or "
        "<b>modelled</b> (no hardware measurement: TDP x utilisation for a "
        "CPU, N x 1/2 C V<sup>2</sup> f for DRAM); <b>mixed</b> when a "
        "total adds up parts of different provenance. Durations are "
        "measured wall-clock time.</p></header>\n",
        fp);
}

/* ---- the command --------------------------------------------------------- */

static int parse(int argc, char **argv, struct report_opts *o) {
  struct gm_cli_results_opts ro;
  gm_cli_results_opts_init(&ro);
  static const struct option longopts[] = {{"out", 1, 0, O_OUT},
                                           {"figures", 1, 0, O_FIGURES},
                                           {"gross", 0, 0, O_GROSS},
                                           {"from-run", 1, 0, O_FROM_RUN},
                                           GM_CLI_RESULTS_LONGOPTS,
                                           {"help", 0, 0, 'h'},
                                           {0}};
  int opt;
  optind = 1;
  while ((opt = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
    int r = gm_cli_results_opt(&ro, opt, optarg, "report");
    if (r < 0)
      return GM_EXIT_USAGE;
    if (r > 0)
      continue;
    switch (opt) {
    case O_OUT:
      o->out = optarg;
      break;
    case O_FIGURES:
      o->figures = optarg;
      break;
    case O_GROSS:
      o->gross = true;
      break;
    case O_FROM_RUN:
      if (gm_cli_parse_run_id("report", optarg, &o->from_run))
        return GM_EXIT_USAGE;
      break;
    case 'h':
      fputs(usage_text, stdout);
      return -1;
    default:
      fputs(usage_text, stderr);
      return GM_EXIT_USAGE;
    }
  }
  o->db = ro.db;
  o->run = ro.run;
  if (optind < argc) {
    gm_cli_error("report", "unexpected argument '%s'", argv[optind]);
    return GM_EXIT_USAGE;
  }
  if (!*o->out) {
    gm_cli_error("report", "--out needs a file name");
    return GM_EXIT_USAGE;
  }
  if (o->from_run && (o->run || o->gross)) {
    gm_cli_error("report", "--from-run reports one measured run: --run (a "
                           "bench) and --gross do not apply");
    return GM_EXIT_USAGE;
  }
  return gm_cli_cost_resolve("report", &ro.cost, &o->cost);
}

/* Opens the database read-only: a report never creates, migrates or
 * configures one. */
static int open_db(const struct report_opts *o, struct gm_store **st) {
  char fix[1200];
  snprintf(fix, sizeof(fix),
           "measure into it first (greenml %s --db %s) or pass --db PATH",
           o->from_run ? "measure" : "bench", o->db);
  return gm_cli_open_store_readonly("report", o->db, fix, st);
}

static int load(const struct report_opts *o, struct gm_store *st,
                struct gm_report *d) {
  char err[1024];
  enum gm_status rc = gm_report_load(st, o->run, d, err, sizeof(err));
  if (rc == GM_OK)
    return 0;
  switch (rc == GM_ERR_NOT_FOUND ? d->missing : GM_REPORT_MISSING_NOTHING) {
  case GM_REPORT_MISSING_BENCHES:
    gm_cli_error("report",
                 "'%s': %s; run the study first: greenml bench --db %s", o->db,
                 err, o->db);
    return GM_EXIT_DATAERR;
  case GM_REPORT_MISSING_NAMED:
    gm_cli_error("report", "'%s': %s", o->db, err);
    return GM_EXIT_NOINPUT;
  case GM_REPORT_MISSING_COMPLETE:
    gm_cli_error("report",
                 "'%s': %s; finish one (greenml bench --db %s --resume "
                 "--run-id NAME) or report it as it is with --run NAME",
                 o->db, err, o->db);
    return GM_EXIT_DATAERR;
  case GM_REPORT_MISSING_PHASES:
    gm_cli_error("report", "'%s': %s; run it (greenml bench --resume)", o->db,
                 err);
    return GM_EXIT_DATAERR;
  case GM_REPORT_MISSING_NOTHING:
    break;
  }
  gm_cli_error("report", "'%s': %s", o->db, err);
  return rc == GM_ERR_NO_MEMORY ? GM_EXIT_SOFTWARE : GM_EXIT_IOERR;
}

/* Draws every group's figures and writes the page into fp. */
/* The short-profile predictions and their errors, when benches made any. */
static void write_predictions(FILE *fp, const struct gm_report *d) {
  if (!d->n_predictions)
    return;
  fputs("<section id=\"predictions\"><h2>Predictions from short "
        "profiles</h2>\n<p>Made by <code>greenml bench --profile-epochs K"
        "</code> from the first K epochs (training) or the same share of one "
        "pass (inference), for all the cell's epochs or passes: per-sample "
        "rates of the profile's windows extrapolated, with the 95 % Student-t "
        "interval of the windows' mean rate. With <code>--verify</code> the "
        "full run was measured too and the error is the prediction's, "
        "relative to the measurement.</p>\n<table><tr><th>Bench</th>"
        "<th>Model</th><th>Batch</th><th>Phase</th><th>Profile (epochs)</th>"
        "<th>Predicted energy</th><th>95 % interval</th><th>Measured energy"
        "</th><th>Energy error</th><th>Predicted time</th><th>Measured time"
        "</th><th>Time error</th><th>Provenance</th></tr>\n",
        fp);
  for (size_t i = 0; i < d->n_predictions; i++) {
    const struct gm_report_prediction *p = &d->predictions[i];
    fputs("<tr><td>", fp);
    html(fp, p->bench);
    fputs("</td><td>", fp);
    html(fp, p->model);
    fprintf(fp,
            "</td><td class=\"num\">%d</td><td>%s</td>"
            "<td class=\"num\">%g</td>",
            p->batch, strcmp(p->kind, "train") == 0 ? "training" : "inference",
            p->profile_epochs);
    td_energy(fp, p->energy_j);
    if (isnan(p->energy_lo_j))
      fputs("<td>n/a</td>", fp);
    else
      fprintf(fp, "<td class=\"num\">%.4g .. %.4g J</td>", p->energy_lo_j,
              p->energy_hi_j);
    td_energy(fp, p->actual_energy_j);
    if (isnan(p->actual_energy_j) || !(p->actual_energy_j > 0))
      fputs("<td>not measured</td>", fp);
    else
      fprintf(fp, "<td class=\"num\">%+.1f %%</td>",
              100 * (p->energy_j - p->actual_energy_j) / p->actual_energy_j);
    fprintf(fp, "<td class=\"num\">%.1f s</td>", p->duration_s);
    if (isnan(p->actual_duration_s) || !(p->actual_duration_s > 0))
      fputs("<td>n/a</td><td>not measured</td>", fp);
    else
      fprintf(
          fp, "<td class=\"num\">%.1f s</td><td class=\"num\">%+.1f %%</td>",
          p->actual_duration_s,
          100 * (p->duration_s - p->actual_duration_s) / p->actual_duration_s);
    fputs("<td>", fp);
    html(fp, p->prov);
    fputs("</td></tr>\n", fp);
  }
  fputs("</table></section>\n", fp);
}

/* The precisions side by side: a table and Fig. 10, when cells were
 * measured in both. 0 or an exit code (printed). */
static int write_precisions(FILE *fp, struct rep_plotter *pl,
                            const struct gm_analysis_precision_row *rows,
                            size_t n, const char *dir, size_t *n_drawn) {
  if (n == 0)
    return 0;
  fputs("<section id=\"precisions\"><h2>Precisions compared</h2>\n<p>The "
        "same cells in fp32 and in bf16 (<code>greenml bench --precisions "
        "fp32,bf16</code>): bf16 rounds the operands of convolutions and "
        "linear layers to bfloat16, with float32 master weights, batch norm "
        "and loss. Energy is gross, measured per phase; the accuracy is the "
        "last epoch's. The figures and tables above show each bench's first "
        "precision.</p>\n<table><tr><th>Model</th><th>Batch</th><th>Phase"
        "</th><th>fp32 J/sample</th><th>bf16 J/sample</th><th>Energy ratio"
        "</th><th>fp32 s/sample</th><th>bf16 s/sample</th><th>Time ratio</th>"
        "<th>fp32 accuracy</th><th>bf16 accuracy</th><th>Provenance</th></tr>"
        "\n",
        fp);
  for (size_t i = 0; i < n; i++) {
    const struct gm_analysis_precision_row *r = &rows[i];
    fputs("<tr><td>", fp);
    html(fp, r->model);
    fprintf(fp, "</td><td class=\"num\">%d</td><td>%s</td>", r->batch_size,
            strcmp(r->kind, "train") == 0 ? "training" : "inference");
    const double v[] = {r->j_per_sample[0], r->j_per_sample[1], r->energy_ratio,
                        r->s_per_sample[0], r->s_per_sample[1], r->time_ratio};
    const char *unit[] = {" J", " J", "", " s", " s", ""};
    for (int k = 0; k < 6; k++)
      if (isfinite(v[k]))
        fprintf(fp, "<td class=\"num\">%.4g%s</td>", v[k], unit[k]);
      else
        fputs("<td class=\"num\">n/a</td>", fp);
    for (int q = 0; q < 2; q++)
      if (isfinite(r->accuracy[q]))
        fprintf(fp, "<td class=\"num\">%.2f %%</td>", 100 * r->accuracy[q]);
      else
        fputs("<td class=\"num\">n/a</td>", fp);
    fputs("<td>", fp);
    html(fp, r->provenance);
    fputs("</td></tr>\n", fp);
  }
  fputs("</table>\n", fp);
  struct rep_figure f;
  enum gm_status rc = rep_draw_precision_figure(pl, rows, n, &f);
  if (rc != GM_OK) {
    free(f.svg);
    if (rc == GM_ERR_UNAVAILABLE) {
      gm_cli_error("report", "%s; install gnuplot: apt-get install gnuplot-nox",
                   pl->err);
      return GM_EXIT_UNAVAIL;
    }
    gm_cli_error("report", "%s", pl->err);
    return rc == GM_ERR_IO ? GM_EXIT_CANTCREAT : GM_EXIT_SOFTWARE;
  }
  write_figure(fp, &f, dir);
  if (f.svg)
    (*n_drawn)++;
  free(f.svg);
  fputs("</section>\n", fp);
  return 0;
}

/* The engines side by side: a table and Fig. 8, when benches of both ran
 * the same cells. 0 or an exit code (printed). */
static int write_engines(FILE *fp, struct rep_plotter *pl,
                         const struct gm_analysis_engine_row *rows, size_t n,
                         const char *dir, size_t *n_drawn) {
  if (n == 0)
    return 0;
  fputs("<section id=\"engines\"><h2>Engines compared</h2>\n<p>The same "
        "cells run by greenml's C engine and by PyTorch (<code>greenml bench "
        "--engine torch</code>): the same protocol, data order, augmentation "
        "and batches, measured by the same meter; only the arithmetic "
        "differs. Energy is gross.</p>\n<table><tr><th>Model</th><th>Batch"
        "</th><th>Phase</th><th>greenml samples/s</th><th>PyTorch samples/s"
        "</th><th>Speedup</th><th>greenml J/sample</th><th>PyTorch J/sample"
        "</th><th>Energy ratio</th><th>Provenance</th></tr>\n",
        fp);
  for (size_t i = 0; i < n; i++) {
    const struct gm_analysis_engine_row *r = &rows[i];
    fputs("<tr><td>", fp);
    html(fp, r->model);
    fprintf(fp,
            "</td><td class=\"num\">%d</td><td>%s</td><td class=\"num\">%.1f"
            "</td><td class=\"num\">%.1f</td><td class=\"num\">%.2fx</td>",
            r->batch_size,
            strcmp(r->kind, "train") == 0 ? "training" : "inference",
            r->samples_per_s[0], r->samples_per_s[1],
            r->samples_per_s[0] / r->samples_per_s[1]);
    for (int e = 0; e < 2; e++)
      if (isfinite(r->j_per_sample[e]))
        fprintf(fp, "<td class=\"num\">%.4g J</td>", r->j_per_sample[e]);
      else
        fputs("<td class=\"num\">n/a</td>", fp);
    double ratio = r->j_per_sample[0] / r->j_per_sample[1];
    if (isfinite(ratio))
      fprintf(fp, "<td class=\"num\">%.2f</td><td>", ratio);
    else
      fputs("<td class=\"num\">n/a</td><td>", fp);
    html(fp, r->provenance);
    fputs("</td></tr>\n", fp);
  }
  fputs("</table>\n", fp);
  struct rep_figure f;
  enum gm_status rc = rep_draw_engine_figure(pl, rows, n, &f);
  if (rc != GM_OK) {
    free(f.svg);
    if (rc == GM_ERR_UNAVAILABLE) {
      gm_cli_error("report", "%s; install gnuplot: apt-get install gnuplot-nox",
                   pl->err);
      return GM_EXIT_UNAVAIL;
    }
    gm_cli_error("report", "%s", pl->err);
    return rc == GM_ERR_IO ? GM_EXIT_CANTCREAT : GM_EXIT_SOFTWARE;
  }
  write_figure(fp, &f, dir);
  if (f.svg)
    (*n_drawn)++;
  free(f.svg);
  fputs("</section>\n", fp);
  return 0;
}

/* What the "Hosts compared" section shows: the pairs' verdicts
 * (gm_analysis_hosts) and Fig. 9's matrix of energy per sample. */
#define MAX_REPORT_HOSTS 16
struct hosts_view {
  struct gm_analysis_host_pair *pairs;
  size_t n_pairs;
  size_t n_hosts;
  int64_t host_id[MAX_REPORT_HOSTS];
  char host_label[MAX_REPORT_HOSTS][96];
  size_t n_models;
  char (*model)[64];
  double *jps; /* n_models x n_hosts */
  char kind[16];
  int batch;
};

static void hosts_view_free(struct hosts_view *v) {
  free(v->pairs);
  free(v->model);
  free(v->jps);
  memset(v, 0, sizeof(*v));
}

/* The label of host id h: its name and CPU, from its first bench. */
static void host_name(const struct gm_analysis_table *t, int64_t h, char *buf,
                      size_t size) {
  for (size_t i = 0; i < t->n_benches; i++)
    if (t->benches[i].host_id == h) {
      snprintf(buf, size, "%.45s (%.45s)",
               t->benches[i].hostname[0] ? t->benches[i].hostname : "host",
               t->benches[i].cpu_model[0] ? t->benches[i].cpu_model : "?");
      return;
    }
  snprintf(buf, size, "host %lld", (long long)h);
}

/* Fills v from t when two or more hosts measured the same models; false
 * only when memory runs out. */
static bool hosts_view_build(const struct gm_analysis_table *t,
                             struct hosts_view *v) {
  memset(v, 0, sizeof(*v));
  if (gm_analysis_hosts(t, false, &v->pairs, &v->n_pairs) != GM_OK)
    return false;
  if (v->n_pairs == 0)
    return true;
  /* the figure shows the kind and batch size of the pair with most models */
  size_t best = 0;
  for (size_t i = 1; i < v->n_pairs; i++)
    if (v->pairs[i].n > v->pairs[best].n)
      best = i;
  snprintf(v->kind, sizeof(v->kind), "%s", v->pairs[best].kind);
  v->batch = v->pairs[best].batch_size;
  struct gm_analysis_select sel = {.kind = v->kind, .batch_size = v->batch};
  struct gm_analysis_cell *c = NULL;
  size_t nc = 0;
  if (gm_analysis_cells(t, &sel, &c, &nc) != GM_OK)
    return false;
  for (size_t i = 0; i < nc; i++) {
    size_t h = 0;
    while (h < v->n_hosts && v->host_id[h] != c[i].host_id)
      h++;
    if (h == v->n_hosts && h < MAX_REPORT_HOSTS) {
      v->host_id[h] = c[i].host_id;
      host_name(t, c[i].host_id, v->host_label[h], sizeof(v->host_label[h]));
      v->n_hosts++;
    }
  }
  v->model = calloc(nc ? nc : 1, sizeof(*v->model));
  v->jps =
      malloc((nc ? nc : 1) * (v->n_hosts ? v->n_hosts : 1) * sizeof(double));
  if (!v->model || !v->jps) {
    free(c);
    return false;
  }
  for (size_t i = 0; i < nc; i++) {
    if (!(isfinite(c[i].j_per_sample) && c[i].j_per_sample > 0))
      continue;
    size_t m = 0;
    while (m < v->n_models && strcmp(v->model[m], c[i].model) != 0)
      m++;
    if (m == v->n_models) {
      snprintf(v->model[m], sizeof(v->model[m]), "%s", c[i].model);
      for (size_t h = 0; h < v->n_hosts; h++)
        v->jps[m * v->n_hosts + h] = NAN;
      v->n_models++;
    }
    for (size_t h = 0; h < v->n_hosts; h++)
      if (v->host_id[h] == c[i].host_id)
        v->jps[m * v->n_hosts + h] = c[i].j_per_sample;
  }
  free(c);
  /* only the models measured on two hosts or more */
  size_t k = 0;
  for (size_t m = 0; m < v->n_models; m++) {
    size_t on = 0;
    for (size_t h = 0; h < v->n_hosts; h++)
      on += isfinite(v->jps[m * v->n_hosts + h]);
    if (on < 2)
      continue;
    if (k != m) {
      memcpy(v->model[k], v->model[m], sizeof(v->model[k]));
      memcpy(&v->jps[k * v->n_hosts], &v->jps[m * v->n_hosts],
             v->n_hosts * sizeof(double));
    }
    k++;
  }
  v->n_models = k;
  return true;
}

/* The hosts side by side: the verdicts per pair and Fig. 9. 0 or an exit
 * code (printed). */
static int write_hosts(FILE *fp, struct rep_plotter *pl,
                       const struct hosts_view *v, const char *dir,
                       size_t *n_drawn) {
  if (v->n_pairs == 0)
    return 0;
  fputs("<section id=\"hosts\"><h2>Hosts compared</h2>\n<p>The paper "
        "compares hardware configurations on the same grid. For every pair "
        "of hosts and phase kind, on the models both measured at one batch "
        "size: do the models rank the same by energy per sample (Spearman "
        "rho; agrees when rho &ge; 0.8 and p &lt; 0.05), and does a power "
        "law of one host's energy per sample predict the other's (each "
        "model left out in turn; agrees when the mean error is at most "
        "25 %)? The thresholds are greenml's; fewer than 5 models give no "
        "verdict. Energy is gross.</p>\n<table><tr><th>Host A</th><th>Host B"
        "</th><th>Phase</th><th>Batch</th><th>Models</th><th>rho (p)</th>"
        "<th>Ranking</th><th>Prediction error (worst)</th><th>Prediction"
        "</th><th>B / A (median)</th><th>Provenance</th></tr>\n",
        fp);
  for (size_t i = 0; i < v->n_pairs; i++) {
    const struct gm_analysis_host_pair *r = &v->pairs[i];
    char a[96] = "", b[96] = "";
    for (size_t h = 0; h < v->n_hosts; h++) {
      if (v->host_id[h] == r->host_a)
        snprintf(a, sizeof(a), "%s", v->host_label[h]);
      if (v->host_id[h] == r->host_b)
        snprintf(b, sizeof(b), "%s", v->host_label[h]);
    }
    fputs("<tr><td>", fp);
    html(fp, a[0] ? a : "?");
    fputs("</td><td>", fp);
    html(fp, b[0] ? b : "?");
    fprintf(fp,
            "</td><td>%s</td><td class=\"num\">%d</td><td class=\"num\">%zu"
            "</td>",
            strcmp(r->kind, "train") == 0 ? "training" : "inference",
            r->batch_size, r->n);
    if (isfinite(r->rho))
      fprintf(fp, "<td class=\"num\">%.3f (%.2g)</td>", r->rho, r->rho_p);
    else
      fputs("<td class=\"num\">n/a</td>", fp);
    fprintf(fp, "<td>%s</td>", gm_analysis_verdict_name(r->rank_verdict));
    if (isfinite(r->loo_mape_pct)) {
      fprintf(fp, "<td class=\"num\">%.1f %% (%.1f %%, ", r->loo_mape_pct,
              r->loo_max_abs_pct);
      html(fp, r->worst_model);
      fputs(")</td>", fp);
    } else {
      fputs("<td class=\"num\">n/a</td>", fp);
    }
    fprintf(fp, "<td>%s</td><td class=\"num\">%.3g</td><td>",
            gm_analysis_verdict_name(r->predict_verdict), r->ratio_median);
    html(fp, r->provenance);
    fputs("</td></tr>\n", fp);
    if (r->why[0]) {
      fputs("<tr><td colspan=\"11\">cannot test: ", fp);
      html(fp, r->why);
      fputs("</td></tr>\n", fp);
    }
  }
  fputs("</table>\n", fp);
  struct rep_figure f;
  enum gm_status rc = rep_draw_hosts_figure(
      pl, (const char(*)[96])v->host_label, v->n_hosts,
      (const char(*)[64])v->model, v->n_models, v->jps, v->kind, v->batch, &f);
  if (rc != GM_OK) {
    free(f.svg);
    if (rc == GM_ERR_UNAVAILABLE) {
      gm_cli_error("report", "%s; install gnuplot: apt-get install gnuplot-nox",
                   pl->err);
      return GM_EXIT_UNAVAIL;
    }
    gm_cli_error("report", "%s", pl->err);
    return rc == GM_ERR_IO ? GM_EXIT_CANTCREAT : GM_EXIT_SOFTWARE;
  }
  write_figure(fp, &f, dir);
  if (f.svg)
    (*n_drawn)++;
  else
    printf("omitted: %s\n", f.omitted);
  free(f.svg);
  fputs("</section>\n", fp);
  return 0;
}

static int write_report(FILE *fp, const struct gm_report *d,
                        const struct report_opts *o, const char *gnuplot,
                        const struct gm_analysis_engine_row *eng, size_t n_eng,
                        const struct gm_analysis_precision_row *prec,
                        size_t n_prec, const struct hosts_view *hv,
                        size_t *n_drawn) {
  struct rep_plotter pl = {.gnuplot = gnuplot, .dir = o->figures};
  write_head(fp, d, o);
  write_benches(fp, d, o);
  for (size_t i = 0; i < d->n_groups; i++) {
    struct rep_figure figs[REP_N_FIGURES];
    enum gm_status rc = rep_draw_figures(&pl, &d->groups[i], figs);
    if (rc != GM_OK) {
      rep_figures_free(figs);
      if (rc == GM_ERR_UNAVAILABLE) {
        gm_cli_error("report",
                     "%s; install gnuplot: apt-get install "
                     "gnuplot-nox",
                     pl.err);
        return GM_EXIT_UNAVAIL;
      }
      gm_cli_error("report", "%s", pl.err);
      return rc == GM_ERR_IO ? GM_EXIT_CANTCREAT : GM_EXIT_SOFTWARE;
    }
    write_group(fp, &d->groups[i], figs, o);
    for (int f = 0; f < REP_N_FIGURES; f++) {
      if (figs[f].svg)
        (*n_drawn)++;
      else
        printf("omitted: %s%s%s\n", d->groups[i].prefix,
               d->groups[i].prefix[0] ? ": " : "", figs[f].omitted);
    }
    rep_figures_free(figs);
  }
  write_predictions(fp, d);
  int ec = write_engines(fp, &pl, eng, n_eng, o->figures, n_drawn);
  if (!ec)
    ec = write_precisions(fp, &pl, prec, n_prec, o->figures, n_drawn);
  if (!ec)
    ec = write_hosts(fp, &pl, hv, o->figures, n_drawn);
  if (ec)
    return ec;
  fputs("</body>\n</html>\n", fp);
  return 0;
}

/* The page is written beside its final name and renamed when complete
 * (output.h), so a failed report never leaves a half page behind. False
 * (after printing) when the directory cannot be written. */
static bool page_open(const char *out, struct gm_cli_file *page) {
  int e = gm_cli_file_open(page, out);
  if (!e)
    return true;
  gm_cli_error("report",
               "cannot write '%s': %s; pass --out FILE in a writable "
               "directory",
               out, strerror(e));
  return false;
}

/* Closes the page and gives it its name: 0 or an exit code (printed). */
static int page_close(struct gm_cli_file *page, const char *out) {
  int e = gm_cli_file_commit(page);
  if (e) {
    gm_cli_error("report", "cannot write '%s': %s; pass --out FILE", out,
                 strerror(e));
    return GM_EXIT_IOERR;
  }
  return 0;
}

/* ---- a measured run ------------------------------------------------------ */

static void td_seconds(FILE *fp, double s) {
  if (isfinite(s))
    fprintf(fp, "<td class=\"num\">%.3f s</td>", s);
  else
    fputs("<td class=\"num\">n/a</td>", fp);
}

static void td_watts(FILE *fp, double w) {
  if (isfinite(w))
    fprintf(fp, "<td class=\"num\">%.*f W</td>", fabs(w) >= 100 ? 1 : 3, w);
  else
    fputs("<td class=\"num\">n/a</td>", fp);
}

static void td_carbon_of(FILE *fp, const struct report_opts *o, double j) {
  if (isfinite(j))
    td_carbon(fp, gm_cli_cost_carbon_g(&o->cost, j));
  else
    fputs("<td class=\"num\">n/a</td>", fp);
}

static void write_run_summary(FILE *fp, const struct gm_report_run *r,
                              const struct report_opts *o) {
  const struct gm_store_run *run = r->run;
  fputs("<section id=\"run\"><h2>The run</h2>\n<table>", fp);
  fprintf(fp, "<tr><th>Run</th><td class=\"num\">%lld</td></tr>",
          (long long)run->id);
  fputs("<tr><th>Command</th><td>", fp);
  html(fp, run->command ? run->command : "(none recorded)");
  fputs("</td></tr><tr><th>Started (UTC)</th><td>", fp);
  html(fp, run->started_at);
  fputs("</td></tr><tr><th>Recorded</th><td>", fp);
  if (run->complete) {
    fputs("complete: every sample stored", fp);
  } else {
    fputs("<span class=\"partial\">incomplete", fp);
    if (run->incomplete_cause) {
      fputs(": ", fp);
      html(fp, run->incomplete_cause);
    } else {
      fputs(" (greenml did not finish it: killed, or still running)", fp);
    }
    fputs("; the figures and the totals cover the samples stored</span>", fp);
  }
  fputs("</td></tr><tr><th>Exit status</th>", fp);
  if (run->has_exit_code)
    fprintf(fp, "<td class=\"num\">%d</td>", run->exit_code);
  else
    fputs("<td class=\"num\">n/a</td>", fp);
  fputs("</tr><tr><th>Duration</th>", fp);
  td_seconds(fp, run->duration_s);
  fputs("</tr><tr><th>Energy (gross)</th>", fp);
  td_energy(fp, run->energy_j);
  fputs("</tr><tr><th>Energy (net of idle)</th>", fp);
  td_energy(fp, run->net_energy_j);
  fputs("</tr><tr><th>Provenance of the total</th><td>", fp);
  html(fp, run->provenance);
  if (run->partial)
    fputs(" <span class=\"partial\">PARTIAL: a component that belongs in "
          "the total is missing (a lower bound)</span>",
          fp);
  fputs("</td></tr><tr><th>Carbon (gross)</th>", fp);
  td_carbon_of(fp, o, run->energy_j);
  fputs("</tr><tr><th>Cost (gross)</th><td class=\"num\">", fp);
  if (isnan(o->cost.price_per_kwh)) {
    fputs("n/a (no --price)", fp);
  } else {
    char m[64];
    gm_cli_fmt_money(m, sizeof(m), &o->cost,
                     gm_cli_cost_money(&o->cost, run->energy_j));
    html(fp, m);
  }
  fputs("</td></tr></table>\n<p class=\"prov\">", fp);
  char cost[512];
  gm_cli_describe_cost(cost, sizeof(cost), &o->cost);
  html(fp, cost);
  fputs(".</p></section>\n", fp);
}

static void write_run_components(FILE *fp, const struct gm_report_run *r) {
  fputs("<section id=\"components\"><h2>Components</h2>\n<p class=\"prov\">"
        "From the stored time series: the last cumulative energy, the mean "
        "power over the run and the highest power over one sampling "
        "interval.</p>\n<table><tr><th>Component</th><th>Kind</th>"
        "<th>Provenance</th><th>In the total</th><th>Energy</th><th>Mean "
        "power</th><th>Peak power</th></tr>\n",
        fp);
  for (size_t i = 0; i < r->n_components; i++) {
    const struct gm_report_run_component *c = &r->components[i];
    fputs("<tr><td>", fp);
    html(fp, c->name);
    fputs("</td><td>", fp);
    html(fp, c->kind);
    fputs("</td><td>", fp);
    html(fp, c->provenance);
    fprintf(fp, "</td><td>%s</td>",
            c->in_total ? "yes" : "no (inside another)");
    td_energy(fp, c->energy_j);
    td_watts(fp, c->avg_power_w);
    td_watts(fp, c->peak_power_w);
    fputs("</tr>\n", fp);
  }
  fputs("</table></section>\n", fp);
}

static void write_run_phases(FILE *fp, const struct gm_report_run *r,
                             const struct report_opts *o) {
  fputs("<section id=\"phases\"><h2>Phases</h2>\n", fp);
  if (!r->phases || !r->phases->n) {
    fputs("<p>The run has no phases (mark them with <code>greenml mark "
          "NAME</code>, <code>gm_phase_begin()</code> or "
          "<code>Meter.phase()</code> in Python).</p></section>\n",
          fp);
    return;
  }
  fputs("<p class=\"prov\">Each phase's energy is the in-total components' "
        "cumulative energy interpolated at its two boundaries; its share is "
        "of the run's gross energy.</p>\n<table><tr><th>Phase</th>"
        "<th>Start</th><th>Duration</th><th>Energy</th><th>Net of idle</th>"
        "<th>Mean power</th><th>Share</th><th>Carbon</th></tr>\n",
        fp);
  for (size_t i = 0; i < r->phases->n; i++) {
    const struct gm_store_run_phase *ph = &r->phases->phases[i];
    fputs("<tr><td>", fp);
    html(fp, ph->name);
    if (ph->ended_by_stop)
      fputs(" <span class=\"prov\">(ended by the end of the run)</span>", fp);
    if (ph->partial)
      fputs(" <span class=\"partial\">PARTIAL</span>", fp);
    fputs("</td>", fp);
    td_seconds(fp, ph->start_s);
    td_seconds(fp, ph->duration_s);
    td_energy(fp, ph->energy_j);
    td_energy(fp, ph->net_energy_j);
    td_watts(fp, ph->duration_s > 0 ? ph->energy_j / ph->duration_s : NAN);
    if (isfinite(ph->energy_j) && r->run->energy_j > 0)
      fprintf(fp, "<td class=\"num\">%.1f %%</td>",
              100 * ph->energy_j / r->run->energy_j);
    else
      fputs("<td class=\"num\">n/a</td>", fp);
    td_carbon_of(fp, o, ph->energy_j);
    fputs("</tr>\n", fp);
  }
  fputs("</table></section>\n", fp);
}

static void write_run_metrics(FILE *fp, const struct gm_report_run *r) {
  const struct gm_store_series *s = r->series;
  if (!s->n_metrics)
    return;
  fputs("<section id=\"metrics\"><h2>Utilisation and memory</h2>\n"
        "<p class=\"prov\">Measured (procfs, NVML), over the samples stored."
        "</p>\n<table><tr><th>Metric</th><th>Unit</th><th>Mean</th>"
        "<th>Maximum</th></tr>\n",
        fp);
  for (size_t m = 0; m < s->n_metrics; m++) {
    fputs("<tr><td>", fp);
    html(fp, s->metrics[m].name);
    fputs("</td><td>", fp);
    html(fp, s->metrics[m].unit);
    fputs("</td>", fp);
    for (int k = 0; k < 2; k++) {
      double v = k ? r->metric_max[m] : r->metric_mean[m];
      if (isfinite(v))
        fprintf(fp, "<td class=\"num\">%.4g</td>", v);
      else
        fputs("<td class=\"num\">n/a</td>", fp);
    }
    fputs("</tr>\n", fp);
  }
  fputs("</table></section>\n", fp);
}

static int report_run(const struct report_opts *o, const char *gnuplot) {
  struct gm_store *st = NULL;
  int ec = open_db(o, &st);
  if (ec)
    return ec;
  struct gm_report_run *r = NULL;
  char err[512];
  enum gm_status rc = gm_report_run_load(st, o->from_run, &r, err, sizeof(err));
  gm_store_close(st);
  if (rc != GM_OK) {
    if (rc == GM_ERR_NOT_FOUND) {
      gm_cli_error("report", "'%s': %s ('greenml runs --db %s' lists them)",
                   o->db, err, o->db);
      return GM_EXIT_NOINPUT;
    }
    gm_cli_error("report", "'%s': %s", o->db, err);
    return rc == GM_ERR_STATE       ? GM_EXIT_DATAERR
           : rc == GM_ERR_NO_MEMORY ? GM_EXIT_SOFTWARE
                                    : GM_EXIT_IOERR;
  }
  struct gm_cli_file page;
  if (!page_open(o->out, &page)) {
    gm_report_run_free(r);
    return GM_EXIT_CANTCREAT;
  }
  if (!gm_cli_mkdirs(o->figures)) {
    gm_cli_error("report",
                 "cannot create the figures' directory '%s': %s; "
                 "pass --figures DIR",
                 o->figures, strerror(errno));
    gm_cli_file_abort(&page);
    gm_report_run_free(r);
    return GM_EXIT_CANTCREAT;
  }
  struct rep_plotter pl = {.gnuplot = gnuplot, .dir = o->figures};
  struct rep_figure figs[REP_N_RUN_FIGURES];
  rc = rep_draw_run_figures(&pl, r, figs);
  if (rc != GM_OK) {
    rep_run_figures_free(figs);
    gm_cli_file_abort(&page);
    gm_report_run_free(r);
    if (rc == GM_ERR_UNAVAILABLE) {
      gm_cli_error("report", "%s; install gnuplot: apt-get install gnuplot-nox",
                   pl.err);
      return GM_EXIT_UNAVAIL;
    }
    gm_cli_error("report", "%s", pl.err);
    return rc == GM_ERR_IO ? GM_EXIT_CANTCREAT : GM_EXIT_SOFTWARE;
  }
  FILE *fp = page.f;
  char now[32];
  time_t t = time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(now, sizeof(now), "%Y-%m-%d %H:%M UTC", &tm);
  fprintf(fp,
          "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta "
          "charset=\"utf-8\">\n<meta name=\"viewport\" "
          "content=\"width=device-width, initial-scale=1\">\n<title>greenml "
          "report: run %lld</title>\n<style>%s</style>\n</head>\n<body>\n"
          "<header><h1>Energy of run %lld</h1>\n<p>Generated by "
          "greenml " GM_VERSION_STRING " on %s from ",
          (long long)r->run->id, css, (long long)r->run->id, now);
  html(fp, o->db);
  fputs(".</p>\n<p class=\"prov\">Provenance of every energy and power: "
        "<b>measured</b> (a hardware energy counter or power sensor: RAPL, "
        "NVML) or <b>modelled</b> (TDP x utilisation for a CPU, N x 1/2 C "
        "V<sup>2</sup> f for DRAM); <b>mixed</b> when a total adds up parts "
        "of different provenance. Durations are measured wall-clock time."
        "</p></header>\n",
        fp);
  write_run_summary(fp, r, o);
  write_run_components(fp, r);
  write_run_phases(fp, r, o);
  fputs("<section id=\"figures\"><h2>Over time</h2>\n", fp);
  size_t drawn = 0;
  for (int i = 0; i < REP_N_RUN_FIGURES; i++) {
    write_figure(fp, &figs[i], o->figures);
    if (figs[i].svg)
      drawn++;
    else
      printf("omitted: %s\n", figs[i].omitted);
  }
  fputs("</section>\n", fp);
  write_run_metrics(fp, r);
  fputs("</body>\n</html>\n", fp);
  rep_run_figures_free(figs);
  ec = page_close(&page, o->out);
  if (!ec)
    printf("run %lld: %zu phases; figures: %zu drawn in %s (data, gnuplot "
           "script, SVG, PNG, PDF each)\nreport: %s\n",
           (long long)r->run->id, r->phases ? r->phases->n : 0, drawn,
           o->figures, o->out);
  gm_report_run_free(r);
  return ec;
}

int cmd_report(int argc, char **argv) {
  struct report_opts o = {.out = "report.html"};
  int ec = parse(argc, argv, &o);
  if (ec)
    return ec < 0 ? 0 : ec;
  char dbpath[1024], figdir[1024], gnuplot[1024];
  if (!o.db) {
    gm_cli_default_db(dbpath, sizeof(dbpath));
    o.db = dbpath;
  }
  if (!o.figures) {
    size_t n = strlen(o.out);
    if (n > 5 && strcmp(o.out + n - 5, ".html") == 0)
      n -= 5;
    snprintf(figdir, sizeof(figdir), "%.*s-figures", (int)n, o.out);
    o.figures = figdir;
  }
  if (o.from_run) {
    if (!rep_find_gnuplot(gnuplot, sizeof(gnuplot))) {
      gm_cli_error("report", "gnuplot is not installed (not found in PATH); "
                             "install it: apt-get install gnuplot-nox");
      return GM_EXIT_UNAVAIL;
    }
    return report_run(&o, gnuplot);
  }
  struct gm_store *st = NULL;
  if ((ec = open_db(&o, &st)))
    return ec;
  struct gm_report d;
  ec = load(&o, st, &d);
  /* the cells both engines ran, from the same benches */
  struct gm_analysis_engine_row *eng = NULL;
  size_t n_eng = 0;
  /* the cells measured in both precisions */
  struct gm_analysis_precision_row *prec = NULL;
  size_t n_prec = 0;
  struct hosts_view hv;
  memset(&hv, 0, sizeof(hv));
  if (!ec) {
    struct gm_analysis_table *t = NULL;
    if (gm_analysis_load(st, o.run, &t, NULL, 0) == GM_OK) {
      gm_analysis_engines(t, false, &eng, &n_eng);
      gm_analysis_precisions(t, false, &prec, &n_prec);
      if (!hosts_view_build(t, &hv))
        ec = GM_EXIT_SOFTWARE;
    }
    gm_analysis_table_free(t);
  }
  gm_store_close(st);
  if (!ec && o.gross)
    gm_report_use_gross(&d);
  if (ec) {
    gm_report_clear(&d);
    free(eng);
    free(prec);
    hosts_view_free(&hv);
    return ec;
  }
  if (!rep_find_gnuplot(gnuplot, sizeof(gnuplot))) {
    gm_cli_error("report", "gnuplot is not installed (not found in PATH); "
                           "install it: apt-get install gnuplot-nox");
    gm_report_clear(&d);
    free(eng);
    free(prec);
    hosts_view_free(&hv);
    return GM_EXIT_UNAVAIL;
  }
  struct gm_cli_file page;
  if (!page_open(o.out, &page)) {
    gm_report_clear(&d);
    free(eng);
    free(prec);
    hosts_view_free(&hv);
    return GM_EXIT_CANTCREAT;
  }
  FILE *fp = page.f;
  if (!gm_cli_mkdirs(o.figures)) {
    gm_cli_error("report",
                 "cannot create the figures' directory '%s': %s; "
                 "pass --figures DIR",
                 o.figures, strerror(errno));
    gm_cli_file_abort(&page);
    gm_report_clear(&d);
    free(eng);
    free(prec);
    hosts_view_free(&hv);
    return GM_EXIT_CANTCREAT;
  }
  printf("benches: ");
  for (size_t i = 0; i < d.n_benches; i++)
    printf("%s%s (id %lld)", i ? ", " : "", d.benches[i].name,
           (long long)d.benches[i].id);
  printf("%s\n", o.run ? "" : " (every complete bench)");
  size_t drawn = 0;
  ec = write_report(fp, &d, &o, gnuplot, eng, n_eng, prec, n_prec, &hv, &drawn);
  if (!ec)
    ec = page_close(&page, o.out);
  else
    gm_cli_file_abort(&page);
  if (!ec)
    printf("figures: %zu drawn in %s (data, gnuplot script, SVG, PNG, PDF "
           "each)\nreport: %s\n",
           drawn, o.figures, o.out);
  gm_report_clear(&d);
  free(eng);
  free(prec);
  hosts_view_free(&hv);
  return ec;
}

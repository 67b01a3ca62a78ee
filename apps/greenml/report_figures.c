/* report_figures.c: Figs. 2-7 of the report, drawn by gnuplot. For each
 * figure it writes the data file(s) and a script that, run in the figures'
 * directory (`gnuplot fig2.gp`), writes the SVG, PNG (pngcairo) and PDF
 * (pdfcairo); then it runs gnuplot as a child process and turns the SVG into
 * one that can sit inline in the HTML page (unique ids, no XML prolog or
 * namespace URLs). A figure whose data is missing is not drawn: `omitted`
 * says why. Nothing here prints (see report.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "greenml/analysis.h"
#include "text.h"
#include "greenml/stats.h"
#include "report.h"

/* ---- small helpers ------------------------------------------------------- */

static void appendf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void appendf(char *buf, size_t size, const char *fmt, ...) {
  size_t len = strlen(buf);
  if (len + 1 >= size)
    return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf + len, size - len, fmt, ap);
  va_end(ap);
}

/* An energy with the prefix that suits the largest value of a figure:
 * the divisor and the unit. */
static double energy_scale(double max_j, const char **unit) {
  if (max_j >= 1e7) {
    *unit = "MJ";
    return 1e6;
  }
  if (max_j >= 1e4) {
    *unit = "kJ";
    return 1e3;
  }
  *unit = "J";
  return 1.0;
}

/* A double-quoted gnuplot string. */
static void gp_string(FILE *fp, const char *s) {
  fputc('"', fp);
  for (; *s; s++) {
    if (*s == '"' || *s == '\\')
      fputc('\\', fp);
    fputc(*s, fp);
  }
  fputc('"', fp);
}

/* A label in a data file: quoted, with no quote or blank inside. */
static void dat_label(FILE *fp, const char *s) {
  fputc('"', fp);
  for (; *s; s++)
    fputc(*s == '"' || *s == ' ' || *s == '\t' ? '_' : *s, fp);
  fputc('"', fp);
}

static void dat_num(FILE *fp, double v) {
  if (isfinite(v))
    fprintf(fp, " %.6g", v);
  else
    fputs(" NaN", fp);
}

static double mean_of(const struct gm_report_phases *p, double sum) {
  return p->n > 0 ? sum / p->n : NAN;
}

/* ---- files and the gnuplot run ------------------------------------------- */

/* Opens DIR/<id><suffix> for writing and lists it in f->files. */
static FILE *fig_open(struct rep_plotter *pl, struct rep_figure *f,
                      const char *suffix) {
  char path[1024];
  if (!gm_cli_text_fmt(path, sizeof(path), "%s/%s%s", pl->dir, f->id, suffix)) {
    gm_cli_text_fmt(pl->err, sizeof(pl->err), "path too long: '%s/%s%s'",
                    pl->dir, f->id, suffix);
    return NULL;
  }
  FILE *fp = fopen(path, "w");
  if (!fp) {
    gm_cli_text_fmt(pl->err, sizeof(pl->err), "cannot write '%s': %s", path,
                    strerror(errno));
    return NULL;
  }
  appendf(f->files, sizeof(f->files), "%s%s%s", f->files[0] ? " " : "", f->id,
          suffix);
  return fp;
}

static enum gm_status fig_close(struct rep_plotter *pl, struct rep_figure *f,
                                FILE *fp) {
  bool bad = ferror(fp) != 0;
  if (fclose(fp) != 0 || bad) {
    gm_cli_text_fmt(pl->err, sizeof(pl->err),
                    "cannot write the files of %s in '%s'", f->id, pl->dir);
    return GM_ERR_IO;
  }
  return GM_OK;
}

/* Writes the head of f's script: what it is, the style variables a
 * researcher may change, and the loop over the three outputs. The caller
 * writes the body (settings and plots, re-run for every output) and
 * script_end closes it. */
static FILE *script_begin(struct rep_plotter *pl, struct rep_figure *f,
                          int width, int height) {
  char data[sizeof(f->files)];
  /* the data files, written first */
  gm_cli_text_copy(data, f->files, sizeof(data));
  FILE *fp = fig_open(pl, f, ".gp");
  if (!fp)
    return NULL;
  fprintf(fp,
          "# %s.gp: Fig. %d of the greenml report: %s\n"
          "# Data: %s\n"
          "# Run in this directory: gnuplot %s.gp\n"
          "# It writes %s.svg, %s.png (pngcairo) and %s.pdf (pdfcairo).\n"
          "# Restyle with the variables below, then run it again.\n"
          "set encoding utf8\n"
          "W = %d; H = %d  # pixels; the PDF is W/100 x H/100 inches\n"
          "font_name = \"Helvetica\"; font_size = 11\n"
          "c_train = \"#1f6fb2\"; c_infer = \"#e8871e\"\n"
          "c_cpu = \"#1f6fb2\"; c_dram = \"#4b9b4b\"; c_gpu = \"#c8413b\"\n"
          "c_fit = \"#555555\"\n"
          "do for [fmt in \"svg png pdf\"] {\n"
          "  reset\n"
          "  if (fmt eq \"svg\") { set terminal svg size W,H dynamic "
          "noenhanced font font_name.\",\".font_size background \"white\" }\n"
          "  if (fmt eq \"png\") { set terminal pngcairo size W,H noenhanced "
          "font font_name.\",\".font_size background \"white\" }\n"
          "  if (fmt eq \"pdf\") { set terminal pdfcairo size W/100.0,H/100.0 "
          "noenhanced font font_name.\",\".font_size }\n"
          "  set output \"%s.\".fmt\n"
          "  set grid ytics lc rgb \"#dddddd\"\n"
          "  set border 3; set tics nomirror\n",
          f->id, f->number, f->title, data, f->id, f->id, f->id, f->id, width,
          height, f->id);
  return fp;
}

static enum gm_status script_end(struct rep_plotter *pl, struct rep_figure *f,
                                 FILE *fp) {
  fputs("  unset multiplot\n  unset output\n}\n", fp);
  return fig_close(pl, f, fp);
}

/* Prefixes every id of the SVG and every reference to one with f->id, so
 * that several gnuplot SVGs (which all define 'gpPt0' and the like) can sit
 * in one page; drops the XML prolog and the namespace URLs, which inline
 * SVG in HTML does not need. */
static char *inline_svg(const char *svg, const struct rep_figure *f) {
  const char *start = strstr(svg, "<svg");
  const char *open_end = start ? strchr(start, '>') : NULL;
  const char *vb = start ? strstr(start, "viewBox=\"") : NULL;
  if (!start || !open_end || !vb || vb > open_end)
    return NULL;
  vb += strlen("viewBox=\"");
  const char *vb_end = strchr(vb, '"');
  if (!vb_end)
    return NULL;
  size_t n = strlen(open_end);
  size_t cap = 2 * n + 512;
  char *out = malloc(cap);
  if (!out)
    return NULL;
  size_t len = (size_t)snprintf(
      out, cap, "<svg viewBox=\"%.*s\" role=\"img\" aria-label=\"Fig. %d\"",
      (int)(vb_end - vb), vb, f->number);
  static const char *const refs[] = {" id='", " id=\"", "href='#", "href=\"#",
                                     "url(#"};
  size_t idlen = strlen(f->id);
  for (const char *p = open_end; *p;) {
    size_t k = 0, m = 0;
    for (; k < sizeof(refs) / sizeof(*refs); k++) {
      m = strlen(refs[k]);
      if (strncmp(p, refs[k], m) == 0)
        break;
    }
    if (len + m + idlen + 2 >= cap) {
      cap *= 2;
      char *q = realloc(out, cap);
      if (!q) {
        free(out);
        return NULL;
      }
      out = q;
    }
    if (k < sizeof(refs) / sizeof(*refs)) {
      memcpy(out + len, p, m);
      len += m;
      memcpy(out + len, f->id, idlen);
      len += idlen;
      out[len++] = '-';
      p += m;
    } else {
      out[len++] = *p++;
    }
  }
  out[len] = '\0';
  return out;
}

/* Runs `gnuplot ID.gp` in the figures' directory, then reads the SVG. */
static enum gm_status gnuplot_run(struct rep_plotter *pl,
                                  struct rep_figure *f) {
  char script[64];
  gm_cli_text_fmt(script, sizeof(script), "%s.gp", f->id);
  int fds[2];
  if (pipe(fds) != 0) {
    gm_cli_text_fmt(pl->err, sizeof(pl->err), "cannot run gnuplot: pipe: %s",
                    strerror(errno));
    return GM_ERR_SYSTEM;
  }
  pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    gm_cli_text_fmt(pl->err, sizeof(pl->err), "cannot run gnuplot: fork: %s",
                    strerror(errno));
    return GM_ERR_SYSTEM;
  }
  if (pid == 0) {
    int devnull = open("/dev/null", O_RDWR);
    if (devnull >= 0) {
      dup2(devnull, STDIN_FILENO);
      dup2(devnull, STDOUT_FILENO);
    }
    dup2(fds[1], STDERR_FILENO);
    close(fds[0]);
    close(fds[1]);
    if (chdir(pl->dir) != 0)
      _exit(126);
    execl(pl->gnuplot, "gnuplot", script, (char *)NULL);
    _exit(127);
  }
  close(fds[1]);
  char msg[2048] = "";
  size_t len = 0;
  char buf[512];
  ssize_t r;
  while ((r = read(fds[0], buf, sizeof(buf))) > 0 ||
         (r < 0 && errno == EINTR)) {
    for (ssize_t i = 0; i < r && len + 1 < sizeof(msg); i++)
      msg[len++] = buf[i];
    msg[len] = '\0';
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (code == 127 || code == 126) {
      gm_cli_text_fmt(pl->err, sizeof(pl->err),
                      "cannot start '%s' in '%s' (exit %d)", pl->gnuplot,
                      pl->dir, code);
      return GM_ERR_UNAVAILABLE;
    }
    gm_cli_text_fmt(pl->err, sizeof(pl->err),
                    "gnuplot failed on '%s/%s' (exit %d): %s", pl->dir, script,
                    code, msg);
    return GM_ERR_SYSTEM;
  }
  appendf(f->files, sizeof(f->files), " %s.svg %s.png %s.pdf", f->id, f->id,
          f->id);
  char path[1024];
  gm_cli_text_fmt(path, sizeof(path), "%s/%s.svg", pl->dir, f->id);
  char *svg = NULL;
  size_t svg_len = 0;
  if (gm_cli_text_read(path, &svg, &svg_len) != GM_OK) {
    gm_cli_text_fmt(pl->err, sizeof(pl->err), "gnuplot wrote no '%s'", path);
    return GM_ERR_SYSTEM;
  }
  f->svg = inline_svg(svg, f);
  free(svg);
  if (!f->svg) {
    gm_cli_text_fmt(pl->err, sizeof(pl->err),
                    "'%s' is not an SVG gnuplot writes", path);
    return GM_ERR_SYSTEM;
  }
  return GM_OK;
}

/* ---- what the figures share ---------------------------------------------- */

static const char *const kind_file[GM_REPORT_N_KINDS] = {"train", "infer"};
static const char *const kind_title[GM_REPORT_N_KINDS] = {"training",
                                                          "inference"};

/* The models of g measured at its main batch size, in the bench's order
 * (models without recorded characteristics last). */
struct model_list {
  const struct gm_report_cell *cells[256];
  const struct gm_report_model *models[256]; /* NULL: characteristics unknown */
  size_t n;
};

static void main_models(const struct gm_report_group *g,
                        struct model_list *ml) {
  ml->n = 0;
  for (size_t i = 0; i < g->n_models && ml->n < 256; i++) {
    const struct gm_report_cell *c =
        gm_report_cell_find(g, g->models[i].name, g->main_batch);
    if (c) {
      ml->cells[ml->n] = c;
      ml->models[ml->n++] = &g->models[i];
    }
  }
  for (size_t i = 0; i < g->n_cells && ml->n < 256; i++) {
    const struct gm_report_cell *c = &g->cells[i];
    if (c->batch == g->main_batch && !gm_report_model_find(g, c->model)) {
      ml->cells[ml->n] = c;
      ml->models[ml->n++] = NULL;
    }
  }
}

static const char *energy_word(const struct gm_report_group *g) {
  return g->net           ? "net energy (idle power x duration subtracted)"
         : g->gross_asked ? "gross energy (--gross)"
                          : "gross energy (no idle baseline to subtract)";
}

/* Appends to the caption how many of what (a plural noun phrase, e.g.
 * "models' training energies") a net-energy figure left out, and why. */
static void caption_excluded(struct rep_figure *f, size_t n, const char *what) {
  if (!n)
    return;
  appendf(f->caption, sizeof(f->caption),
          " Left out: %zu %s whose net energy is not above 0 (at or below "
          "the idle baseline, which no work is: the baseline does not "
          "describe them); greenml report --gross draws every one on gross "
          "energy.",
          n, what);
}

static const char *net_word(const struct gm_report_group *g) {
  return g->net ? "net" : "gross";
}

/* "CPU (measured counter)" and the like. */
static void part_title(const struct gm_report_group *g, enum gm_report_part p,
                       char *buf, size_t size) {
  snprintf(buf, size, "%s (%s)", gm_report_part_label(p), g->part[p].prov);
}

/* A panel's title: "(a) training" and, for energy, a second line with the
 * provenance of the energy ("CPU modelled, DRAM modelled, GPU measured
 * counter"), so that the PNG and PDF carry it too. */
static void panel_title(FILE *fp, char letter, const char *what,
                        const char *prov) {
  fprintf(fp, "  set title \"(%c)%s%s", letter, what[0] ? " " : "", what);
  if (prov) {
    fputs("\\n\" . ", fp);
    gp_string(fp, prov);
  } else {
    fputc('"', fp);
  }
  fputc('\n', fp);
}

/* Opens the data file of one kind of phase: "<id>-train<extra>.dat". */
static FILE *kind_open(struct rep_plotter *pl, struct rep_figure *f, int k,
                       const char *extra) {
  char suffix[32];
  snprintf(suffix, sizeof(suffix), "-%s%s.dat", kind_file[k], extra);
  return fig_open(pl, f, suffix);
}

/* The panels of a figure: one per kind of phase that has data. Writes
 * "set multiplot" for them and the sentence for a kind left out. Returns
 * the number of panels. */
static int panels_begin(FILE *fp, struct rep_figure *f, const bool has[2],
                        bool stacked) {
  int n = has[0] + has[1];
  fprintf(fp, "  set multiplot layout %d,%d\n", stacked ? n : 1,
          stacked ? 1 : n);
  for (int k = 0; k < GM_REPORT_N_KINDS; k++)
    if (!has[k])
      appendf(f->partial, sizeof(f->partial),
              "%s%s: nothing was measured, so its panel is left out.",
              f->partial[0] ? " " : "",
              k == GM_REPORT_TRAIN ? "Training" : "Inference");
  return n;
}

/* "(a) training, (b) inference" for the panels drawn. */
static void panel_names(const bool has[2], char *buf, size_t size) {
  buf[0] = '\0';
  char letter = 'a';
  for (int k = 0; k < GM_REPORT_N_KINDS; k++)
    if (has[k]) {
      appendf(buf, size, "%s(%c) %s", letter > 'a' ? ", " : "", letter,
              kind_title[k]);
      letter++;
    }
}

/* "Spearman ρ = 0.73 (p = 0.0013), Pearson r = 0.63 (p = 0.0091), n = 16"
 * into buf; false when there is no correlation (n < 3, constant data).
 * Spearman's p-value is a t approximation, given from 10 points. */
static bool corr_text(char *buf, size_t size, const double *x, const double *y,
                      size_t n, double *rho_out, double *r_out) {
  struct gm_stats_corr r, rho;
  if (n < 3 || gm_stats_pearson(x, y, n, &r) != GM_OK ||
      gm_stats_spearman(x, y, n, &rho) != GM_OK)
    return false;
  char rho_p[32] = "";
  if (n >= 10)
    snprintf(rho_p, sizeof(rho_p), " (p = %.2g)", rho.p);
  snprintf(buf, size,
           "Spearman ρ = %.2f%s, Pearson r = %.2f (p = %.2g), n = %zu", rho.r,
           rho_p, r.r, r.p, n);
  if (rho_out)
    *rho_out = rho.r;
  if (r_out)
    *r_out = r.r;
  return true;
}

/* Appends " WHAT: <correlations>." to the caption when there are some. */
static void caption_corr(struct rep_figure *f, const char *what,
                         const double *x, const double *y, size_t n) {
  char c[160];
  if (corr_text(c, sizeof(c), x, y, n, NULL, NULL))
    appendf(f->caption, sizeof(f->caption), " %s: %s.", what, c);
}

static void omit(struct rep_figure *f, const char *why) {
  snprintf(f->omitted, sizeof(f->omitted), "Fig. %d is omitted: %s.", f->number,
           why);
}

#define UNMETERED "no energy was measured (the bench ran unmetered)"

/* ---- Fig. 2: duration ---------------------------------------------------- */

/* Whether the models' phases of either kind processed different numbers of
 * samples (epochs cut by --limit-batches, benches with other
 * --infer-samples): their totals are then not comparable, only their
 * values per sample. lo and hi receive the range of samples per phase. */
static bool samples_differ(const struct model_list *ml, double *lo,
                           double *hi) {
  bool differ = false;
  *lo = INFINITY;
  *hi = 0;
  for (int k = 0; k < GM_REPORT_N_KINDS; k++) {
    double klo = INFINITY, khi = 0;
    for (size_t i = 0; i < ml->n; i++) {
      const struct gm_report_phases *p = &ml->cells[i]->ph[k];
      if (!p->n)
        continue;
      double s = p->samples / p->n;
      klo = fmin(klo, s);
      khi = fmax(khi, s);
    }
    if (khi > 0 && khi - klo > 0.01 * khi) {
      differ = true;
      *lo = fmin(*lo, klo);
      *hi = fmax(*hi, khi);
    }
  }
  return differ;
}

static enum gm_status fig2(struct rep_plotter *pl,
                           const struct gm_report_group *g,
                           struct rep_figure *f) {
  struct model_list ml;
  main_models(g, &ml);
  snprintf(f->title, sizeof(f->title),
           "Duration of a training epoch and of an inference pass, batch %d",
           g->main_batch);
  double t[GM_REPORT_N_KINDS][256], samples[GM_REPORT_N_KINDS] = {0, 0};
  bool has[GM_REPORT_N_KINDS] = {false, false};
  double s_lo, s_hi;
  bool per_k = samples_differ(&ml, &s_lo, &s_hi);
  for (size_t i = 0; i < ml.n; i++)
    for (int k = 0; k < GM_REPORT_N_KINDS; k++) {
      const struct gm_report_phases *p = &ml.cells[i]->ph[k];
      t[k][i] = mean_of(p, p->duration_s);
      if (per_k)
        t[k][i] = p->samples > 0 ? p->duration_s / p->samples * 1000 : NAN;
      has[k] = has[k] || isfinite(t[k][i]);
      if (p->n)
        samples[k] = fmax(samples[k], p->samples / p->n);
    }
  if (!has[GM_REPORT_TRAIN] && !has[GM_REPORT_INFER]) {
    omit(f, "no phase was measured");
    return GM_OK;
  }
  FILE *fp = fig_open(pl, f, ".dat");
  if (!fp)
    return GM_ERR_IO;
  fprintf(fp,
          "# %s\n# model  train_epoch_s  infer_pass_s  (mean per phase; "
          "measured wall-clock time)\n",
          f->title);
  double tr[256], in[256];
  size_t n_both = 0;
  for (size_t i = 0; i < ml.n; i++) {
    dat_label(fp, ml.cells[i]->model);
    dat_num(fp, t[GM_REPORT_TRAIN][i]);
    dat_num(fp, t[GM_REPORT_INFER][i]);
    fputc('\n', fp);
    if (isfinite(t[GM_REPORT_TRAIN][i]) && t[GM_REPORT_INFER][i] > 0) {
      tr[n_both] = t[GM_REPORT_TRAIN][i];
      in[n_both++] = t[GM_REPORT_INFER][i];
    }
  }
  enum gm_status rc = fig_close(pl, f, fp);
  if (rc != GM_OK)
    return rc;
  int width = 260 + 48 * (int)ml.n;
  fp = script_begin(pl, f, width < 900 ? 900 : width, 560);
  if (!fp)
    return GM_ERR_IO;
  fputs("  set style data histograms\n"
        "  set style histogram clustered gap 1\n"
        "  set style fill solid 0.85 border -1\n"
        "  set xtics rotate by 40 right\n"
        "  set yrange [0:*]\n"
        "  set key top left\n",
        fp);
  fprintf(fp, "  set ylabel \"%s, measured\"\n  plot ",
          per_k ? "duration per 1000 samples (s)" : "duration (s)");
  static const char *const series[] = {"training epoch", "inference pass"};
  static const char *const colours[] = {"c_train", "c_infer"};
  bool first = true;
  for (int k = 0; k < GM_REPORT_N_KINDS; k++) {
    if (!has[k])
      continue;
    char what[64];
    if (per_k)
      snprintf(what, sizeof(what), "%s", series[k]);
    else
      snprintf(what, sizeof(what), "%s (%.0f samples)", series[k], samples[k]);
    fprintf(fp, "%s\"%s.dat\" using %d%s title \"%s\" lc rgb %s",
            first ? "" : ", \\\n    ", f->id, k + 2, first ? ":xtic(1)" : "",
            what, colours[k]);
    first = false;
  }
  fputc('\n', fp);
  if ((rc = script_end(pl, f, fp)) != GM_OK)
    return rc;
  snprintf(f->caption, sizeof(f->caption),
           "Wall-clock time (measured) of one training epoch and of one "
           "inference pass, mean over the epochs measured, per model at batch "
           "size %d.",
           g->main_batch);
  if (per_k)
    appendf(f->caption, sizeof(f->caption),
            " The models' epochs or passes processed different numbers of "
            "samples (%.0f to %.0f), so the bars show the time per 1000 "
            "samples.",
            s_lo, s_hi);
  if (!has[GM_REPORT_INFER] || !has[GM_REPORT_TRAIN])
    snprintf(f->partial, sizeof(f->partial),
             "No %s was measured, so its bars are left out.",
             has[GM_REPORT_TRAIN] ? "inference pass" : "training epoch");
  double lo = INFINITY, hi = 0;
  for (size_t i = 0; i < n_both; i++) {
    lo = fmin(lo, tr[i] / in[i]);
    hi = fmax(hi, tr[i] / in[i]);
  }
  if (n_both)
    appendf(f->caption, sizeof(f->caption),
            " Training takes %.1f to %.1f times as long as inference.", lo, hi);
  caption_corr(f, "Training against inference duration", tr, in, n_both);
  return gnuplot_run(pl, f);
}

/* ---- Fig. 3: average power per part -------------------------------------- */

static enum gm_status fig3(struct rep_plotter *pl,
                           const struct gm_report_group *g,
                           struct rep_figure *f) {
  struct model_list ml;
  main_models(g, &ml);
  snprintf(f->title, sizeof(f->title),
           "Average power per model: CPU, DRAM and GPU, batch %d",
           g->main_batch);
  bool has[GM_REPORT_N_KINDS] = {false, false};
  double gpu_w[GM_REPORT_N_KINDS] = {0, 0}, all_w[GM_REPORT_N_KINDS] = {0, 0};
  for (size_t i = 0; i < ml.n; i++)
    for (int k = 0; k < GM_REPORT_N_KINDS; k++)
      for (int q = 0; q < GM_REPORT_N_PARTS; q++) {
        double w = ml.cells[i]->ph[k].power_w[q];
        if (!isfinite(w))
          continue;
        has[k] = true;
        all_w[k] += w;
        gpu_w[k] += q == GM_REPORT_GPU ? w : 0;
      }
  if (!has[GM_REPORT_TRAIN] && !has[GM_REPORT_INFER]) {
    omit(f, g->metered ? "no power per component was recorded" : UNMETERED);
    return GM_OK;
  }
  for (int k = 0; k < GM_REPORT_N_KINDS; k++) {
    if (!has[k])
      continue;
    FILE *fp = kind_open(pl, f, k, "");
    if (!fp)
      return GM_ERR_IO;
    fprintf(fp,
            "# %s (%s)\n# model  cpu_w (%s)  dram_w (%s)  gpu_w (%s)  "
            "(mean power over the phases)\n",
            f->title, kind_title[k],
            g->part[GM_REPORT_CPU].present ? g->part[GM_REPORT_CPU].prov
                                           : "absent",
            g->part[GM_REPORT_DRAM].present ? g->part[GM_REPORT_DRAM].prov
                                            : "absent",
            g->part[GM_REPORT_GPU].present ? g->part[GM_REPORT_GPU].prov
                                           : "absent");
    for (size_t i = 0; i < ml.n; i++) {
      dat_label(fp, ml.cells[i]->model);
      for (int q = 0; q < GM_REPORT_N_PARTS; q++)
        dat_num(fp, ml.cells[i]->ph[k].power_w[q]);
      fputc('\n', fp);
    }
    enum gm_status rc = fig_close(pl, f, fp);
    if (rc != GM_OK)
      return rc;
  }
  int width = 260 + 44 * (int)ml.n;
  FILE *fp = script_begin(pl, f, width < 900 ? 900 : width,
                          60 + 420 * (has[0] + has[1]));
  if (!fp)
    return GM_ERR_IO;
  panels_begin(fp, f, has, true);
  fputs("  set style data histograms\n"
        "  set style histogram rowstacked\n"
        "  set style fill solid 0.85 border -1\n"
        "  set boxwidth 0.7\n"
        "  set xtics rotate by 40 right\n"
        "  set ylabel \"average power (W)\"\n"
        "  set yrange [0:*]\n"
        "  set key outside top center horizontal\n",
        fp);
  static const char *const colours[] = {"c_cpu", "c_dram", "c_gpu"};
  char letter = 'a';
  for (int k = 0; k < GM_REPORT_N_KINDS; k++) {
    if (!has[k])
      continue;
    fprintf(fp, "  set title \"(%c) %s\"\n  plot ", letter++, kind_title[k]);
    bool first = true;
    for (int q = 0; q < GM_REPORT_N_PARTS; q++) {
      if (!g->part[q].present)
        continue;
      char t[64];
      part_title(g, (enum gm_report_part)q, t, sizeof(t));
      fprintf(fp, "%s\"%s-%s.dat\" using %d%s title ",
              first ? "" : ", \\\n    ", f->id, kind_file[k], q + 2,
              first ? ":xtic(1)" : "");
      gp_string(fp, t);
      fprintf(fp, " lc rgb %s", colours[q]);
      first = false;
    }
    fputc('\n', fp);
  }
  enum gm_status rc = script_end(pl, f, fp);
  if (rc != GM_OK)
    return rc;
  char panels[64];
  panel_names(has, panels, sizeof(panels));
  snprintf(f->caption, sizeof(f->caption),
           "Mean power of each part over the phases (its energy divided by "
           "the phases' duration), stacked: %s, batch size %d. Provenance: "
           "%s.",
           panels, g->main_batch, g->energy_prov);
  for (int k = 0; k < GM_REPORT_N_KINDS && g->part[GM_REPORT_GPU].present; k++)
    if (all_w[k] > 0)
      appendf(f->caption, sizeof(f->caption),
              " In %s the GPU draws %.0f %% of the power (all models "
              "together).",
              kind_title[k], 100 * gpu_w[k] / all_w[k]);
  if (!g->part[GM_REPORT_GPU].present)
    appendf(f->partial, sizeof(f->partial),
            "%sGPU: no GPU was measured, so the bars hold the CPU and DRAM "
            "only.",
            f->partial[0] ? " " : "");
  return gnuplot_run(pl, f);
}

/* ---- Fig. 4: power against utilisation ----------------------------------- */

static enum gm_status fig4(struct rep_plotter *pl,
                           const struct gm_report_group *g,
                           struct rep_figure *f) {
  struct model_list ml;
  main_models(g, &ml);
  snprintf(f->title, sizeof(f->title),
           "Power against utilisation, marker size VRAM used, batch %d",
           g->main_batch);
  /* per kind, the CPU points and the GPU points */
  double cx[GM_REPORT_N_KINDS][256], cy[GM_REPORT_N_KINDS][256];
  double gx[GM_REPORT_N_KINDS][256], gy[GM_REPORT_N_KINDS][256];
  size_t nc[GM_REPORT_N_KINDS] = {0, 0}, ng[GM_REPORT_N_KINDS] = {0, 0};
  double vram_max = 0;
  for (size_t i = 0; i < ml.n; i++)
    for (int k = 0; k < GM_REPORT_N_KINDS; k++) {
      const struct gm_report_phases *p = &ml.cells[i]->ph[k];
      if (isfinite(p->cpu_util_pct) && isfinite(p->power_w[GM_REPORT_CPU])) {
        cx[k][nc[k]] = p->cpu_util_pct;
        cy[k][nc[k]++] = p->power_w[GM_REPORT_CPU];
      }
      if (isfinite(p->gpu_util_pct) && isfinite(p->power_w[GM_REPORT_GPU])) {
        gx[k][ng[k]] = p->gpu_util_pct;
        gy[k][ng[k]++] = p->power_w[GM_REPORT_GPU];
      }
      if (isfinite(p->vram_bytes))
        vram_max = fmax(vram_max, p->vram_bytes / 1073741824.0);
    }
  bool has[GM_REPORT_N_KINDS] = {nc[0] + ng[0] > 0, nc[1] + ng[1] > 0};
  bool gpu = ng[0] + ng[1] > 0;
  if (!has[GM_REPORT_TRAIN] && !has[GM_REPORT_INFER]) {
    omit(f,
         g->metered ? "no utilisation was recorded with the power" : UNMETERED);
    return GM_OK;
  }
  for (int k = 0; k < GM_REPORT_N_KINDS; k++) {
    if (!has[k])
      continue;
    FILE *fp = kind_open(pl, f, k, "");
    if (!fp)
      return GM_ERR_IO;
    fprintf(fp,
            "# %s (%s)\n# model  cpu_util_pct  cpu_power_w (%s)  "
            "gpu_util_pct  gpu_power_w (%s)  vram_used_gib\n",
            f->title, kind_title[k], g->part[GM_REPORT_CPU].prov,
            g->part[GM_REPORT_GPU].present ? g->part[GM_REPORT_GPU].prov
                                           : "absent");
    for (size_t i = 0; i < ml.n; i++) {
      const struct gm_report_phases *p = &ml.cells[i]->ph[k];
      dat_label(fp, ml.cells[i]->model);
      dat_num(fp, p->cpu_util_pct);
      dat_num(fp, p->power_w[GM_REPORT_CPU]);
      dat_num(fp, p->gpu_util_pct);
      dat_num(fp, p->power_w[GM_REPORT_GPU]);
      dat_num(fp, p->vram_bytes / 1073741824.0);
      fputc('\n', fp);
    }
    enum gm_status rc = fig_close(pl, f, fp);
    if (rc != GM_OK)
      return rc;
  }
  FILE *fp = script_begin(pl, f, 80 + 560 * (has[0] + has[1]), 560);
  if (!fp)
    return GM_ERR_IO;
  fprintf(fp,
          "  vram_max = %.6g  # GiB, the largest VRAM use\n"
          "  size(v) = 0.8 + 2.6 * v / vram_max\n",
          vram_max > 0 ? vram_max : 1.0);
  panels_begin(fp, f, has, false);
  fputs("  set xlabel \"utilisation (%)\"\n"
        "  set ylabel \"average power (W)\"\n"
        "  set xrange [0:100]\n"
        "  set yrange [0:*]\n"
        "  set key bottom right\n",
        fp);
  char cpu_t[64], gpu_t[96];
  part_title(g, GM_REPORT_CPU, cpu_t, sizeof(cpu_t));
  part_title(g, GM_REPORT_GPU, gpu_t, sizeof(gpu_t));
  appendf(gpu_t, sizeof(gpu_t), ", size: VRAM");
  char letter = 'a';
  for (int k = 0; k < GM_REPORT_N_KINDS; k++) {
    if (!has[k])
      continue;
    fprintf(fp, "  set title \"(%c) %s\"\n  plot ", letter++, kind_title[k]);
    if (nc[k]) {
      fprintf(fp,
              "\"%s-%s.dat\" using 2:3 with points pt 7 ps 1.1 lc rgb "
              "c_cpu title ",
              f->id, kind_file[k]);
      gp_string(fp, cpu_t);
    }
    if (ng[k]) {
      fprintf(fp,
              "%s\"%s-%s.dat\" using 4:5:(size($6)) with points pt 6 ps "
              "variable lw 1.5 lc rgb c_gpu title ",
              nc[k] ? ", \\\n    " : "", f->id, kind_file[k]);
      gp_string(fp, gpu_t);
      fputs(", \\\n    \"\" using 4:5:1 with labels left offset 1,0.5 font "
            "\",8\" notitle",
            fp);
    }
    fputc('\n', fp);
  }
  enum gm_status rc = script_end(pl, f, fp);
  if (rc != GM_OK)
    return rc;
  char panels[64];
  panel_names(has, panels, sizeof(panels));
  snprintf(f->caption, sizeof(f->caption),
           "Mean power of the CPU (%s) against its mean utilisation, one "
           "point per model: %s, batch size %d.",
           g->part[GM_REPORT_CPU].prov, panels, g->main_batch);
  if (gpu)
    appendf(f->caption, sizeof(f->caption),
            " Circles: the GPU (%s), sized by the VRAM used (largest %.1f "
            "GiB).",
            g->part[GM_REPORT_GPU].prov, vram_max);
  else
    appendf(f->partial, sizeof(f->partial),
            "%sGPU: no GPU was measured, so only the CPU is shown and there "
            "is no VRAM use to size the markers.",
            f->partial[0] ? " " : "");
  /* a modelled CPU's power is a function of its utilisation */
  bool cpu_modelled = strcmp(g->part[GM_REPORT_CPU].prov, "modelled") == 0;
  for (int k = 0; k < GM_REPORT_N_KINDS; k++) {
    char what[64];
    snprintf(what, sizeof(what), "%s, GPU",
             k == GM_REPORT_TRAIN ? "Training" : "Inference");
    caption_corr(f, what, gx[k], gy[k], ng[k]);
    snprintf(what, sizeof(what), "%s, CPU",
             k == GM_REPORT_TRAIN ? "Training" : "Inference");
    if (!cpu_modelled)
      caption_corr(f, what, cx[k], cy[k], nc[k]);
  }
  if (cpu_modelled)
    appendf(f->caption, sizeof(f->caption),
            " The CPU's power is modelled from its utilisation (TDP x "
            "utilisation), so its points lie on a line by construction and "
            "no correlation is given for them.");
  return gnuplot_run(pl, f);
}

/* ---- Fig. 5: loss, accuracy and energy per epoch ------------------------- */

struct band {
  double mean, lo, hi;
  size_t n;
};

static struct band band_of(const double *v, size_t n) {
  struct band b = {NAN, NAN, NAN, 0};
  double sum = 0;
  for (size_t i = 0; i < n; i++) {
    if (!isfinite(v[i]))
      continue;
    sum += v[i];
    b.lo = b.n ? fmin(b.lo, v[i]) : v[i];
    b.hi = b.n ? fmax(b.hi, v[i]) : v[i];
    b.n++;
  }
  if (b.n)
    b.mean = sum / (double)b.n;
  return b;
}

#define MAX_EPOCHS 256 /* drawn in Fig. 5; later epochs are left out */

static enum gm_status fig5(struct rep_plotter *pl,
                           const struct gm_report_group *g,
                           struct rep_figure *f) {
  struct model_list ml;
  main_models(g, &ml);
  snprintf(f->title, sizeof(f->title),
           "Loss, accuracy and cumulative training energy per epoch, mean "
           "over the models with min-max bands");
  int epochs = 0;
  for (size_t i = 0; i < ml.n; i++)
    if (ml.cells[i]->n_epochs > epochs)
      epochs = ml.cells[i]->n_epochs;
  epochs = epochs < MAX_EPOCHS ? epochs : MAX_EPOCHS;
  /* the models measured for every epoch */
  const struct gm_report_cell *cells[256];
  size_t n = 0;
  bool test_acc = true;
  for (size_t i = 0; i < ml.n; i++) {
    const struct gm_report_cell *c = ml.cells[i];
    if (c->n_epochs < epochs || !c->epochs)
      continue;
    cells[n++] = c;
    for (int e = 0; e < epochs; e++)
      test_acc = test_acc && isfinite(c->epochs[e].test_acc);
  }
  if (epochs < 2 || n == 0) {
    omit(f, epochs < 2 ? "only one epoch was measured, so there is no curve "
                         "to draw"
                       : "no model has a row for every epoch");
    return GM_OK;
  }
  /* rows[e][q]: loss, accuracy (%), cumulative energy (J) after epoch e */
  struct band rows[MAX_EPOCHS][3];
  bool has[3] = {false, false, false};
  double e_max = 0;
  /* a model with an epoch whose net energy is not above 0 leaves the
   * energy panel (its cumulative energy is NAN from there on; counted) */
  size_t n_excluded = 0;
  bool out[256];
  for (size_t i = 0; i < n; i++) {
    out[i] = false;
    for (int e = 0; e < epochs; e++)
      out[i] =
          out[i] || (isfinite(cells[i]->epochs[e].train_energy_j) &&
                     isnan(gm_report_epoch_energy(g, &cells[i]->epochs[e])));
    n_excluded += out[i];
  }
  for (int e = 0; e < epochs; e++) {
    double v[3][256];
    for (size_t i = 0; i < n; i++) {
      const struct gm_report_epoch *ep = cells[i]->epochs;
      v[0][i] = ep[e].train_loss;
      v[1][i] = 100 * (test_acc ? ep[e].test_acc : ep[e].train_acc);
      v[2][i] = out[i] ? NAN : 0;
      for (int j = 0; j <= e && !out[i]; j++)
        v[2][i] += gm_report_epoch_energy(g, &ep[j]);
    }
    for (int q = 0; q < 3; q++) {
      rows[e][q] = band_of(v[q], n);
      has[q] = has[q] || rows[e][q].n > 0;
    }
    if (isfinite(rows[e][2].hi))
      e_max = fmax(e_max, rows[e][2].hi);
  }
  const char *unit;
  double div = energy_scale(e_max, &unit);
  FILE *fp = fig_open(pl, f, ".dat");
  if (!fp)
    return GM_ERR_IO;
  fprintf(fp,
          "# %s\n# epoch  loss_mean loss_min loss_max  acc_pct_mean acc_min "
          "acc_max (%s)  energy_%s_mean energy_min energy_max (cumulative "
          "training %s, %s)  models\n",
          f->title,
          test_acc ? "test: the inference pass after the epoch" : "training",
          unit, energy_word(g), g->energy_prov);
  for (int e = 0; e < epochs; e++) {
    fprintf(fp, "%d", e + 1);
    for (int q = 0; q < 3; q++) {
      double d = q == 2 ? div : 1.0;
      dat_num(fp, rows[e][q].mean / d);
      dat_num(fp, rows[e][q].lo / d);
      dat_num(fp, rows[e][q].hi / d);
    }
    fprintf(fp, " %zu\n", n);
  }
  enum gm_status rc = fig_close(pl, f, fp);
  if (rc != GM_OK)
    return rc;
  int panels = has[0] + has[1] + has[2];
  if (!panels) {
    omit(f, "no loss, accuracy or energy was recorded per epoch");
    return GM_OK;
  }
  fp = script_begin(pl, f, 40 + 480 * panels, 500);
  if (!fp)
    return GM_ERR_IO;
  fprintf(fp,
          "  set multiplot layout 1,%d\n"
          "  set xlabel \"epoch\"\n"
          "  set xtics 1\n"
          "  set xrange [0.8:%d.2]\n"
          "  set key top left\n"
          "  set tmargin 4  # room for two-line titles, axes aligned\n"
          "  set style fill transparent solid 0.25 noborder\n",
          panels, epochs);
  static const char *const colours[] = {"c_infer", "c_train", "c_gpu"};
  char ylabel[3][128], names[160] = "";
  snprintf(ylabel[0], sizeof(ylabel[0]), "training loss");
  snprintf(ylabel[1], sizeof(ylabel[1]), "%s accuracy (%%)",
           test_acc ? "test" : "training");
  snprintf(ylabel[2], sizeof(ylabel[2]), "cumulative training energy, %s (%s)",
           net_word(g), unit);
  char what[3][96];
  snprintf(what[0], sizeof(what[0]), "the training loss");
  snprintf(what[1], sizeof(what[1]), "the %s accuracy%s",
           test_acc ? "test" : "training",
           test_acc ? " (the inference pass after each epoch)" : "");
  snprintf(what[2], sizeof(what[2]), "the cumulative training energy");
  char letter = 'a';
  for (int q = 0; q < 3; q++) {
    if (!has[q])
      continue;
    appendf(names, sizeof(names), "%s(%c) %s", letter > 'a' ? ", " : "", letter,
            what[q]);
    panel_title(fp, letter++, "", q == 2 ? g->energy_prov : NULL);
    fputs("  set ylabel ", fp);
    gp_string(fp, ylabel[q]);
    fprintf(fp,
            "\n  plot \"%s.dat\" using 1:%d:%d with filledcurves lc rgb %s "
            "title \"min-max\", \\\n"
            "    \"\" using 1:%d with linespoints pt 7 lw 2 lc rgb %s title "
            "\"mean of %zu models\"\n",
            f->id, 3 + 3 * q, 4 + 3 * q, colours[q], 2 + 3 * q, colours[q], n);
  }
  if ((rc = script_end(pl, f, fp)) != GM_OK)
    return rc;
  snprintf(f->caption, sizeof(f->caption),
           "Mean over %zu models (batch size %d) of %s; the range over the "
           "models is shaded. Energy: %s, from %s.",
           n, g->main_batch, names, energy_word(g), g->energy_prov);
  caption_excluded(f, n_excluded, n_excluded == 1 ? "model" : "models");
  const struct band *last = rows[epochs - 1];
  if (last[1].lo > 0 && last[2].lo > 0)
    appendf(f->caption, sizeof(f->caption),
            " After epoch %d the most accurate model is %.2f times as "
            "accurate as the least, while the most energy-hungry used %.1f "
            "times the energy of the thriftiest.",
            epochs, last[1].hi / last[1].lo, last[2].hi / last[2].lo);
  if (!has[2])
    snprintf(f->partial, sizeof(f->partial),
             "Energy: no energy was measured, so the energy panel is left "
             "out.");
  return gnuplot_run(pl, f);
}

/* ---- Fig. 6: energy against MACs per parameter --------------------------- */

/* Writes the fit greenml estimate makes across models, ln E = a + b ln x
 * (gm_analysis_fit_loglog), and its 95 % prediction band, sampled evenly on
 * a log scale, into "<id>-<kind>-fit.dat", and its statistics into stats.
 * Returns false (nothing written) when no fit can be made. */
static bool fit_line(struct rep_plotter *pl, struct rep_figure *f, int k,
                     const double *x, const double *y, size_t n, double div,
                     const char *unit, char *key, size_t key_size, char *stats,
                     size_t stats_size, enum gm_status *rc) {
  struct gm_stats_fit fit;
  char corr[160];
  double rho, r;
  if (gm_analysis_fit_loglog(x, y, n, &fit) != GM_OK ||
      !corr_text(corr, sizeof(corr), x, y, n, &rho, &r))
    return false;
  FILE *fp = kind_open(pl, f, k, "-fit");
  if (!fp) {
    *rc = GM_ERR_IO;
    return false;
  }
  snprintf(key, key_size, "models: Spearman ρ = %.2f, Pearson r = %.2f", rho,
           r);
  appendf(stats, stats_size,
          " %s: %s; fit E = %.4g %s x (MACs/param)^%.3f, R² = %.2f in "
          "log-log.",
          k == GM_REPORT_TRAIN ? "Training" : "Inference", corr,
          exp(fit.a) / div, unit, fit.b, fit.r2);
  fprintf(fp,
          "# the fit of greenml estimate, ln E = a + b ln x (E = e^a x^b), "
          "and its 95 %% prediction interval\n# macs_per_param  fit_%s  lo  "
          "hi\n",
          unit);
  double lo = x[0], hi = x[0];
  for (size_t i = 1; i < n; i++) {
    lo = fmin(lo, x[i]);
    hi = fmax(hi, x[i]);
  }
  for (int s = 0; s <= 60; s++) {
    struct gm_estimate_value v;
    double x0 = lo * pow(hi / lo, s / 60.0);
    if (gm_analysis_predict_loglog(&fit, x0, 0.05, &v) != GM_OK)
      continue;
    fprintf(fp, "%.6g", x0);
    dat_num(fp, v.value / div);
    dat_num(fp, v.lo / div);
    dat_num(fp, v.hi / div);
    fputc('\n', fp);
  }
  *rc = fig_close(pl, f, fp);
  return *rc == GM_OK;
}

static enum gm_status fig6(struct rep_plotter *pl,
                           const struct gm_report_group *g,
                           struct rep_figure *f) {
  struct model_list ml;
  main_models(g, &ml);
  snprintf(f->title, sizeof(f->title),
           "Energy against MACs per parameter, batch %d", g->main_batch);
  /* training: the total over the epochs when every model ran as many,
   * else per epoch; inference: per pass */
  int epochs = -1;
  bool same_epochs = true;
  for (size_t i = 0; i < ml.n; i++) {
    int e = ml.cells[i]->ph[GM_REPORT_TRAIN].n;
    if (!e)
      continue;
    same_epochs = same_epochs && (epochs < 0 || e == epochs);
    epochs = e;
  }
  double x[GM_REPORT_N_KINDS][256], y[GM_REPORT_N_KINDS][256];
  const char *names[GM_REPORT_N_KINDS][256];
  size_t n[GM_REPORT_N_KINDS] = {0, 0};
  double ymax = 0, s_lo, s_hi;
  bool per_sample = samples_differ(&ml, &s_lo, &s_hi);
  size_t n_excluded = 0;
  for (int k = 0; k < GM_REPORT_N_KINDS; k++)
    for (size_t i = 0; i < ml.n; i++) {
      const struct gm_report_phases *p = &ml.cells[i]->ph[k];
      double e = gm_report_energy(g, p);
      n_excluded += ml.models[i] && gm_report_net_excluded(g, p);
      if (per_sample)
        e = p->samples > 0 ? e / p->samples : NAN;
      else if (k == GM_REPORT_INFER || !same_epochs)
        e = mean_of(p, e);
      if (!ml.models[i] || !isfinite(e) ||
          !isfinite(ml.models[i]->macs_per_param))
        continue;
      x[k][n[k]] = ml.models[i]->macs_per_param;
      y[k][n[k]] = e;
      names[k][n[k]++] = ml.cells[i]->model;
      ymax = fmax(ymax, fabs(e));
    }
  bool has[GM_REPORT_N_KINDS] = {n[0] > 0, n[1] > 0};
  /* a panel whose energies are all above 0 has log-log axes, on which the
   * fit is a straight line */
  bool positive[GM_REPORT_N_KINDS] = {true, true};
  for (int k = 0; k < GM_REPORT_N_KINDS; k++)
    for (size_t i = 0; i < n[k]; i++)
      positive[k] = positive[k] && y[k][i] > 0 && x[k][i] > 0;
  if (!has[GM_REPORT_TRAIN] && !has[GM_REPORT_INFER]) {
    omit(f, !g->metered  ? UNMETERED
            : n_excluded ? "no model has a net energy above 0 (greenml report "
                           "--gross draws them on gross energy)"
                         : "no model has both its characteristics and its "
                           "energy");
    return GM_OK;
  }
  const char *unit;
  double div = energy_scale(ymax, &unit);
  char ylab[GM_REPORT_N_KINDS][160];
  if (per_sample)
    snprintf(ylab[0], sizeof(ylab[0]), "training energy per sample, %s (%s)",
             net_word(g), unit);
  else if (same_epochs)
    snprintf(ylab[0], sizeof(ylab[0]), "training energy, %d epoch%s, %s (%s)",
             epochs, epochs == 1 ? "" : "s", net_word(g), unit);
  else
    snprintf(ylab[0], sizeof(ylab[0]), "training energy per epoch, %s (%s)",
             net_word(g), unit);
  snprintf(ylab[1], sizeof(ylab[1]), "inference energy per %s, %s (%s)",
           per_sample ? "sample" : "pass", net_word(g), unit);
  bool fitted[GM_REPORT_N_KINDS] = {false, false};
  char key[GM_REPORT_N_KINDS][192], stats[1024] = "";
  for (int k = 0; k < GM_REPORT_N_KINDS; k++) {
    if (!has[k])
      continue;
    FILE *fp = kind_open(pl, f, k, "");
    if (!fp)
      return GM_ERR_IO;
    fprintf(fp, "# %s\n# model  macs_per_param  energy_%s (%s; %s)\n", f->title,
            unit, ylab[k], g->energy_prov);
    for (size_t i = 0; i < n[k]; i++) {
      dat_label(fp, names[k][i]);
      dat_num(fp, x[k][i]);
      dat_num(fp, y[k][i] / div);
      fputc('\n', fp);
    }
    enum gm_status rc = fig_close(pl, f, fp);
    if (rc != GM_OK)
      return rc;
    snprintf(key[k], sizeof(key[k]), "models");
    fitted[k] = fit_line(pl, f, k, x[k], y[k], n[k], div, unit, key[k],
                         sizeof(key[k]), stats, sizeof(stats), &rc);
    if (rc != GM_OK)
      return rc;
  }
  FILE *fp = script_begin(pl, f, 80 + 560 * (has[0] + has[1]), 560);
  if (!fp)
    return GM_ERR_IO;
  panels_begin(fp, f, has, false);
  fputs("  set xlabel \"MACs per parameter\"\n"
        "  set key outside top center vertical\n"
        "  set offsets 0, graph 0.15, 0, 0\n"
        "  set style fill transparent solid 0.15 noborder\n",
        fp);
  char letter = 'a';
  for (int k = 0; k < GM_REPORT_N_KINDS; k++) {
    if (!has[k])
      continue;
    panel_title(fp, letter++, kind_title[k], g->energy_prov);
    if (positive[k]) {
      /* a decade around the points: with few models the band of the fit
       * spans many more, and would squeeze them into a line */
      double lo = INFINITY, hi = 0;
      for (size_t i = 0; i < n[k]; i++) {
        lo = fmin(lo, y[k][i] / div);
        hi = fmax(hi, y[k][i] / div);
      }
      fprintf(fp, "  set logscale xy\n  set yrange [%.6g:%.6g]\n", lo / 10,
              hi * 10);
    } else {
      fputs("  unset logscale\n  set yrange [*:*]\n", fp);
    }
    fputs("  set ylabel ", fp);
    gp_string(fp, ylab[k]);
    fputs("\n  plot ", fp);
    if (fitted[k])
      fprintf(fp,
              "\"%s-%s-fit.dat\" using 1:3:4 with filledcurves lc rgb c_fit "
              "title \"95 %% prediction band\", \\\n"
              "    \"\" using 1:2 with lines lw 2 lc rgb c_fit title "
              "\"fit ln E = a + b ln x (as greenml estimate)\", \\\n    ",
              f->id, kind_file[k]);
    fprintf(fp,
            "\"%s-%s.dat\" using 2:3 with points pt 7 ps 1.2 lc rgb %s "
            "title ",
            f->id, kind_file[k], k == GM_REPORT_TRAIN ? "c_train" : "c_infer");
    gp_string(fp, key[k]);
    fputs(", \\\n    \"\" using 2:3:1 with labels left offset 0.8,0.4 font "
          "\",8\" notitle\n",
          fp);
  }
  enum gm_status rc = script_end(pl, f, fp);
  if (rc != GM_OK)
    return rc;
  char panels[64];
  panel_names(has, panels, sizeof(panels));
  snprintf(f->caption, sizeof(f->caption),
           "%s energy of each model against its MACs per parameter (MACs per "
           "3x32x32 sample over parameters, counted from the model's graph): "
           "%s; training %s, inference %s; batch size %d; from %s.",
           g->net ? "Net" : "Gross", panels,
           per_sample    ? "per sample"
           : same_epochs ? "over all epochs"
                         : "per epoch",
           per_sample ? "per sample" : "per pass", g->main_batch,
           g->energy_prov);
  if ((has[0] && positive[0]) || (has[1] && positive[1]))
    appendf(f->caption, sizeof(f->caption), " Both axes are logarithmic%s.",
            (has[0] && !positive[0]) || (has[1] && !positive[1])
                ? " where every energy is above 0"
                : "");
  if (fitted[0] || fitted[1])
    appendf(f->caption, sizeof(f->caption),
            " Lines: the fit greenml estimate makes across models, ln E = a "
            "+ b ln(MACs/param), with its 95 %% prediction band.%s",
            stats);
  if (per_sample)
    appendf(f->caption, sizeof(f->caption),
            " The models' phases processed different numbers of samples "
            "(%.0f to %.0f), so energies are per sample.",
            s_lo, s_hi);
  caption_excluded(f, n_excluded,
                   n_excluded == 1 ? "model's training or inference energy"
                                   : "models' training or inference energies");
  for (int k = 0; k < GM_REPORT_N_KINDS; k++)
    if (has[k] && !fitted[k])
      appendf(f->partial, sizeof(f->partial),
              "%s%s: %s, so no line is fitted and no correlation is given.",
              f->partial[0] ? " " : "",
              k == GM_REPORT_TRAIN ? "Training" : "Inference",
              n[k] < 3       ? "fewer than 3 models"
              : !positive[k] ? "an energy is not above 0 (no logarithm)"
                             : "the values do not vary");
  return gnuplot_run(pl, f);
}

/* ---- Fig. 7: energy against batch size ----------------------------------- */

static int cmp_int(const void *a, const void *b) {
  int x = *(const int *)a, y = *(const int *)b;
  return (x > y) - (x < y);
}

/* Energy of one phase of p for Fig. 7: per phase, or per sample. */
static double batch_energy(const struct gm_report_group *g,
                           const struct gm_report_phases *p, bool per_sample) {
  if (per_sample)
    return p->samples > 0 ? gm_report_energy(g, p) / p->samples : NAN;
  return mean_of(p, gm_report_energy(g, p));
}

static enum gm_status fig7(struct rep_plotter *pl,
                           const struct gm_report_group *g,
                           struct rep_figure *f) {
  snprintf(f->title, sizeof(f->title), "Energy against batch size");
  int batches[64];
  size_t nb = 0;
  for (size_t i = 0; i < g->n_cells && nb < 64; i++) {
    bool seen = false;
    for (size_t j = 0; j < nb; j++)
      seen = seen || batches[j] == g->cells[i].batch;
    if (!seen)
      batches[nb++] = g->cells[i].batch;
  }
  qsort(batches, nb, sizeof(*batches), cmp_int);
  if (nb < 2) {
    char why[160];
    snprintf(why, sizeof(why),
             "only one batch size (%d) was measured; give greenml bench "
             "--batch-sizes LIST (or 'paper') to draw it",
             nb ? batches[0] : 0);
    omit(f, why);
    return GM_OK;
  }
  if (!g->metered) {
    omit(f, UNMETERED);
    return GM_OK;
  }
  /* models with energy at two batch sizes or more; per sample when the
   * epochs of a model differ in length (--limit-batches) */
  const char *models[256];
  size_t nm = 0;
  bool per_sample = false;
  for (size_t i = 0; i < g->n_cells && nm < 256; i++) {
    const char *m = g->cells[i].model;
    bool seen = false;
    for (size_t j = 0; j < nm; j++)
      seen = seen || strcmp(models[j], m) == 0;
    if (seen)
      continue;
    size_t count = 0;
    double samples = -1;
    for (size_t j = 0; j < g->n_cells; j++) {
      const struct gm_report_cell *c = &g->cells[j];
      const struct gm_report_phases *p = &c->ph[GM_REPORT_TRAIN];
      if (strcmp(c->model, m) != 0 || !isfinite(gm_report_energy(g, p)))
        continue;
      count++;
      double s = p->samples / p->n;
      per_sample = per_sample || (samples >= 0 && fabs(s - samples) > 0.01 * s);
      samples = s;
    }
    if (count >= 2)
      models[nm++] = m;
  }
  size_t n_excluded = 0;
  /* the points left out: of every model measured at two batch sizes or
   * more, whether or not its remaining energies still make a line */
  for (size_t i = 0; i < g->n_cells; i++) {
    size_t at = 0;
    for (size_t j = 0; j < g->n_cells; j++)
      at += strcmp(g->cells[j].model, g->cells[i].model) == 0;
    for (int k = 0; k < GM_REPORT_N_KINDS && at >= 2; k++)
      n_excluded += gm_report_net_excluded(g, &g->cells[i].ph[k]);
  }
  if (!nm) {
    omit(f, n_excluded ? "no model has a net energy above 0 at more than one "
                         "batch size (greenml report --gross draws them on "
                         "gross energy)"
                       : "no model was measured at more than one batch size");
    return GM_OK;
  }
  double ymax = 0;
  size_t points[GM_REPORT_N_KINDS] = {0, 0};
  for (size_t m = 0; m < nm; m++)
    for (size_t b = 0; b < nb; b++) {
      const struct gm_report_cell *c =
          gm_report_cell_find(g, models[m], batches[b]);
      for (int k = 0; k < GM_REPORT_N_KINDS && c; k++) {
        double e = batch_energy(g, &c->ph[k], per_sample);
        if (isfinite(e)) {
          ymax = fmax(ymax, fabs(e));
          points[k]++;
        }
      }
    }
  const char *unit = "mJ";
  double div = per_sample ? 1e-3 : energy_scale(ymax, &unit);
  bool has[GM_REPORT_N_KINDS] = {points[0] > 0, points[1] > 0};
  char best[768] = "";
  for (int k = 0; k < GM_REPORT_N_KINDS; k++) {
    if (!has[k])
      continue;
    FILE *fp = kind_open(pl, f, k, "");
    if (!fp)
      return GM_ERR_IO;
    fprintf(fp,
            "# %s (%s), one block per model (gnuplot: index i)\n"
            "# batch_size  energy_%s (%s%s, %s)\n",
            f->title,
            k == GM_REPORT_TRAIN ? "training epoch" : "inference pass", unit,
            per_sample ? "per sample, " : "", energy_word(g), g->energy_prov);
    for (size_t m = 0; m < nm; m++) {
      fprintf(fp, "%s# %s\n", m ? "\n\n" : "", models[m]);
      int best_b = 0;
      double best_e = INFINITY;
      for (size_t b = 0; b < nb; b++) {
        const struct gm_report_cell *c =
            gm_report_cell_find(g, models[m], batches[b]);
        double e = c ? batch_energy(g, &c->ph[k], per_sample) : NAN;
        if (!isfinite(e))
          continue;
        fprintf(fp, "%d", batches[b]);
        dat_num(fp, e / div);
        fputc('\n', fp);
        if (e < best_e) {
          best_e = e;
          best_b = batches[b];
        }
      }
      if (k == GM_REPORT_TRAIN && best_b)
        appendf(best, sizeof(best), "%s%s %d", m ? ", " : "", models[m],
                best_b);
    }
    enum gm_status rc = fig_close(pl, f, fp);
    if (rc != GM_OK)
      return rc;
  }
  FILE *fp = script_begin(pl, f, 80 + 560 * (has[0] + has[1]), 560);
  if (!fp)
    return GM_ERR_IO;
  fputs("  models = \"", fp);
  for (size_t m = 0; m < nm; m++)
    fprintf(fp, "%s%s", m ? " " : "", models[m]);
  fputs("\"\n", fp);
  panels_begin(fp, f, has, false);
  fputs("  set logscale x 2\n  set xlabel \"batch size\"\n  set xtics (", fp);
  for (size_t b = 0; b < nb; b++)
    fprintf(fp, "%s%d", b ? ", " : "", batches[b]);
  fprintf(fp,
          ")\n  set xrange [%g:%g]\n  set yrange [0:*]\n"
          "  set key outside top center horizontal\n",
          batches[0] / 1.2, batches[nb - 1] * 1.2);
  char letter = 'a';
  for (int k = 0; k < GM_REPORT_N_KINDS; k++) {
    if (!has[k])
      continue;
    panel_title(fp, letter++, kind_title[k], g->energy_prov);
    fputs("  set ylabel ", fp);
    char yl[128];
    snprintf(yl, sizeof(yl), "energy per %s, %s (%s)",
             per_sample             ? "sample"
             : k == GM_REPORT_TRAIN ? "epoch"
                                    : "pass",
             net_word(g), unit);
    gp_string(fp, yl);
    fprintf(fp,
            "\n  plot for [i=1:words(models)] \"%s-%s.dat\" index (i-1) using "
            "1:2 with linespoints pt 7 lw 2 title word(models, i)\n",
            f->id, kind_file[k]);
  }
  enum gm_status rc = script_end(pl, f, fp);
  if (rc != GM_OK)
    return rc;
  char panels[64];
  panel_names(has, panels, sizeof(panels));
  snprintf(f->caption, sizeof(f->caption),
           "%s energy %s against the batch size: %s; one line per model "
           "measured at two batch sizes or more (%zu); from %s.",
           g->net ? "Net" : "Gross",
           per_sample ? "per sample (the epochs differ in length)"
                      : "of one training epoch and of one inference pass",
           panels, nm, g->energy_prov);
  if (best[0])
    appendf(f->caption, sizeof(f->caption),
            " Batch size of least training energy: %s.", best);
  caption_excluded(f, n_excluded,
                   n_excluded == 1 ? "point (model, batch size and phase)"
                                   : "points (model, batch size and phase)");
  return gnuplot_run(pl, f);
}

/* ---- a measured run: power and utilisation over time --------------------- */

static const char *const run_colours[] = {"#1f6fb2", "#c8413b", "#4b9b4b",
                                          "#e8871e", "#7b4fa0", "#2a9d8f",
                                          "#8c564b", "#d45087"};
#define N_RUN_COLOURS (sizeof(run_colours) / sizeof(*run_colours))

/* The run's phases as shaded spans with their names on top. */
static void run_phase_objects(FILE *fp, const struct gm_report_run *r) {
  if (!r->phases)
    return;
  for (size_t i = 0; i < r->phases->n; i++) {
    const struct gm_store_run_phase *ph = &r->phases->phases[i];
    if (!isfinite(ph->start_s) || !isfinite(ph->duration_s))
      continue;
    fprintf(fp,
            "  set object %zu rect from %.6f, graph 0 to %.6f, graph 1 "
            "behind fc rgb \"%s\" fs solid 0.6 noborder\n",
            i + 1, ph->start_s, ph->start_s + ph->duration_s,
            i % 2 ? "#e4ecf5" : "#f3e9dc");
    fprintf(fp, "  set label %zu ", i + 1);
    gp_string(fp, ph->name);
    fprintf(fp, " at %.6f, graph 0.98 center front font \",9\"\n",
            ph->start_s + ph->duration_s / 2);
  }
}

static enum gm_status run_power(struct rep_plotter *pl,
                                const struct gm_report_run *r,
                                struct rep_figure *f) {
  const struct gm_store_series *s = r->series;
  size_t nc = s->n_components;
  snprintf(f->title, sizeof(f->title),
           "Power of each component over the run, its phases shaded");
  if (nc == 0) {
    snprintf(f->omitted, sizeof(f->omitted),
             "Fig. %d is omitted: the run stored no component.", f->number);
    return GM_OK;
  }
  FILE *fp = fig_open(pl, f, ".dat");
  if (!fp)
    return GM_ERR_IO;
  fputs("# t_s", fp);
  for (size_t c = 0; c < nc; c++)
    fprintf(fp, "  %s_w (%s)", s->components[c].name,
            s->components[c].provenance);
  fputs("  (mean power over the interval ending at t)\n", fp);
  for (size_t k = 1; k < s->n_rows; k++) {
    fprintf(fp, "%.6f", s->t_s[k]);
    for (size_t c = 0; c < nc; c++)
      dat_num(fp, s->power_w[k * nc + c]);
    fputc('\n', fp);
  }
  enum gm_status rc = fig_close(pl, f, fp);
  if (rc != GM_OK)
    return rc;
  fp = script_begin(pl, f, 1100, 460);
  if (!fp)
    return GM_ERR_IO;
  fputs("  set datafile missing \"NaN\"\n"
        "  set xlabel \"time since the start (s)\"\n"
        "  set ylabel \"power (W)\"\n"
        "  set yrange [0:*]\n"
        "  set key outside top center horizontal\n",
        fp);
  run_phase_objects(fp, r);
  fputs("  plot ", fp);
  for (size_t c = 0; c < nc; c++) {
    char t[96];
    gm_cli_text_fmt(t, sizeof(t), "%s (%s%s)", s->components[c].name,
                    s->components[c].provenance,
                    s->components[c].in_total ? "" : ", inside another");
    fprintf(fp,
            "%s\"%s.dat\" using 1:%zu with lines lw 1.5 lc rgb \"%s\" "
            "title ",
            c ? ", \\\n    " : "", f->id, c + 2,
            run_colours[c % N_RUN_COLOURS]);
    gp_string(fp, t);
  }
  fputc('\n', fp);
  rc = script_end(pl, f, fp);
  if (rc != GM_OK)
    return rc;
  snprintf(f->caption, sizeof(f->caption),
           "Mean power of each component over each sampling interval, from "
           "the %zu samples stored; the label of each component says its "
           "provenance (measured: a hardware counter or sensor; modelled: no "
           "hardware measurement).",
           s->n_rows);
  if (r->phases && r->phases->n)
    appendf(f->caption, sizeof(f->caption), " Shaded: the run's %zu phase%s.",
            r->phases->n, r->phases->n == 1 ? "" : "s");
  return gnuplot_run(pl, f);
}

static enum gm_status run_util(struct rep_plotter *pl,
                               const struct gm_report_run *r,
                               struct rep_figure *f) {
  const struct gm_store_series *s = r->series;
  size_t nm = s->n_metrics;
  snprintf(f->title, sizeof(f->title), "Utilisation over the run");
  size_t cols[16], n = 0;
  for (size_t m = 0; m < nm && n < 16; m++) {
    const char *name = s->metrics[m].name;
    size_t len = strlen(name);
    /* the whole CPU and each GPU, not every core */
    bool core =
        strncmp(name, "cpu", 3) == 0 && name[3] >= '0' && name[3] <= '9';
    if (strcmp(s->metrics[m].unit, "%") == 0 && len > 5 &&
        strcmp(name + len - 5, ".util") == 0 && !core &&
        isfinite(r->metric_mean[m]))
      cols[n++] = m;
  }
  if (n == 0) {
    snprintf(f->omitted, sizeof(f->omitted),
             "Fig. %d is omitted: the run stored no utilisation.", f->number);
    return GM_OK;
  }
  FILE *fp = fig_open(pl, f, ".dat");
  if (!fp)
    return GM_ERR_IO;
  fputs("# t_s", fp);
  for (size_t i = 0; i < n; i++)
    fprintf(fp, "  %s (%%, measured)", s->metrics[cols[i]].name);
  fputc('\n', fp);
  for (size_t k = 0; k < s->n_rows; k++) {
    fprintf(fp, "%.6f", s->t_s[k]);
    for (size_t i = 0; i < n; i++)
      dat_num(fp, s->metric[k * nm + cols[i]]);
    fputc('\n', fp);
  }
  enum gm_status rc = fig_close(pl, f, fp);
  if (rc != GM_OK)
    return rc;
  fp = script_begin(pl, f, 1100, 380);
  if (!fp)
    return GM_ERR_IO;
  fputs("  set datafile missing \"NaN\"\n"
        "  set xlabel \"time since the start (s)\"\n"
        "  set ylabel \"utilisation (%)\"\n"
        "  set yrange [0:105]\n"
        "  set key outside top center horizontal\n",
        fp);
  run_phase_objects(fp, r);
  fputs("  plot ", fp);
  for (size_t i = 0; i < n; i++) {
    fprintf(fp,
            "%s\"%s.dat\" using 1:%zu with lines lw 1.5 lc rgb \"%s\" "
            "title ",
            i ? ", \\\n    " : "", f->id, i + 2,
            run_colours[i % N_RUN_COLOURS]);
    gp_string(fp, s->metrics[cols[i]].name);
  }
  fputc('\n', fp);
  rc = script_end(pl, f, fp);
  if (rc != GM_OK)
    return rc;
  snprintf(f->caption, sizeof(f->caption),
           "Utilisation of the whole CPU (from /proc/stat) and of each GPU "
           "(NVML), as sampled; measured.");
  return gnuplot_run(pl, f);
}

/* The settings of a clustered bar chart over labelled rows (Figs. 8, 9). */
static void histogram_head(FILE *fp) {
  fputs("  set datafile missing \"NaN\"\n"
        "  set style data histograms\n"
        "  set style histogram clustered gap 1\n"
        "  set style fill solid 0.85 border -1\n"
        "  set boxwidth 0.9\n"
        "  set xtics rotate by 40 right\n",
        fp);
}

/* ---- engines compared ------------------------------------------------------
 */

enum gm_status rep_draw_engine_figure(struct rep_plotter *pl,
                                      const struct gm_analysis_engine_row *rows,
                                      size_t n, struct rep_figure *f) {
  memset(f, 0, sizeof(*f));
  pl->err[0] = '\0';
  f->number = 8;
  gm_cli_text_copy(f->id, "engines", sizeof(f->id));
  snprintf(f->title, sizeof(f->title),
           "greenml's C engine against PyTorch: throughput and energy per "
           "sample");
  if (n == 0) {
    snprintf(f->omitted, sizeof(f->omitted),
             "Fig. 8 is omitted: no cell was run on both engines (bench "
             "--engine torch beside a bench of the same grid).");
    return GM_OK;
  }
  /* one row per (model, batch, kind): speed ratio and energy ratio */
  FILE *fp = fig_open(pl, f, ".dat");
  if (!fp)
    return GM_ERR_IO;
  fputs("# cell  speedup (greenml samples/s over PyTorch's)  energy ratio "
        "(greenml J/sample over PyTorch's)\n",
        fp);
  for (size_t i = 0; i < n; i++) {
    char label[96];
    gm_cli_text_fmt(label, sizeof(label), "%s b%d %s", rows[i].model,
                    rows[i].batch_size, rows[i].kind);
    dat_label(fp, label);
    dat_num(fp, rows[i].samples_per_s[0] / rows[i].samples_per_s[1]);
    dat_num(fp, rows[i].j_per_sample[0] / rows[i].j_per_sample[1]);
    fputc('\n', fp);
  }
  enum gm_status rc = fig_close(pl, f, fp);
  if (rc != GM_OK)
    return rc;
  int width = 300 + 60 * (int)n;
  fp = script_begin(pl, f, width < 900 ? 900 : width, 480);
  if (!fp)
    return GM_ERR_IO;
  histogram_head(fp);
  fputs("  set logscale y 2\n"
        "  set ylabel \"greenml over PyTorch (log scale)\"\n"
        "  set arrow from graph 0, first 1 to graph 1, first 1 nohead lc rgb "
        "\"#555555\" dt 2\n"
        "  set key outside top center horizontal\n",
        fp);
  fprintf(fp,
          "  plot \"%s.dat\" using 2:xtic(1) title \"speedup (samples/s "
          "ratio; above 1: greenml faster)\" lc rgb c_train, \\\n"
          "    \"%s.dat\" using 3 title \"energy per sample ratio (below 1: "
          "greenml uses less)\" lc rgb c_infer\n",
          f->id, f->id);
  rc = script_end(pl, f, fp);
  if (rc != GM_OK)
    return rc;
  snprintf(f->caption, sizeof(f->caption),
           "For each cell run on both engines (same host, model, batch size "
           "and phase kind, the same protocol and batches), greenml's "
           "samples per second over PyTorch's and its energy per sample over "
           "PyTorch's, on a log scale; the dashed line is parity.");
  return gnuplot_run(pl, f);
}

/* ---- precisions compared ---------------------------------------------------
 */

enum gm_status
rep_draw_precision_figure(struct rep_plotter *pl,
                          const struct gm_analysis_precision_row *rows,
                          size_t n, struct rep_figure *f) {
  memset(f, 0, sizeof(*f));
  pl->err[0] = '\0';
  f->number = 10;
  gm_cli_text_copy(f->id, "precisions", sizeof(f->id));
  snprintf(f->title, sizeof(f->title),
           "bf16 against fp32: energy, time and accuracy per precision");
  if (n == 0) {
    snprintf(f->omitted, sizeof(f->omitted),
             "Fig. 10 is omitted: no cell was measured in both precisions "
             "(bench --precisions fp32,bf16).");
    return GM_OK;
  }
  FILE *fp = fig_open(pl, f, ".dat");
  if (!fp)
    return GM_ERR_IO;
  fputs("# cell  energy per sample  time per sample  final accuracy (each "
        "bf16 over fp32)\n",
        fp);
  for (size_t i = 0; i < n; i++) {
    char label[96];
    gm_cli_text_fmt(label, sizeof(label), "%s b%d %s", rows[i].model,
                    rows[i].batch_size, rows[i].kind);
    dat_label(fp, label);
    dat_num(fp, rows[i].energy_ratio);
    dat_num(fp, rows[i].time_ratio);
    dat_num(fp, rows[i].accuracy_ratio);
    fputc('\n', fp);
  }
  enum gm_status rc = fig_close(pl, f, fp);
  if (rc != GM_OK)
    return rc;
  int width = 300 + 80 * (int)n;
  fp = script_begin(pl, f, width < 900 ? 900 : width, 480);
  if (!fp)
    return GM_ERR_IO;
  histogram_head(fp);
  fputs("  set logscale y 2\n"
        "  set ylabel \"bf16 over fp32 (log scale)\"\n"
        "  set arrow from graph 0, first 1 to graph 1, first 1 nohead lc rgb "
        "\"#555555\" dt 2\n"
        "  set key outside top center horizontal\n",
        fp);
  fprintf(fp,
          "  plot \"%s.dat\" using 2:xtic(1) title \"energy per sample\" lc "
          "rgb c_train, \\\n"
          "    \"%s.dat\" using 3 title \"time per sample\" lc rgb c_infer, "
          "\\\n"
          "    \"%s.dat\" using 4 title \"final accuracy\" lc rgb "
          "\"#777777\"\n",
          f->id, f->id, f->id);
  rc = script_end(pl, f, fp);
  if (rc != GM_OK)
    return rc;
  snprintf(f->caption, sizeof(f->caption),
           "For each cell measured in both precisions (same host, model, "
           "batch size and phase kind), bf16's energy per sample, time per "
           "sample and final accuracy over fp32's, on a log scale; the "
           "dashed line is parity. Energy and time measured per phase, with "
           "the provenance of the table above.");
  return gnuplot_run(pl, f);
}

/* ---- hosts compared --------------------------------------------------------
 */

enum gm_status rep_draw_hosts_figure(struct rep_plotter *pl,
                                     const char (*host_labels)[96],
                                     size_t n_hosts, const char (*models)[64],
                                     size_t n_models, const double *jps,
                                     const char *kind, int batch,
                                     struct rep_figure *f) {
  memset(f, 0, sizeof(*f));
  pl->err[0] = '\0';
  f->number = 9;
  gm_cli_text_copy(f->id, "hosts", sizeof(f->id));
  bool train = strcmp(kind, "train") == 0;
  snprintf(f->title, sizeof(f->title),
           "Hosts compared: %s energy per sample of each model, batch size %d",
           train ? "training" : "inference", batch);
  if (n_hosts < 2 || n_models == 0) {
    snprintf(f->omitted, sizeof(f->omitted),
             "Fig. 9 is omitted: no model was measured on two hosts at one "
             "batch size.");
    return GM_OK;
  }
  FILE *fp = fig_open(pl, f, ".dat");
  if (!fp)
    return GM_ERR_IO;
  fputs("# model  J/sample on each host (columns in the order of the "
        "legend; NaN: not measured there)\n",
        fp);
  for (size_t m = 0; m < n_models; m++) {
    dat_label(fp, models[m]);
    for (size_t h = 0; h < n_hosts; h++)
      dat_num(fp, jps[m * n_hosts + h]);
    fputc('\n', fp);
  }
  enum gm_status rc = fig_close(pl, f, fp);
  if (rc != GM_OK)
    return rc;
  int width = 300 + 40 * (int)(n_models * n_hosts);
  fp = script_begin(pl, f, width < 900 ? 900 : width, 480);
  if (!fp)
    return GM_ERR_IO;
  histogram_head(fp);
  fputs("  set logscale y 10\n"
        "  set ylabel \"energy per sample (J, log scale)\"\n"
        "  set key outside top center horizontal\n",
        fp);
  static const char *const colours[] = {"c_cpu", "c_infer", "c_dram", "c_gpu",
                                        "c_fit"};
  fputs("  plot ", fp);
  for (size_t h = 0; h < n_hosts; h++) {
    char label[192];
    gm_cli_text_copy(label, host_labels[h], sizeof(label));
    for (char *c = label; *c; c++)
      if (*c == '"' || *c == '\\')
        *c = '\'';
    fprintf(fp, "%s\"%s.dat\" using %zu%s title \"%s\" lc rgb %s",
            h ? ", \\\n    " : "", f->id, h + 2, h == 0 ? ":xtic(1)" : "",
            label, colours[h % 5]);
  }
  fputc('\n', fp);
  rc = script_end(pl, f, fp);
  if (rc != GM_OK)
    return rc;
  snprintf(f->caption, sizeof(f->caption),
           "The same models on each host (the paper's hardware "
           "configurations side by side): %s energy per sample at batch size "
           "%d, gross, one bar per host, on a log scale. A missing bar: the "
           "host did not measure that model at this batch size.",
           train ? "training" : "inference", batch);
  return gnuplot_run(pl, f);
}

/* ---- entry points -------------------------------------------------------- */

bool rep_find_gnuplot(char *path, size_t size) {
  const char *env = getenv("PATH");
  char dirs[4096];
  gm_cli_text_copy(dirs, env && *env ? env : "/usr/bin:/bin", sizeof(dirs));
  char *save = NULL;
  for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save))
    if (gm_cli_text_fmt(path, size, "%s/gnuplot", *d ? d : ".") &&
        access(path, X_OK) == 0)
      return true;
  return false;
}

enum gm_status rep_draw_figures(struct rep_plotter *pl,
                                const struct gm_report_group *g,
                                struct rep_figure figs[REP_N_FIGURES]) {
  typedef enum gm_status (*draw_fn)(struct rep_plotter *,
                                    const struct gm_report_group *,
                                    struct rep_figure *);
  static const draw_fn draw[REP_N_FIGURES] = {fig2, fig3, fig4,
                                              fig5, fig6, fig7};
  memset(figs, 0, REP_N_FIGURES * sizeof(*figs));
  pl->err[0] = '\0';
  for (int i = 0; i < REP_N_FIGURES; i++) {
    figs[i].number = i + 2;
    gm_cli_text_fmt(figs[i].id, sizeof(figs[i].id), "%s%sfig%d", g->prefix,
                    g->prefix[0] ? "-" : "", i + 2);
    enum gm_status rc = draw[i](pl, g, &figs[i]);
    if (rc != GM_OK)
      return rc;
  }
  return GM_OK;
}

void rep_figures_free(struct rep_figure figs[REP_N_FIGURES]) {
  for (int i = 0; i < REP_N_FIGURES; i++) {
    free(figs[i].svg);
    figs[i].svg = NULL;
  }
}

enum gm_status rep_draw_run_figures(struct rep_plotter *pl,
                                    const struct gm_report_run *r,
                                    struct rep_figure figs[REP_N_RUN_FIGURES]) {
  memset(figs, 0, REP_N_RUN_FIGURES * sizeof(*figs));
  pl->err[0] = '\0';
  figs[0].number = 1;
  gm_cli_text_fmt(figs[0].id, sizeof(figs[0].id), "run%lld-power",
                  (long long)r->run->id);
  enum gm_status rc = run_power(pl, r, &figs[0]);
  if (rc != GM_OK)
    return rc;
  figs[1].number = 2;
  gm_cli_text_fmt(figs[1].id, sizeof(figs[1].id), "run%lld-util",
                  (long long)r->run->id);
  return run_util(pl, r, &figs[1]);
}

void rep_run_figures_free(struct rep_figure figs[REP_N_RUN_FIGURES]) {
  for (int i = 0; i < REP_N_RUN_FIGURES; i++) {
    free(figs[i].svg);
    figs[i].svg = NULL;
  }
}

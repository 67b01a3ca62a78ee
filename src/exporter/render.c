/* render.c: a snapshot as Prometheus text (exposition format 0.0.4) or
 * OpenMetrics 1.0.0 (exporter.h). Pure: the text depends on the snapshot
 * alone. The families, their names, units and labels are written here
 * once; server.c only chooses the format. */
#define _GNU_SOURCE
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "exporter_internal.h"
#include "greenml/exporter.h"

enum kind { GAUGE, COUNTER, INFO };

struct out {
  struct gm__buf b;
  enum gm_exporter_format f;
  const char *family; /* the family being written */
  enum kind kind;
  double ts; /* the samples' timestamp, s since the epoch; <= 0 or NAN: none */
};

struct label {
  const char *k, *v;
};

/* ---- values and escaping ------------------------------------------------ */

/* The shortest of %.15g .. %.17g that reads back as v; NaN and infinities
 * as both formats spell them. */
static void fmt_value(char *buf, size_t size, double v) {
  if (isnan(v)) {
    snprintf(buf, size, "NaN");
    return;
  }
  if (isinf(v)) {
    snprintf(buf, size, v > 0 ? "+Inf" : "-Inf");
    return;
  }
  for (int prec = 15; prec <= 17; prec++) {
    snprintf(buf, size, "%.*g", prec, v);
    if (strtod(buf, NULL) == v)
      return;
  }
}

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 when it is
 * not one. */
static size_t utf8_len(const unsigned char *s, size_t n) {
  unsigned char c = s[0];
  if (c < 0x80)
    return 1;
  size_t len;
  unsigned char lo = 0x80, hi = 0xbf;
  if (c >= 0xc2 && c <= 0xdf)
    len = 2;
  else if (c >= 0xe0 && c <= 0xef) {
    len = 3;
    if (c == 0xe0)
      lo = 0xa0;
    else if (c == 0xed)
      hi = 0x9f; /* no UTF-16 surrogates */
  } else if (c >= 0xf0 && c <= 0xf4) {
    len = 4;
    if (c == 0xf0)
      lo = 0x90;
    else if (c == 0xf4)
      hi = 0x8f; /* nothing above U+10FFFF */
  } else
    return 0;
  if (n < len || s[1] < lo || s[1] > hi)
    return 0;
  for (size_t i = 2; i < len; i++)
    if (s[i] < 0x80 || s[i] > 0xbf)
      return 0;
  return len;
}

/* Appends s escaped: backslash, line feed and (quote) double quote as
 * backslash sequences; other control characters and invalid UTF-8 as
 * U+FFFD. */
static void escape(struct gm__buf *b, const char *s, bool quote) {
  static const char repl[] = "\xef\xbf\xbd"; /* U+FFFD */
  const unsigned char *p = (const unsigned char *)s;
  size_t n = strlen(s);
  while (n) {
    size_t run = 0;
    /* plain printable ASCII, copied as one run */
    while (run < n && p[run] >= 0x20 && p[run] < 0x7f && p[run] != '\\' &&
           p[run] != '"')
      run++;
    if (run) {
      gm__buf_append(b, (const char *)p, run);
      p += run;
      n -= run;
      continue;
    }
    unsigned char c = *p;
    size_t len = 1;
    if (c == '\\')
      gm__buf_puts(b, "\\\\");
    else if (c == '\n')
      gm__buf_puts(b, "\\n");
    else if (c == '"')
      gm__buf_puts(b, quote ? "\\\"" : "\"");
    else if (c == '\t')
      gm__buf_puts(b, "\t");
    else if (c < 0x20 || c == 0x7f)
      gm__buf_puts(b, repl);
    else if ((len = utf8_len(p, n)) != 0)
      gm__buf_append(b, (const char *)p, len);
    else {
      gm__buf_puts(b, repl);
      len = 1;
    }
    p += len;
    n -= len;
  }
}

/* ---- families and samples ----------------------------------------------- */

/* Begins a family: base is its name without _total (counters) or _info
 * (info); unit (may be NULL) is the suffix base ends with. */
static void family(struct out *o, enum kind k, const char *base,
                   const char *unit, const char *help) {
  o->family = base;
  o->kind = k;
  bool om = o->f == GM_EXPORTER_OPENMETRICS;
  const char *suffix = "";
  if (!om && k == COUNTER)
    suffix = "_total";
  else if (!om && k == INFO)
    suffix = "_info";
  gm__buf_printf(&o->b, "# HELP %s%s ", base, suffix);
  escape(&o->b, help, om);
  const char *type = k == COUNTER      ? "counter"
                     : k == INFO && om ? "info"
                                       : "gauge";
  gm__buf_printf(&o->b, "\n# TYPE %s%s %s\n", base, suffix, type);
  if (om && unit)
    gm__buf_printf(&o->b, "# UNIT %s %s\n", base, unit);
}

/* One sample of the current family; NAN values are left out. */
static void sample(struct out *o, const struct label *l, size_t n, double v) {
  if (isnan(v))
    return;
  gm__buf_puts(&o->b, o->family);
  if (o->kind == COUNTER)
    gm__buf_puts(&o->b, "_total");
  else if (o->kind == INFO)
    gm__buf_puts(&o->b, "_info");
  if (n) {
    gm__buf_puts(&o->b, "{");
    for (size_t i = 0; i < n; i++) {
      gm__buf_printf(&o->b, "%s%s=\"", i ? "," : "", l[i].k);
      escape(&o->b, l[i].v, true);
      gm__buf_puts(&o->b, "\"");
    }
    gm__buf_puts(&o->b, "}");
  }
  char num[40];
  fmt_value(num, sizeof(num), v);
  gm__buf_printf(&o->b, " %s", num);
  /* the text format stamps in integer milliseconds, OpenMetrics in seconds */
  if (o->ts > 0 && o->f == GM_EXPORTER_OPENMETRICS)
    gm__buf_printf(&o->b, " %.3f", o->ts);
  else if (o->ts > 0)
    gm__buf_printf(&o->b, " %lld", (long long)llround(o->ts * 1000.0));
  gm__buf_puts(&o->b, "\n");
}

static void sample0(struct out *o, double v) { sample(o, NULL, 0, v); }

static void sample1(struct out *o, const char *k, const char *v, double x) {
  struct label l[1] = {{k, v}};
  sample(o, l, 1, x);
}

/* ---- components --------------------------------------------------------- */

/* The labels that describe a component, in the JSON's words
 * (gm_json_component_info): name, kind, domain, source, provenance
 * ("measured", "modelled"), signal ("energy counter", "power sensor",
 * "model") and in_total. */
#define COMPONENT_LABELS 7
static void component_labels(const struct gm_component_info *c,
                             struct label *l) {
  l[0] = (struct label){"component", c->name};
  l[1] = (struct label){"kind", gm_kind_name(c->kind)};
  l[2] = (struct label){"domain", gm_domain_name(c->domain)};
  l[3] = (struct label){"source", c->source};
  l[4] = (struct label){"provenance", gm_provenance_name(c->provenance)};
  l[5] = (struct label){"signal", gm_provenance_detail(c->provenance)};
  l[6] = (struct label){"in_total", c->in_total ? "true" : "false"};
}

static void components(struct out *o, const struct gm_exporter_snapshot *s) {
  const struct gm_exporter_component *c = s->components;
  size_t n = s->n_components;
  struct label l[COMPONENT_LABELS];
  if (!n)
    return;
  family(o, COUNTER, "greenml_energy_joules", "joules",
         "Energy drawn by the component since the exporter started (gross, "
         "idle included). Components with in_total=\"false\" (RAPL cores, "
         "uncore, psys) lie inside others: sum in_total=\"true\" only.");
  /* readings of the latest tick: stamped with its time */
  o->ts = s->tick_time_s;
  for (size_t i = 0; i < n; i++) {
    component_labels(&c[i].info, l);
    sample(o, l, COMPONENT_LABELS, c[i].energy_j);
  }
  family(o, GAUGE, "greenml_power_watts", "watts",
         "Mean power of the component over the latest sampling interval.");
  for (size_t i = 0; i < n; i++) {
    component_labels(&c[i].info, l);
    sample(o, l, COMPONENT_LABELS, c[i].power_w);
  }
  o->ts = NAN;
  family(o, GAUGE, "greenml_component_max_power_watts", "watts",
         "The most the component can plausibly draw; a reading implying "
         "more is discarded as a glitch.");
  for (size_t i = 0; i < n; i++)
    sample1(o, "component", c[i].info.name,
            c[i].info.max_power_w > 0 ? c[i].info.max_power_w : NAN);

  static const struct {
    const char *name, *help;
    size_t off;
  } counters[] = {
      {"greenml_component_read_errors",
       "Ticks in which the component could not be read.",
       offsetof(struct gm_component_stats, read_errors)},
      {"greenml_component_glitches",
       "Readings discarded as physically implausible; their intervals are "
       "filled from the neighbouring readings.",
       offsetof(struct gm_component_stats, glitches)},
      {"greenml_component_wraps", "Energy counter wraparounds handled.",
       offsetof(struct gm_component_stats, wraps)},
      {"greenml_component_resets",
       "Energy counter resets (the value went backwards) handled.",
       offsetof(struct gm_component_stats, resets)},
  };
  for (size_t k = 0; k < sizeof(counters) / sizeof(counters[0]); k++) {
    family(o, COUNTER, counters[k].name, NULL, counters[k].help);
    for (size_t i = 0; i < n; i++) {
      uint64_t v;
      memcpy(&v, (const char *)&c[i].stats + counters[k].off, sizeof(v));
      sample1(o, "component", c[i].info.name, (double)v);
    }
  }
  family(o, GAUGE, "greenml_component_lost", NULL,
         "1 when the device disappeared (e.g. GPU lost): its energy "
         "stops at its last good reading.");
  for (size_t i = 0; i < n; i++)
    sample1(o, "component", c[i].info.name, c[i].stats.lost ? 1 : 0);
  family(o, GAUGE, "greenml_component_energy_stopped", NULL,
         "1 when the energy counter stopped while the power sensor showed "
         "load: integrated from power since.");
  for (size_t i = 0; i < n; i++)
    sample1(o, "component", c[i].info.name, c[i].stats.counter_stopped ? 1 : 0);
  bool any_x = false;
  for (size_t i = 0; i < n; i++)
    any_x |= c[i].stats.xcheck_rel >= 0;
  if (any_x) {
    family(o, GAUGE, "greenml_component_energy_disagreement_ratio", "ratio",
           "|counter - integrated power| / counter, for components with "
           "both an energy counter and a power sensor.");
    for (size_t i = 0; i < n; i++)
      sample1(o, "component", c[i].info.name,
              c[i].stats.xcheck_rel >= 0 ? c[i].stats.xcheck_rel : NAN);
  }
}

static void missing(struct out *o, const struct gm_exporter_snapshot *s) {
  bool partial = false;
  for (size_t i = 0; i < s->n_missing; i++)
    partial |= s->missing[i].in_total;
  for (size_t i = 0; i < s->n_components; i++)
    partial |= s->components[i].info.in_total && s->components[i].stats.lost;
  family(o, GAUGE, "greenml_total_partial", NULL,
         "1 when a component that belongs in the machine's total is missing "
         "or was lost: the sum of in_total components is a lower bound.");
  sample0(o, partial ? 1 : 0);
  if (!s->n_missing)
    return;
  family(o, GAUGE, "greenml_source_missing", NULL,
         "A component found but not measurable, with the reason and the "
         "fix when known (always 1).");
  for (size_t i = 0; i < s->n_missing; i++) {
    const struct gm_missing *x = &s->missing[i];
    struct label l[5] = {{"name", x->name},
                         {"source", x->source},
                         {"kind", gm_kind_name(x->kind)},
                         {"in_total", x->in_total ? "true" : "false"},
                         {"reason", x->reason}};
    sample(o, l, 5, 1);
  }
}

static void idle(struct out *o, const struct gm_exporter_snapshot *s) {
  if (!s->has_baseline)
    return;
  char id[32];
  snprintf(id, sizeof(id), "%lld", (long long)s->baseline_id);
  family(o, GAUGE, "greenml_idle_baseline_timestamp_seconds", "seconds",
         "When the idle baseline in use was measured (Unix time).");
  sample1(o, "baseline", id, s->baseline_time_s);
  family(o, GAUGE, "greenml_idle_baseline_duration_seconds", "seconds",
         "How long the idle baseline in use was measured.");
  sample1(o, "baseline", id, s->baseline_duration_s);
  size_t matched = 0, unmatched = 0;
  for (size_t i = 0; i < s->n_components; i++) {
    if (isnan(s->components[i].idle_w))
      unmatched++;
    else
      matched++;
  }
  if (matched) {
    family(o, GAUGE, "greenml_idle_power_watts", "watts",
           "The component's mean power in the idle baseline (same device, "
           "or the same model and constants); net power = power - idle.");
    for (size_t i = 0; i < s->n_components; i++) {
      const struct gm_exporter_component *c = &s->components[i];
      struct label l[3] = {{"component", c->info.name},
                           {"source", c->info.source},
                           {"baseline", id}};
      sample(o, l, 3, c->idle_w);
    }
  }
  if (unmatched) {
    family(o, GAUGE, "greenml_idle_baseline_unmatched", NULL,
           "A component the idle baseline in use does not apply to, and "
           "why (always 1): it has no net power.");
    for (size_t i = 0; i < s->n_components; i++) {
      const struct gm_exporter_component *c = &s->components[i];
      if (!isnan(c->idle_w))
        continue;
      struct label l[3] = {{"component", c->info.name},
                           {"baseline", id},
                           {"reason", c->idle_why}};
      sample(o, l, 3, 1);
    }
  }
}

/* ---- the meter's metrics ------------------------------------------------ */

/* How a meter metric "DEVICE.QUANTITY" is exposed. DEVICE is prefix
 * exactly, or (indexed) prefix followed by its number. */
static const struct metric_map {
  const char *prefix;
  bool indexed;
  const char *quantity, *unit; /* the meter's name and unit */
  enum kind kind;
  const char *family, *om_unit, *help;
  const char *label; /* "cpu": the number; "component": the device; NULL */
} maps[] = {
    {"cpu", false, "util", "%", GAUGE, "greenml_cpu_utilisation_ratio", "ratio",
     "Utilisation of all CPUs over the latest interval, 0 to 1.", NULL},
    {"cpu", true, "util", "%", GAUGE, "greenml_cpu_core_utilisation_ratio",
     "ratio", "Utilisation of one CPU over the latest interval, 0 to 1.",
     "cpu"},
    {"mem", false, "used", "B", GAUGE, "greenml_memory_used_bytes", "bytes",
     "Memory in use (MemTotal - MemAvailable).", NULL},
    {"mem", false, "total", "B", GAUGE, "greenml_memory_total_bytes", "bytes",
     "Memory installed (MemTotal).", NULL},
    {"gpu", true, "util", "%", GAUGE, "greenml_gpu_utilisation_ratio", "ratio",
     "GPU utilisation (NVML), 0 to 1.", "component"},
    {"gpu", true, "mem_util", "%", GAUGE,
     "greenml_gpu_memory_utilisation_ratio", "ratio",
     "GPU memory bandwidth utilisation (NVML), 0 to 1.", "component"},
    {"gpu", true, "vram_used", "B", GAUGE, "greenml_gpu_memory_used_bytes",
     "bytes", "GPU memory in use.", "component"},
    {"gpu", true, "vram_total", "B", GAUGE, "greenml_gpu_memory_total_bytes",
     "bytes", "GPU memory installed.", "component"},
    {"gpu", true, "temp", "C", GAUGE, "greenml_gpu_temperature_celsius",
     "celsius", "GPU temperature.", "component"},
    {"gpu", true, "sm_clock", "MHz", GAUGE, "greenml_gpu_sm_clock_hertz",
     "hertz", "GPU SM clock.", "component"},
    {"gpu", true, "power_limit", "W", GAUGE, "greenml_gpu_power_limit_watts",
     "watts", "GPU enforced power limit.", "component"},
    {"proc", false, "cpu_time", "s", COUNTER,
     "greenml_tracked_process_cpu_seconds", "seconds",
     "CPU time of the followed process tree.", NULL},
    {"proc", false, "rss", "B", GAUGE,
     "greenml_tracked_process_resident_memory_bytes", "bytes",
     "Resident memory of the followed process tree.", NULL},
};
#define N_MAPS (sizeof(maps) / sizeof(maps[0]))

/* The map of metric m, or N_MAPS; its device name and number (indexed)
 * into dev and num. */
static size_t map_of(const struct gm_metric_info *m, char *dev, size_t dsize,
                     const char **num) {
  const char *dot = strchr(m->name, '.');
  if (!dot || (size_t)(dot - m->name) >= dsize)
    return N_MAPS;
  memcpy(dev, m->name, (size_t)(dot - m->name));
  dev[dot - m->name] = '\0';
  for (size_t k = 0; k < N_MAPS; k++) {
    size_t pl = strlen(maps[k].prefix);
    if (strncmp(dev, maps[k].prefix, pl) != 0 ||
        strcmp(dot + 1, maps[k].quantity) != 0 ||
        strcmp(m->unit, maps[k].unit) != 0)
      continue;
    const char *rest = dev + pl;
    if (!maps[k].indexed && *rest == '\0')
      return k;
    if (maps[k].indexed && *rest &&
        strspn(rest, "0123456789") == strlen(rest)) {
      *num = rest;
      return k;
    }
  }
  return N_MAPS;
}

static double scale(const char *unit) {
  if (strcmp(unit, "%") == 0)
    return 0.01;
  if (strcmp(unit, "MHz") == 0)
    return 1e6;
  return 1;
}

static void metrics(struct out *o, const struct gm_exporter_snapshot *s) {
  char dev[48];
  const char *num = "";
  for (size_t k = 0; k <= N_MAPS; k++) {
    bool begun = false;
    for (size_t i = 0; i < s->n_metrics; i++) {
      const struct gm_exporter_metric *m = &s->metrics[i];
      if (map_of(&m->info, dev, sizeof(dev), &num) != k || isnan(m->value))
        continue;
      if (k == N_MAPS) {
        if (!begun)
          family(o, GAUGE, "greenml_meter_metric", NULL,
                 "A metric of the meter without a family of its own, in "
                 "its own unit.");
        begun = true;
        struct label l[3] = {{"name", m->info.name},
                             {"unit", m->info.unit},
                             {"source", m->info.source}};
        sample(o, l, 3, m->value);
        continue;
      }
      const struct metric_map *mp = &maps[k];
      if (!begun)
        family(o, mp->kind, mp->family, mp->om_unit, mp->help);
      begun = true;
      double v = m->value * scale(mp->unit);
      if (!mp->label)
        sample0(o, v);
      else
        sample1(o, mp->label, strcmp(mp->label, "cpu") == 0 ? num : dev, v);
    }
  }
}

/* ---- the meter's and the exporter's own health -------------------------- */

static void health(struct out *o, const struct gm_exporter_snapshot *s) {
  family(o, GAUGE, "greenml_meter_elapsed_seconds", "seconds",
         "Time since the meter started, at its latest tick.");
  sample0(o, s->elapsed_s);
  if (s->interval_s > 0) {
    family(o, GAUGE, "greenml_meter_interval_seconds", "seconds",
           "The meter's sampling interval: values change once per "
           "interval.");
    sample0(o, s->interval_s);
  }
  family(o, COUNTER, "greenml_meter_missed_ticks", NULL,
         "Sampling deadlines the meter missed (it overran).");
  sample0(o, (double)s->missed_ticks);
  family(o, COUNTER, "greenml_meter_dropped_samples", NULL,
         "Samples dropped from storage because the writer fell behind "
         "(energy is never affected).");
  sample0(o, (double)s->dropped_samples);
  if (s->n_threads) {
    family(o, COUNTER, "greenml_meter_thread_cpu_seconds", "seconds",
           "CPU time used by each of the meter's threads.");
    for (size_t i = 0; i < s->n_threads && i < GM_EXPORTER_MAX_THREADS; i++)
      sample1(o, "thread", s->threads[i].name, s->threads[i].cpu_s);
  }
  family(o, COUNTER, "greenml_exporter_scrapes", NULL,
         "Requests for /metrics answered, before this one.");
  sample0(o, (double)s->scrapes);
  family(o, COUNTER, "greenml_exporter_scrape_failures", NULL,
         "Requests for /metrics that could not be answered (500).");
  sample0(o, (double)s->scrape_failures);
  if (!isnan(s->exporter_cpu_s)) {
    family(o, COUNTER, "greenml_exporter_cpu_seconds", "seconds",
           "CPU time used by the thread that serves HTTP.");
    sample0(o, s->exporter_cpu_s);
  }
  if (!isnan(s->process_cpu_s)) {
    family(o, COUNTER, "process_cpu_seconds", "seconds",
           "User and system CPU time of the whole process.");
    sample0(o, s->process_cpu_s);
  }
}

/* ---- runs and jobs --------------------------------------------------------
 */

/* What each run and job was charged, per component, labelled with how it
 * was attributed: never a measurement. */
static void subjects(struct out *o, const struct gm_exporter_snapshot *s) {
  if (!s->n_subjects)
    return;
  static const struct {
    const char *name, *unit, *help;
    size_t off;
  } fams[] = {
      {"greenml_attributed_energy_joules", "joules",
       "Energy of the component attributed to a measured run or a Slurm "
       "job since the exporter found it (gross: its share of each window's "
       "energy). The method label says how it was attributed.",
       offsetof(struct gm_attribution, energy_j)},
      {"greenml_attributed_share_seconds", "seconds",
       "Share x time attributed: the subject's part of an idle power P is "
       "P x this, so its active energy is the energy minus that.",
       offsetof(struct gm_attribution, share_s)},
      {"greenml_attributed_unknown_energy_joules", "joules",
       "Energy of the component in windows whose share for the subject "
       "was unknown (left out of the attributed energy).",
       offsetof(struct gm_attribution, unknown_j)},
  };
  struct label l[8];
  o->ts = s->tick_time_s;
  for (size_t k = 0; k < sizeof(fams) / sizeof(fams[0]); k++) {
    family(o, COUNTER, fams[k].name, fams[k].unit, fams[k].help);
    for (size_t i = 0; i < s->n_subjects; i++) {
      const struct gm_exporter_subject *x = &s->subjects[i];
      bool run = x->found.kind == GM_EXPORTER_RUN;
      for (size_t c = 0; c < s->n_components; c++) {
        const struct gm_component_info *ci = &s->components[c].info;
        double v;
        memcpy(&v, (const char *)&x->attr[c] + fams[k].off, sizeof(v));
        size_t n = 0;
        l[n++] = (struct label){"subject", run ? "run" : "job"};
        l[n++] = (struct label){run ? "run_pid" : "job_id", x->found.id};
        if (run) {
          l[n++] = (struct label){"command", x->found.command};
          l[n++] = (struct label){"tags", x->found.tags};
        }
        l[n++] = (struct label){"component", ci->name};
        l[n++] = (struct label){"kind", gm_kind_name(ci->kind)};
        l[n++] = (struct label){"in_total", ci->in_total ? "true" : "false"};
        l[n++] =
            (struct label){"method", gm_attrib_method_name(x->attr[c].method)};
        sample(o, l, n, v);
      }
    }
  }
  o->ts = NAN;
}

enum gm_status gm_exporter_render(const struct gm_exporter_snapshot *s,
                                  enum gm_exporter_format f, char **text,
                                  size_t *len) {
  if (text)
    *text = NULL;
  if (len)
    *len = 0;
  if (!s || !text || (f != GM_EXPORTER_TEXT && f != GM_EXPORTER_OPENMETRICS) ||
      (s->n_components && !s->components) || (s->n_missing && !s->missing) ||
      (s->n_metrics && !s->metrics) || (s->n_subjects && !s->subjects))
    return GM_ERR_INVALID_ARG;
  struct out o = {.f = f, .ts = NAN};
  family(&o, INFO, "greenml_build", NULL, "greenml's version.");
  sample1(&o, "version", s->version ? s->version : GM_VERSION_STRING, 1);
  components(&o, s);
  missing(&o, s);
  idle(&o, s);
  subjects(&o, s);
  metrics(&o, s);
  health(&o, s);
  if (f == GM_EXPORTER_OPENMETRICS)
    gm__buf_puts(&o.b, "# EOF\n");
  if (o.b.oom || !o.b.s) {
    free(o.b.s);
    return GM_ERR_NO_MEMORY;
  }
  *text = o.b.s;
  if (len)
    *len = o.b.len;
  return GM_OK;
}

/* ---- content negotiation ------------------------------------------------ */

/* The q of the first media range of accept that is type (with a version
 * parameter absent or equal to version); -1 when none is. */
static double accept_q(const char *accept, const char *type,
                       const char *version) {
  const char *p = accept;
  while (*p) {
    size_t n = strcspn(p, ",");
    char range[256];
    size_t m = n < sizeof(range) - 1 ? n : sizeof(range) - 1;
    memcpy(range, p, m);
    range[m] = '\0';
    p += n;
    if (*p == ',')
      p++;
    /* the media type, then ;name=value parameters */
    char *save = NULL, *tok = strtok_r(range, ";", &save);
    if (!tok)
      continue;
    tok += strspn(tok, " \t");
    size_t tl = strcspn(tok, " \t");
    if (tl != strlen(type) || strncasecmp(tok, type, tl) != 0)
      continue;
    double q = 1;
    bool version_ok = true;
    while ((tok = strtok_r(NULL, ";", &save))) {
      tok += strspn(tok, " \t");
      char *eq = strchr(tok, '=');
      if (!eq)
        continue;
      size_t kl = (size_t)(eq - tok);
      while (kl && (tok[kl - 1] == ' ' || tok[kl - 1] == '\t'))
        kl--;
      char *val = eq + 1 + strspn(eq + 1, " \t\"");
      size_t vl = strcspn(val, " \t\"");
      if (kl == 1 && (tok[0] == 'q' || tok[0] == 'Q')) {
        char num[16];
        size_t cl = vl < sizeof(num) - 1 ? vl : sizeof(num) - 1;
        memcpy(num, val, cl);
        num[cl] = '\0';
        char *end;
        double x = strtod(num, &end);
        q = end != num && x >= 0 && x <= 1 ? x : 0;
      } else if (kl == 7 && strncasecmp(tok, "version", 7) == 0) {
        version_ok = vl == strlen(version) && strncmp(val, version, vl) == 0;
      }
    }
    if (version_ok)
      return q;
  }
  return -1;
}

enum gm_exporter_format gm_exporter_negotiate(const char *accept) {
  if (!accept || !*accept)
    return GM_EXPORTER_TEXT;
  double om = accept_q(accept, "application/openmetrics-text", "1.0.0");
  double text = accept_q(accept, "text/plain", "0.0.4");
  return om > 0 && om >= text ? GM_EXPORTER_OPENMETRICS : GM_EXPORTER_TEXT;
}

const char *gm_exporter_content_type(enum gm_exporter_format f) {
  return f == GM_EXPORTER_OPENMETRICS
             ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
             : "text/plain; version=0.0.4; charset=utf-8";
}

/* test_exporter.c: libgreenml-exporter on a fake machine whose power is
 * known: the DRAM model's 6 W (16 GiB, no DIMM data) and a pre-Volta GPU of
 * the fake NVML at a constant 250 W (power sensor). The rendering is
 * checked line by line in both formats, with hostile label values; a GPU
 * lost during the run; the idle baseline; then the HTTP server on an
 * ephemeral port of 127.0.0.1: routes, methods, HEAD, content negotiation,
 * malformed requests, an address in use. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "greenml/energy.h"
#include "greenml/exporter.h"
#include "greenml/host.h"
#include "greenml/store.h"
#include "helpers.h"

#define DRAM_W 6.0
#define GPU_W 250.0

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
  nanosleep(&ts, NULL);
}

/* A fake machine under root/sub: one CPU whose /proc/stat never moves, 16
 * GiB; NVML from the fake library with script (NULL: --no-gpu). */
struct machine {
  char *root;
  char sys[1024], proc[1024], dev[1024];
};

static void machine_make(struct machine *mc, const char *sub,
                         const char *meminfo, const char *script) {
  mc->root = gmt_mkdtemp();
  char rel[512];
  snprintf(rel, sizeof(rel), "%s/proc/stat", sub);
  gmt_write(mc->root, rel,
            "cpu  100 0 100 800 0 0 0 0 0 0\n"
            "cpu0 100 0 100 800 0 0 0 0 0 0\nintr 1 2 3\n");
  snprintf(rel, sizeof(rel), "%s/proc/meminfo", sub);
  gmt_write(mc->root, rel, "%s",
            meminfo ? meminfo
                    : "MemTotal:       16777216 kB\n"
                      "MemAvailable:    8388608 kB\n");
  snprintf(rel, sizeof(rel), "%s/proc/cpuinfo", sub);
  gmt_write(mc->root, rel, "processor\t: 0\nmodel name\t: Test CPU\n");
  snprintf(rel, sizeof(rel), "%s/sys", sub);
  gmt_mkdirs(mc->root, rel);
  snprintf(rel, sizeof(rel), "%s/dev", sub);
  gmt_mkdirs(mc->root, rel);
  snprintf(mc->sys, sizeof(mc->sys), "%s/%s/sys", mc->root, sub);
  snprintf(mc->proc, sizeof(mc->proc), "%s/%s/proc", mc->root, sub);
  snprintf(mc->dev, sizeof(mc->dev), "%s/%s/dev", mc->root, sub);
  if (script) {
    gmt_write(mc->root, "nvml.script", "%s", script);
    char *path = gmt_path(mc->root, "nvml.script");
    gmt_setenv("GREENML_FAKE_NVML_SCRIPT", path);
    free(path);
  }
}

static void machine_free(struct machine *mc) {
  unsetenv("GREENML_FAKE_NVML_SCRIPT");
  gmt_rmtree(mc->root);
  free(mc->root);
}

static struct gm_meter *meter_on(const struct machine *mc, bool gpu) {
  struct gm_meter_config c = gm_meter_config_default();
  c.sysfs_root = mc->sys;
  c.procfs_root = mc->proc;
  c.devfs_root = mc->dev;
  c.nvml_lib = GM_TEST_FAKE_NVML;
  c.no_gpu = !gpu;
  c.interval_ns = 10 * 1000000;
  struct gm_meter *m = NULL;
  assert_int_equal(gm_meter_create(&c, &m), GM_OK);
  return m;
}

static char *render(const struct gm_exporter_snapshot *s,
                    enum gm_exporter_format f) {
  char *text = NULL;
  size_t len = 0;
  assert_int_equal(gm_exporter_render(s, f, &text, &len), GM_OK);
  assert_non_null(text);
  assert_int_equal(strlen(text), len);
  return text;
}

/* The whole line that starts with prefix, or fails. */
static const char *line_of(const char *text, const char *prefix) {
  size_t n = strlen(prefix);
  for (const char *p = text; p && *p;
       p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
    if (strncmp(p, prefix, n) == 0)
      return p;
  fail_msg("no line starting with '%s' in:\n%s", prefix, text);
  return NULL;
}

static bool has_line(const char *text, const char *line) {
  size_t n = strlen(line);
  for (const char *p = text; p && *p;
       p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
    if (strncmp(p, line, n) == 0 && (p[n] == '\n' || p[n] == '\0'))
      return true;
  return false;
}

/* Fails naming the line and, when there is one, the line of the same
 * series (text up to the value). */
static void check_line(const char *text, const char *line, int at) {
  if (has_line(text, line))
    return;
  const char *sp = strrchr(line, ' ');
  size_t n = sp ? (size_t)(sp - line) + 1 : strlen(line);
  for (const char *p = text; p && *p;
       p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
    if (strncmp(p, line, n) == 0)
      fail_msg("line %d: want '%s', have '%.*s'", at, line,
               (int)strcspn(p, "\n"), p);
  fail_msg("line %d: no line '%s' (%zu bytes of text)", at, line, strlen(text));
}
#define assert_line(text, line) check_line((text), (line), __LINE__)

/* The value of the sample whose name and labels are series ("name{...}"). */
static double value_of(const char *text, const char *series) {
  char prefix[1024];
  snprintf(prefix, sizeof(prefix), "%s ", series);
  const char *l = line_of(text, prefix);
  return strtod(l + strlen(prefix), NULL);
}

/* Checks the exposition's shape: every line a comment or a sample; every
 * sample's family declared by a TYPE line before it; the samples of a
 * family together; no family declared twice; OpenMetrics: "# EOF" last. */
static void check_shape(const char *text, enum gm_exporter_format f) {
  bool om = f == GM_EXPORTER_OPENMETRICS;
  char families[200][96];
  size_t nf = 0;
  char current[96] = "";
  const char *p = text;
  assert_true(text[0] != '\0' && text[strlen(text) - 1] == '\n');
  while (*p) {
    const char *nl = strchr(p, '\n');
    assert_non_null(nl);
    size_t len = (size_t)(nl - p);
    char line[4096];
    assert_true(len < sizeof(line));
    memcpy(line, p, len);
    line[len] = '\0';
    p = nl + 1;
    if (om && strcmp(line, "# EOF") == 0) {
      assert_true(*p == '\0'); /* last */
      return;
    }
    char name[96], type[16];
    if (sscanf(line, "# TYPE %95s %15s", name, type) == 2) {
      for (size_t i = 0; i < nf; i++)
        if (strcmp(families[i], name) == 0)
          fail_msg("family %s declared twice", name);
      assert_true(nf < 200);
      snprintf(families[nf++], sizeof(families[0]), "%s", name);
      snprintf(current, sizeof(current), "%s", name);
      continue;
    }
    if (line[0] == '#') {
      assert_true(strncmp(line, "# HELP ", 7) == 0 ||
                  (om && strncmp(line, "# UNIT ", 7) == 0));
      continue;
    }
    /* a sample: NAME[{labels}] VALUE */
    size_t nl_name = strspn(
        line,
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_:");
    assert_true(nl_name > 0);
    char sname[96];
    assert_true(nl_name < sizeof(sname));
    memcpy(sname, line, nl_name);
    sname[nl_name] = '\0';
    size_t cl = strlen(current);
    bool ok = strcmp(sname, current) == 0 ||
              (om && strncmp(sname, current, cl) == 0 &&
               (strcmp(sname + cl, "_total") == 0 ||
                strcmp(sname + cl, "_info") == 0));
    if (!ok)
      fail_msg("sample %s outside its family (current %s)", sname, current);
    const char *v = line + nl_name;
    if (*v == '{') {
      /* labels: name="value" with \\ \" \n escapes only */
      v++;
      while (*v != '}') {
        v += strspn(v, "abcdefghijklmnopqrstuvwxyz_");
        assert_true(v[0] == '=' && v[1] == '"');
        v += 2;
        while (*v != '"') {
          assert_true(*v != '\0' && *v != '\n');
          if (*v == '\\') {
            assert_true(v[1] == '\\' || v[1] == '"' || v[1] == 'n');
            v++;
          }
          v++;
        }
        v++;
        if (*v == ',')
          v++;
      }
      v++;
    }
    assert_true(*v == ' ');
    char *end;
    strtod(v + 1, &end);
    assert_true(end != v + 1);
    if (*end == ' ') { /* a timestamp: ms (text) or s (OpenMetrics) */
      const char *ts = end + 1;
      strtod(ts, &end);
      assert_true(end != ts);
      if (!om)
        assert_null(strchr(ts, '.'));
    }
    assert_true(*end == '\0');
  }
  assert_false(om); /* OpenMetrics must have ended with # EOF */
}

#define GPU_LABELS                                                             \
  "{component=\"gpu0\",kind=\"gpu\",domain=\"gpu\",source=\"nvml\","           \
  "provenance=\"measured\",signal=\"power sensor\",in_total=\"true\"}"
#define DRAM_LABELS                                                            \
  "{component=\"dram\",kind=\"dram\",domain=\"dram\",source=\"dram-model\","   \
  "provenance=\"modelled\",signal=\"model\",in_total=\"true\"}"

static const char gpu_script[] =
    "gpu name=\"Tesla P100-PCIE-16GB\" arch=4 power_mw=250000 util=10 "
    "mem_util=5 temp=40 sm_clock=1328 vram_total=17179869184 "
    "vram_used=1073741824 power_limit_mw=250000\n";

/* ---- rendering ----------------------------------------------------------- */

static void renders_known_power_exactly(void **state) {
  (void)state;
  struct machine mc;
  machine_make(&mc, "m", NULL, gpu_script);
  struct gm_meter *m = meter_on(&mc, true);
  assert_int_equal(gm_meter_start(m), GM_OK);
  sleep_ms(150);
  struct gm_exporter_snapshot s;
  assert_int_equal(gm_exporter_snapshot_take(m, NULL, &s), GM_OK);
  s.interval_s = 0.01;
  s.scrapes = 41;
  s.scrape_failures = 2;
  s.exporter_cpu_s = 0.5;
  char *t = render(&s, GM_EXPORTER_TEXT);
  check_shape(t, GM_EXPORTER_TEXT);

  assert_line(t, "# HELP greenml_build_info greenml's version.");
  assert_line(t, "# TYPE greenml_build_info gauge");
  assert_line(t, "greenml_build_info{version=\"" GM_VERSION_STRING "\"} 1");
  assert_line(t, "# TYPE greenml_energy_joules_total counter");
  assert_line(t, "# TYPE greenml_power_watts gauge");
  /* the power of the latest interval: the fake's */
  double pg = value_of(t, "greenml_power_watts" GPU_LABELS);
  assert_double_equal(pg, GPU_W, 1e-9);
  assert_double_equal(value_of(t, "greenml_power_watts" DRAM_LABELS), DRAM_W,
                      1e-9);
  /* energy: the meter's own figure, printed so that it reads back exactly,
   * and P x t on a constant power */
  size_t gpu = SIZE_MAX, dram = SIZE_MAX;
  for (size_t i = 0; i < s.n_components; i++) {
    if (!strcmp(s.components[i].info.name, "gpu0"))
      gpu = i;
    if (!strcmp(s.components[i].info.name, "dram"))
      dram = i;
  }
  assert_true(gpu != SIZE_MAX && dram != SIZE_MAX);
  assert_true(pg == s.components[gpu].power_w); /* read back exactly */
  assert_true(s.elapsed_s > 0.05);
  double eg = value_of(t, "greenml_energy_joules_total" GPU_LABELS);
  assert_true(eg == s.components[gpu].energy_j);
  /* stamped with the tick's time (ms), not the scrape's; health is not */
  assert_true(isfinite(s.tick_time_s) && s.tick_time_s > 1.6e9);
  {
    const char *l = line_of(t, "greenml_energy_joules_total" GPU_LABELS " ");
    const char *sp = strchr(strchr(l, '}') + 2, ' ');
    assert_non_null(sp);
    assert_true(sp < strchr(l, '\n'));
    assert_int_equal(strtoll(sp + 1, NULL, 10),
                     llround(s.tick_time_s * 1000.0));
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    assert_true(s.tick_time_s <= (double)now.tv_sec + 1.0);
  }
  assert_line(t, "greenml_total_partial 0");
  assert_double_equal(eg, GPU_W * s.elapsed_s, 1e-6);
  double ed = value_of(t, "greenml_energy_joules_total" DRAM_LABELS);
  assert_true(ed == s.components[dram].energy_j);
  assert_double_equal(ed, DRAM_W * s.elapsed_s, 1e-9);
  /* health */
  assert_line(t, "greenml_component_lost{component=\"gpu0\"} 0");
  assert_line(t, "greenml_component_energy_stopped{component=\"gpu0\"} 0");
  assert_line(t, "greenml_component_read_errors_total{component=\"gpu0\"} 0");
  assert_line(t, "greenml_component_glitches_total{component=\"dram\"} 0");
  assert_line(t, "greenml_component_wraps_total{component=\"gpu0\"} 0");
  assert_line(t, "greenml_component_resets_total{component=\"gpu0\"} 0");
  assert_line(t, "greenml_total_partial 0");
  /* metrics in base units */
  assert_line(t, "greenml_memory_total_bytes 17179869184");
  assert_line(t, "greenml_memory_used_bytes 8589934592");
  assert_line(t, "greenml_gpu_utilisation_ratio{component=\"gpu0\"} 0.1");
  assert_line(t,
              "greenml_gpu_memory_utilisation_ratio{component=\"gpu0\"} 0.05");
  assert_line(t, "greenml_gpu_temperature_celsius{component=\"gpu0\"} 40");
  assert_line(t, "greenml_gpu_sm_clock_hertz{component=\"gpu0\"} 1328000000");
  assert_line(t,
              "greenml_gpu_memory_total_bytes{component=\"gpu0\"} 17179869184");
  assert_line(t,
              "greenml_gpu_memory_used_bytes{component=\"gpu0\"} 1073741824");
  assert_line(t, "greenml_gpu_power_limit_watts{component=\"gpu0\"} 250");
  /* /proc/stat never moves: utilisation unknown, left out rather than 0 */
  assert_null(strstr(t, "greenml_cpu_utilisation_ratio "));
  /* the meter's and the exporter's health */
  assert_line(t, "greenml_meter_interval_seconds 0.01");
  assert_line(t, "greenml_exporter_scrapes_total 41");
  assert_line(t, "greenml_exporter_scrape_failures_total 2");
  assert_line(t, "greenml_exporter_cpu_seconds_total 0.5");
  assert_line(t, "# TYPE greenml_meter_missed_ticks_total counter");
  assert_line(t, "# TYPE greenml_meter_dropped_samples_total counter");
  assert_non_null(strstr(t, "greenml_meter_thread_cpu_seconds_total{thread=\""
                            "gm-sampler\"} "));
  assert_non_null(strstr(t, "\nprocess_cpu_seconds_total "));
  /* no baseline: no idle families; nothing missing */
  assert_null(strstr(t, "greenml_idle_"));
  assert_null(strstr(t, "greenml_source_missing"));
  /* no OpenMetrics syntax in the text format */
  assert_null(strstr(t, "# EOF"));
  assert_null(strstr(t, "# UNIT"));
  free(t);

  /* OpenMetrics: the same samples, families named without _total, units,
   * info type, quotes escaped in HELP, # EOF */
  char *o = render(&s, GM_EXPORTER_OPENMETRICS);
  check_shape(o, GM_EXPORTER_OPENMETRICS);
  assert_line(o, "# TYPE greenml_build info");
  assert_line(o, "greenml_build_info{version=\"" GM_VERSION_STRING "\"} 1");
  assert_line(o, "# TYPE greenml_energy_joules counter");
  assert_line(o, "# UNIT greenml_energy_joules joules");
  assert_line(o, "# TYPE greenml_power_watts gauge");
  assert_line(o, "# UNIT greenml_power_watts watts");
  assert_line(o, "# UNIT greenml_gpu_temperature_celsius celsius");
  assert_line(o, "# UNIT greenml_gpu_sm_clock_hertz hertz");
  assert_line(o, "# UNIT greenml_memory_total_bytes bytes");
  assert_line(o, "# TYPE greenml_component_read_errors counter");
  assert_true(value_of(o, "greenml_power_watts" GPU_LABELS) == pg);
  assert_true(value_of(o, "greenml_energy_joules_total" GPU_LABELS) == eg);
  assert_non_null(strstr(o, "in_total=\\\"true\\\" only."));
  assert_null(strstr(o, "greenml_energy_joules_total counter"));
  size_t ol = strlen(o);
  assert_true(ol > 6 && strcmp(o + ol - 6, "# EOF\n") == 0);
  free(o);

  gm_exporter_snapshot_release(&s);
  assert_null(s.components);
  gm_exporter_snapshot_release(NULL);
  assert_int_equal(gm_meter_stop(m), GM_OK);
  gm_meter_destroy(m);
  machine_free(&mc);
}

/* Label values from the outside world (a reason, a path, a name) are
 * escaped; invalid UTF-8 and control characters become U+FFFD; HELP text
 * keeps quotes in the text format and escapes them in OpenMetrics. */
static void hostile_label_values_are_escaped(void **state) {
  (void)state;
  struct gm_exporter_component c = {0};
  snprintf(c.info.name, sizeof(c.info.name), "we\"ird\\na\nme");
  snprintf(c.info.source, sizeof(c.info.source), "src");
  c.info.kind = GM_KIND_GPU;
  c.info.domain = GM_DOMAIN_GPU;
  c.info.provenance = GM_PROV_MODELLED;
  c.info.in_total = false;
  c.energy_j = 1.5;
  c.power_w = 0.25;
  c.idle_w = NAN;
  struct gm_missing x = {.kind = GM_KIND_GPU, .in_total = true};
  snprintf(x.name, sizeof(x.name), "gpu1");
  snprintf(x.source, sizeof(x.source), "nvml");
  snprintf(x.reason, sizeof(x.reason),
           "a \"quoted\" back\\slash\nnew line\r\x01 tab\t bad \xff\xc3 "
           "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x8b \xed\xa0\x80 end");
  struct gm_exporter_metric mt = {.value = 3};
  snprintf(mt.info.name, sizeof(mt.info.name), "fan\".speed");
  snprintf(mt.info.unit, sizeof(mt.info.unit), "rpm");
  snprintf(mt.info.source, sizeof(mt.info.source), "x\ny");
  struct gm_exporter_snapshot s = {.n_components = 1,
                                   .components = &c,
                                   .n_missing = 1,
                                   .missing = &x,
                                   .n_metrics = 1,
                                   .metrics = &mt,
                                   .elapsed_s = 12,
                                   .process_cpu_s = NAN,
                                   .exporter_cpu_s = NAN,
                                   .version = "9.9\"x"};
  const char *want_missing =
      "greenml_source_missing{name=\"gpu1\",source=\"nvml\",kind=\"gpu\","
      "in_total=\"true\",reason=\"a \\\"quoted\\\" back\\\\slash\\nnew "
      "line\xef\xbf\xbd\xef\xbf\xbd tab\t bad \xef\xbf\xbd\xef\xbf\xbd "
      "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x8b "
      "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd end\"} 1";
  const char *want_energy =
      "greenml_energy_joules_total{component=\"we\\\"ird\\\\na\\nme\","
      "kind=\"gpu\",domain=\"gpu\",source=\"src\",provenance=\"modelled\","
      "signal=\"model\",in_total=\"false\"} 1.5";
  for (int f = 0; f < 2; f++) {
    char *t = render(&s, (enum gm_exporter_format)f);
    check_shape(t, (enum gm_exporter_format)f);
    assert_line(t, want_missing);
    assert_line(t, "greenml_build_info{version=\"9.9\\\"x\"} 1");
    assert_line(t, "greenml_total_partial 1");
    assert_line(t, "greenml_meter_metric{name=\"fan\\\".speed\",unit=\"rpm\","
                   "source=\"x\\ny\"} 3");
    if (f == GM_EXPORTER_TEXT) {
      assert_line(t, want_energy);
      /* the text format's HELP escapes backslash and newline only */
      assert_non_null(strstr(t, "in_total=\"false\" (RAPL"));
    } else {
      assert_non_null(strstr(t, "in_total=\\\"false\\\" (RAPL"));
    }
    assert_null(strstr(t, "process_cpu_seconds"));
    free(t);
  }
  /* bad arguments */
  char *t = NULL;
  assert_int_equal(gm_exporter_render(NULL, GM_EXPORTER_TEXT, &t, NULL),
                   GM_ERR_INVALID_ARG);
  assert_int_equal(gm_exporter_render(&s, (enum gm_exporter_format)7, &t, NULL),
                   GM_ERR_INVALID_ARG);
  s.components = NULL;
  assert_int_equal(gm_exporter_render(&s, GM_EXPORTER_TEXT, &t, NULL),
                   GM_ERR_INVALID_ARG);
  assert_null(t);
}

/* A hostile path end to end: the fake root's name holds a quote, a
 * backslash and a newline, and a malformed MemTotal makes the DRAM model
 * unusable with a reason that names the path. */
static void hostile_reason_from_the_meter(void **state) {
  (void)state;
  struct machine mc;
  machine_make(&mc, "we\"ird\\dir\nname",
               "MemTotal:       -16000000 kB\nMemAvailable:   10 kB\n", NULL);
  struct gm_meter *m = meter_on(&mc, false);
  assert_true(gm_meter_missing_count(m) >= 1);
  assert_int_equal(gm_meter_start(m), GM_OK);
  struct gm_exporter_snapshot s;
  assert_int_equal(gm_exporter_snapshot_take(m, NULL, &s), GM_OK);
  char *t = render(&s, GM_EXPORTER_TEXT);
  check_shape(t, GM_EXPORTER_TEXT);
  const char *l = line_of(t, "greenml_source_missing{name=\"dram\"");
  assert_non_null(strstr(l, "we\\\"ird\\\\dir\\nname/proc/meminfo"));
  assert_line(t, "greenml_total_partial 1");
  free(t);
  gm_exporter_snapshot_release(&s);
  gm_meter_stop(m);
  gm_meter_destroy(m);
  machine_free(&mc);
}

/* A GPU lost during the run: lost = 1, the total partial, and its energy
 * counter stops but never decreases. */
static void lost_gpu_counter_stops(void **state) {
  (void)state;
  struct machine mc;
  machine_make(&mc, "m", NULL,
               "gpu name=\"Tesla P100-PCIE-16GB\" arch=4 power_mw=250000\n"
               "lost_after 0 = 8\n");
  struct gm_meter *m = meter_on(&mc, true);
  assert_int_equal(gm_meter_start(m), GM_OK);
  double last = -1, at_loss = NAN;
  int lost_seen = 0;
  /* until 10 snapshots after the loss (at most 5 s: slow under TSan) */
  for (int k = 0; k < 500 && lost_seen < 10; k++) {
    struct gm_exporter_snapshot s;
    assert_int_equal(gm_exporter_snapshot_take(m, NULL, &s), GM_OK);
    char *t = render(&s, GM_EXPORTER_TEXT);
    gm_exporter_snapshot_release(&s);
    double e = value_of(t, "greenml_energy_joules_total" GPU_LABELS);
    assert_true(e >= last);
    last = e;
    double lost = value_of(t, "greenml_component_lost{component=\"gpu0\"}");
    if (lost == 1) {
      assert_line(t, "greenml_total_partial 1");
      if (!lost_seen++)
        at_loss = e;
      else
        assert_true(e == at_loss); /* stopped */
    } else {
      assert_true(lost == 0);
      assert_line(t, "greenml_total_partial 0");
    }
    free(t);
    sleep_ms(10);
  }
  assert_true(lost_seen >= 10);
  assert_true(at_loss > 0);
  gm_meter_stop(m);
  gm_meter_destroy(m);
  machine_free(&mc);
}

/* The baseline: shown for the components it applies to (same name, source
 * and detail), and why not for the others; loaded from a store as measure
 * loads it; none without a database, which is not created. */
static void idle_baseline(void **state) {
  (void)state;
  struct machine mc;
  machine_make(&mc, "m", NULL, gpu_script);
  struct gm_meter *m = meter_on(&mc, true);
  size_t dram = SIZE_MAX;
  for (size_t i = 0; i < gm_meter_component_count(m); i++)
    if (!strcmp(gm_meter_component(m, i)->name, "dram"))
      dram = i;
  assert_true(dram != SIZE_MAX);
  struct gm_idle_entry entries[2] = {0};
  snprintf(entries[0].name, sizeof(entries[0].name), "dram");
  snprintf(entries[0].source, sizeof(entries[0].source), "dram-model");
  snprintf(entries[0].detail, sizeof(entries[0].detail), "%s",
           gm_meter_component(m, dram)->detail);
  entries[0].mean_power_w = 2.5;
  entries[0].sd_power_w = 0.1;
  entries[0].n_intervals = 100;
  snprintf(entries[1].name, sizeof(entries[1].name), "gpu0");
  snprintf(entries[1].source, sizeof(entries[1].source), "nvml");
  snprintf(entries[1].detail, sizeof(entries[1].detail), "another GPU");
  entries[1].mean_power_w = 40;
  entries[1].n_intervals = 100;
  struct gm_idle_baseline b = {.id = 7,
                               .duration_s = 30,
                               .n = 2,
                               .entries = entries,
                               .interval_s = 0.1,
                               .cpu_util_pct = 1};
  snprintf(b.measured_at, sizeof(b.measured_at), "2024-05-01T12:00:00Z");
  assert_int_equal(gm_meter_start(m), GM_OK);
  struct gm_exporter_snapshot s;
  assert_int_equal(gm_exporter_snapshot_take(m, &b, &s), GM_OK);
  char *t = render(&s, GM_EXPORTER_TEXT);
  check_shape(t, GM_EXPORTER_TEXT);
  assert_line(t, "greenml_idle_power_watts{component=\"dram\",source=\"dram-"
                 "model\",baseline=\"7\"} 2.5");
  assert_null(strstr(t, "greenml_idle_power_watts{component=\"gpu0\""));
  const char *l = line_of(
      t, "greenml_idle_baseline_unmatched{component=\"gpu0\",baseline=\"7\","
         "reason=\"");
  assert_non_null(strstr(l, "another GPU"));
  /* the CPU model has no entry in this baseline */
  line_of(t, "greenml_idle_baseline_unmatched{component=\"cpu\"");
  assert_line(t, "greenml_idle_baseline_timestamp_seconds{baseline=\"7\"} "
                 "1714564800");
  assert_line(t, "greenml_idle_baseline_duration_seconds{baseline=\"7\"} 30");
  free(t);
  gm_exporter_snapshot_release(&s);

  /* from a store: the newest baseline of this host */
  char *db = gmt_path(mc.root, "greenml.db");
  struct gm_idle_baseline *got = NULL;
  char note[512];
  assert_int_equal(gm_exporter_load_baseline(m, db, &got, note, sizeof(note)),
                   GM_ERR_NOT_FOUND);
  assert_null(got);
  assert_non_null(strstr(note, "no database at"));
  assert_int_equal(access(db, F_OK), -1); /* not created */
  struct gm_store *st = NULL;
  assert_int_equal(gm_store_open(db, &st, NULL, 0), GM_OK);
  struct gm_host h;
  int64_t host_id = 0, id = 0;
  assert_int_equal(gm_host_detect(m, &h), GM_OK);
  assert_int_equal(gm_store_put_host(st, &h, &host_id), GM_OK);
  gm_store_close(st);
  assert_int_equal(gm_exporter_load_baseline(m, db, &got, note, sizeof(note)),
                   GM_ERR_NOT_FOUND);
  assert_non_null(strstr(note, "no idle baseline for this host"));
  assert_int_equal(gm_store_open(db, &st, NULL, 0), GM_OK);
  assert_int_equal(gm_store_save_idle(st, host_id, 0, &b, &id), GM_OK);
  gm_store_close(st);
  assert_int_equal(gm_exporter_load_baseline(m, db, &got, note, sizeof(note)),
                   GM_OK);
  assert_non_null(got);
  assert_int_equal(got->id, id);
  assert_int_equal(got->n, 2);
  assert_int_equal(gm_exporter_snapshot_take(m, got, &s), GM_OK);
  assert_double_equal(s.components[dram].idle_w, 2.5, 0);
  gm_exporter_snapshot_release(&s);
  gm_idle_baseline_free(got);
  free(db);
  gm_meter_stop(m);
  gm_meter_destroy(m);
  machine_free(&mc);
}

static void negotiation_and_addresses(void **state) {
  (void)state;
  static const struct {
    const char *accept;
    enum gm_exporter_format f;
  } cases[] = {
      {NULL, GM_EXPORTER_TEXT},
      {"", GM_EXPORTER_TEXT},
      {"*/*", GM_EXPORTER_TEXT},
      {"text/plain", GM_EXPORTER_TEXT},
      {"application/openmetrics-text", GM_EXPORTER_OPENMETRICS},
      /* what Prometheus 2.x sends */
      {"application/openmetrics-text;version=1.0.0,application/"
       "openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,"
       "*/*;q=0.1",
       GM_EXPORTER_OPENMETRICS},
      {"application/openmetrics-text; version=0.0.1,text/plain;q=0.5",
       GM_EXPORTER_TEXT},
      {"text/plain;version=0.0.4;q=1, application/openmetrics-text;q=0.5",
       GM_EXPORTER_TEXT},
      {"application/openmetrics-text;q=0", GM_EXPORTER_TEXT},
      {"APPLICATION/OpenMetrics-Text ; Version=\"1.0.0\"",
       GM_EXPORTER_OPENMETRICS},
      {";;;,,,=q", GM_EXPORTER_TEXT},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
    if (gm_exporter_negotiate(cases[i].accept) != cases[i].f)
      fail_msg("Accept '%s': format %d", cases[i].accept ? cases[i].accept : "",
               (int)gm_exporter_negotiate(cases[i].accept));
  assert_string_equal(gm_exporter_content_type(GM_EXPORTER_TEXT),
                      "text/plain; version=0.0.4; charset=utf-8");
  assert_string_equal(
      gm_exporter_content_type(GM_EXPORTER_OPENMETRICS),
      "application/openmetrics-text; version=1.0.0; charset=utf-8");

  static const char *const good[] = {"127.0.0.1:9464", "[::1]:0", ":80",
                                     "localhost:65535", "0.0.0.0:1"};
  static const char *const bad[] = {
      "",         "127.0.0.1", "127.0.0.1:",   "127.0.0.1:65536",
      "::1:9464", "[::1]9464", "[]:1",         "host:-1",
      "host:9x",  "[::1",      "127.0.0.1:+80"};
  char err[256];
  for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
    if (gm_exporter_listen_check(good[i], err, sizeof(err)) != GM_OK)
      fail_msg("'%s' refused: %s", good[i], err);
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    if (gm_exporter_listen_check(bad[i], err, sizeof(err)) !=
        GM_ERR_INVALID_ARG)
      fail_msg("'%s' accepted", bad[i]);
    assert_true(err[0] != '\0');
  }
  assert_int_equal(gm_exporter_listen_check(NULL, NULL, 0), GM_ERR_INVALID_ARG);
}

/* ---- the server -----------------------------------------------------------
 */

struct response {
  int status;
  char head[4096]; /* status line and headers */
  char *body;
  size_t body_len;
};

static int connect_to(unsigned port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  assert_true(fd >= 0);
  struct timeval tv = {10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
  return fd;
}

static void send_all(int fd, const char *s, size_t n) {
  while (n) {
    ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
    if (w <= 0)
      return; /* the server may close early: that is an answer too */
    s += w;
    n -= (size_t)w;
  }
}

/* Sends raw bytes and reads the answer until the server closes; status -1
 * when it closed without a status line. */
static void exchange(unsigned port, const char *req, size_t req_len,
                     struct response *r) {
  memset(r, 0, sizeof(*r));
  r->status = -1;
  int fd = connect_to(port);
  send_all(fd, req, req_len);
  size_t cap = 1 << 16, len = 0;
  char *buf = malloc(cap);
  assert_non_null(buf);
  for (;;) {
    if (len + 1 >= cap) {
      cap *= 2;
      buf = realloc(buf, cap);
      assert_non_null(buf);
    }
    ssize_t n = recv(fd, buf + len, cap - len - 1, 0);
    if (n <= 0)
      break;
    len += (size_t)n;
  }
  close(fd);
  buf[len] = '\0';
  char *sep = strstr(buf, "\r\n\r\n");
  if (sep && sscanf(buf, "HTTP/1.%*d %d", &r->status) == 1) {
    size_t hl = (size_t)(sep - buf);
    snprintf(r->head, sizeof(r->head), "%.*s", (int)hl, buf);
    r->body_len = len - hl - 4;
    r->body = malloc(r->body_len + 1);
    assert_non_null(r->body);
    memcpy(r->body, sep + 4, r->body_len);
    r->body[r->body_len] = '\0';
  }
  free(buf);
}

static void request(unsigned port, const char *method, const char *path,
                    const char *extra, struct response *r) {
  char req[1024];
  snprintf(req, sizeof(req),
           "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%sConnection: close\r\n\r\n",
           method, path, extra ? extra : "");
  exchange(port, req, strlen(req), r);
}

static bool has_header(const struct response *r, const char *header) {
  char want[512];
  snprintf(want, sizeof(want), "\r\n%s\r\n", header);
  char head[4200];
  snprintf(head, sizeof(head), "%s\r\n", r->head);
  return strcasestr(head, want) != NULL;
}

static void serves_http(void **state) {
  (void)state;
  struct machine mc;
  machine_make(&mc, "m", NULL, gpu_script);
  struct gm_meter *m = meter_on(&mc, true);
  assert_int_equal(gm_meter_start(m), GM_OK);
  struct gm_exporter_config cfg = gm_exporter_config_default();
  cfg.listen = "127.0.0.1:0";
  cfg.interval_s = 0.01;
  cfg.timeout_s = 1;
  struct gm_exporter *e = NULL;
  char err[512];
  assert_int_equal(gm_exporter_start(m, &cfg, &e, err, sizeof(err)), GM_OK);
  unsigned port = gm_exporter_port(e);
  assert_true(port > 0);
  char addr[64];
  snprintf(addr, sizeof(addr), "127.0.0.1:%u", port);
  assert_string_equal(gm_exporter_address(e), addr);
  sleep_ms(50);

  struct response r;
  request(port, "GET", "/metrics", NULL, &r);
  assert_int_equal(r.status, 200);
  assert_true(
      has_header(&r, "Content-Type: text/plain; version=0.0.4; charset=utf-8"));
  check_shape(r.body, GM_EXPORTER_TEXT);
  assert_double_equal(value_of(r.body, "greenml_power_watts" GPU_LABELS), GPU_W,
                      1e-9);
  assert_line(r.body, "greenml_exporter_scrapes_total 0");
  assert_line(r.body, "greenml_meter_interval_seconds 0.01");
  free(r.body);

  request(port, "GET", "/metrics",
          "Accept: application/openmetrics-text;version=1.0.0,text/plain;"
          "version=0.0.4;q=0.5\r\n",
          &r);
  assert_int_equal(r.status, 200);
  assert_true(has_header(&r, "Content-Type: application/openmetrics-text; "
                             "version=1.0.0; charset=utf-8"));
  check_shape(r.body, GM_EXPORTER_OPENMETRICS);
  assert_line(r.body, "greenml_exporter_scrapes_total 1");
  free(r.body);

  request(port, "HEAD", "/metrics", NULL, &r);
  assert_int_equal(r.status, 200);
  assert_true(
      has_header(&r, "Content-Type: text/plain; version=0.0.4; charset=utf-8"));
  assert_int_equal(r.body_len, 0);
  assert_non_null(strcasestr(r.head, "Content-Length: "));
  free(r.body);

  request(port, "GET", "/", NULL, &r);
  assert_int_equal(r.status, 200);
  assert_non_null(strstr(r.body, "/metrics"));
  free(r.body);

  static const char *const not_found[] = {"/metrics/",
                                          "/metric",
                                          "/../../etc/passwd",
                                          "/metrics/../../etc/passwd",
                                          "/%2e%2e/%2e%2e/etc/passwd",
                                          "/favicon.ico"};
  for (size_t i = 0; i < sizeof(not_found) / sizeof(not_found[0]); i++) {
    request(port, "GET", not_found[i], NULL, &r);
    if (r.status != 404)
      fail_msg("GET %s: %d", not_found[i], r.status);
    free(r.body);
  }
  static const char *const methods[] = {"POST",  "PUT",   "DELETE", "OPTIONS",
                                        "PATCH", "TRACE", "BREW"};
  for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
    request(port, methods[i], i % 2 ? "/" : "/metrics", "Content-Length: 5\r\n",
            &r);
    if (r.status != 405)
      fail_msg("%s: %d", methods[i], r.status);
    assert_true(has_header(&r, "Allow: GET, HEAD"));
    free(r.body);
  }

  /* malformed: a garbage request line, a header beyond the memory limit,
   * a request that never finishes, a bare newline, binary noise */
  static const char garbage[] = "\x01\x02 \xff\xfe garbage\r\n\r\n";
  exchange(port, garbage, sizeof(garbage) - 1, &r);
  assert_true(r.status == 400 || r.status == -1);
  free(r.body);
  size_t big = 200 * 1024;
  char *huge = malloc(big + 128);
  assert_non_null(huge);
  int n = snprintf(huge, 128, "GET /metrics HTTP/1.1\r\nX-Big: ");
  memset(huge + n, 'a', big);
  memcpy(huge + n + big, "\r\n\r\n", 5);
  exchange(port, huge, (size_t)n + big + 4, &r);
  assert_true(r.status == 431 || r.status == 413 || r.status == 400 ||
              r.status == -1);
  free(r.body);
  free(huge);
  int slow = connect_to(port); /* never finishes its request */
  static const char partial[] = "GET /metrics HTTP/1.1\r\nHost: x\r\n";
  send_all(slow, partial, sizeof(partial) - 1);
  exchange(port, "\n", 1, &r);
  free(r.body);
  /* while the slow one waits, a scrape is answered at once */
  request(port, "GET", "/metrics", NULL, &r);
  assert_int_equal(r.status, 200);
  free(r.body);
  /* the slow one is closed after the timeout (1 s) */
  struct pollfd pf = {.fd = slow, .events = POLLIN};
  assert_int_equal(poll(&pf, 1, 5000), 1);
  char c;
  ssize_t got = recv(slow, &c, 1, 0);
  assert_true(got <= 0 || c == 'H');
  close(slow);

  request(port, "GET", "/metrics", NULL, &r);
  assert_int_equal(r.status, 200);
  free(r.body);
  /* GET /metrics: 1, 2, HEAD 3, the scrape during the slow one 4, this 5 */
  assert_int_equal(gm_exporter_scrapes(e), 5);
  assert_int_equal(gm_exporter_scrape_failures(e), 0);

  /* the same address again: in use, named, GM_ERR_UNAVAILABLE */
  struct gm_exporter *e2 = NULL;
  cfg.listen = addr;
  assert_int_equal(gm_exporter_start(m, &cfg, &e2, err, sizeof(err)),
                   GM_ERR_UNAVAILABLE);
  assert_null(e2);
  assert_non_null(strstr(err, addr));
  assert_non_null(strstr(err, "already in use"));
  cfg.listen = "127.0.0.1:99999";
  assert_int_equal(gm_exporter_start(m, &cfg, &e2, err, sizeof(err)),
                   GM_ERR_INVALID_ARG);
  cfg.listen = "no-such-host.invalid:9464";
  assert_int_equal(gm_exporter_start(m, &cfg, &e2, err, sizeof(err)),
                   GM_ERR_INVALID_ARG);
  assert_non_null(strstr(err, "no-such-host.invalid"));
  assert_int_equal(gm_exporter_start(NULL, &cfg, &e2, err, sizeof(err)),
                   GM_ERR_INVALID_ARG);

  gm_exporter_stop(e);
  gm_exporter_stop(NULL);
  /* stopped: the port is closed */
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), -1);
  assert_int_equal(errno, ECONNREFUSED);
  close(fd);
  gm_meter_stop(m);
  gm_meter_destroy(m);
  machine_free(&mc);
}

/* ---- runs and jobs ------------------------------------------------------- */

/* A command line (arguments separated by NUL) as /proc/PID/cmdline. */
static void cmdline(const char *root, int pid, const char *args, size_t len) {
  char rel[64];
  snprintf(rel, sizeof(rel), "proc/%d/cmdline", pid);
  gmt_write_bin(root, rel, args, len);
}
#define CMDLINE(root, pid, lit) cmdline((root), (pid), (lit), sizeof(lit))

static void finds_runs_and_jobs(void **state) {
  (void)state;
  char *root = gmt_mkdtemp();
  CMDLINE(root, 300,
          "greenml\0measure\0--tag\0model=x\0--db\0a.db\0--tag=b=2\0--\0"
          "python3\0train.py");
  CMDLINE(root, 301, "/opt/lib/greenml-study\0measure\0--\0sleep\0001");
  CMDLINE(root, 302, "greenml\0runs");             /* not a measure */
  CMDLINE(root, 303, "bash\0-c\0greenml measure"); /* not greenml */
  cmdline(root, 304, "", 0);                       /* a kernel thread */
  gmt_write(root, "sys/fs/cgroup/system.slice/slurmstepd.scope/job_42/cpu.stat",
            "usage_usec 0\n");
  gmt_mkdirs(root, "sys/fs/cgroup/system.slice/slurmstepd.scope/job_42/step_0");
  gmt_mkdirs(root, "sys/fs/cgroup/user.slice/job_x");    /* not an id */
  gmt_mkdirs(root, "sys/fs/cgroup/a/b/c/d/e/f/g/job_7"); /* too deep */
  char *proc = gmt_path(root, "proc"), *cg = gmt_path(root, "sys/fs/cgroup");
  struct gm_exporter_found *f = NULL;
  size_t n = 0;
  assert_int_equal(gm_exporter_find_subjects(proc, cg,
                                             GM_EXPORTER_RUN | GM_EXPORTER_JOB,
                                             100, &f, &n),
                   GM_OK);
  assert_int_equal(n, 3);
  bool r300 = false, r301 = false, j42 = false;
  for (size_t i = 0; i < n; i++) {
    if (f[i].kind == GM_EXPORTER_RUN && f[i].pid == 300) {
      r300 = true;
      assert_string_equal(f[i].id, "300");
      assert_string_equal(f[i].command, "python3 train.py");
      assert_string_equal(f[i].tags, "model=x,b=2");
    } else if (f[i].kind == GM_EXPORTER_RUN && f[i].pid == 301) {
      r301 = true;
      assert_string_equal(f[i].command, "sleep 1");
      assert_string_equal(f[i].tags, "");
    } else if (f[i].kind == GM_EXPORTER_JOB) {
      j42 = true;
      assert_string_equal(f[i].id, "42");
      assert_string_equal(f[i].cgroup, "/system.slice/slurmstepd.scope/job_42");
    }
  }
  assert_true(r300 && r301 && j42);
  free(f);
  /* one kind only; a limit; roots that are not there */
  assert_int_equal(
      gm_exporter_find_subjects(proc, cg, GM_EXPORTER_JOB, 100, &f, &n), GM_OK);
  assert_int_equal(n, 1);
  free(f);
  assert_int_equal(
      gm_exporter_find_subjects(proc, cg, GM_EXPORTER_RUN, 1, &f, &n), GM_OK);
  assert_int_equal(n, 1);
  free(f);
  assert_int_equal(gm_exporter_find_subjects("/nonexistent", "/nonexistent",
                                             GM_EXPORTER_RUN | GM_EXPORTER_JOB,
                                             100, &f, &n),
                   GM_OK);
  assert_int_equal(n, 0);
  free(f);
  free(proc);
  free(cg);
  gmt_rmtree(root);
  free(root);
}

/* Grows /proc/stat (4 busy ticks a step), the run's CPU time (1 tick) and
 * the job's usage (10 ms) every 10 ms, rewriting in place. */
struct driver {
  char stat[1200], run[1200], job[1200];
  atomic_bool stop;
};

static void rewrite(const char *path, const char *text) {
  int fd = open(path, O_WRONLY);
  if (fd >= 0) {
    (void)!pwrite(fd, text, strlen(text), 0);
    close(fd);
  }
}

static void *drive(void *arg) {
  struct driver *d = arg;
  unsigned long long busy = 1000, idle = 1000, mine = 0, usec = 0;
  while (!atomic_load(&d->stop)) {
    char t[256];
    snprintf(t, sizeof(t),
             "cpu  %012llu 0 0 %012llu 0 0 0 0\n"
             "cpu0 %012llu 0 0 %012llu 0 0 0 0\n",
             busy, idle, busy, idle);
    rewrite(d->stat, t);
    snprintf(t, sizeof(t),
             "300 (greenml) S 1 1 1 0 -1 0 0 0 0 0 %012llu 0 0 0 20 0 1 0 1 "
             "1 1 0\n",
             mine);
    rewrite(d->run, t);
    snprintf(t, sizeof(t), "usage_usec %015llu\n", usec);
    rewrite(d->job, t);
    sleep_ms(10);
    busy += 4, idle += 4, mine += 1, usec += 10000;
  }
  return NULL;
}

static void serves_runs_and_jobs(void **state) {
  (void)state;
  struct machine mc;
  machine_make(&mc, "m", NULL,
               "gpu name=\"NVIDIA Test\" power_mw=250000\n"
               "not_supported 0 = energy\nprocs 0 = 300\n");
  char rel[256];
  snprintf(rel, sizeof(rel), "m/proc/stat");
  gmt_write(mc.root, rel,
            "cpu  %012d 0 0 %012d 0 0 0 0\ncpu0 %012d 0 0 %012d 0 0 0 0\n",
            1000, 1000, 1000, 1000);
  gmt_write(mc.root, "m/proc/300/stat",
            "300 (greenml) S 1 1 1 0 -1 0 0 0 0 0 %012d 0 0 0 20 0 1 0 1 1 "
            "1 0\n",
            0);
  gmt_write(mc.root, "m/proc/300/task/300/children", "%s", "");
  gmt_write(mc.root, "m/proc/300/cgroup", "0::/user.slice\n");
  static const char run_cmd[] = "greenml\0measure\0--tag\0k=v\0--\0train";
  gmt_write_bin(mc.root, "m/proc/300/cmdline", run_cmd, sizeof(run_cmd));
  gmt_write(mc.root, "m/sys/fs/cgroup/slurm/job_42/cpu.stat",
            "usage_usec %015d\n", 0);
  struct driver d;
  snprintf(d.stat, sizeof(d.stat), "%s/stat", mc.proc);
  snprintf(d.run, sizeof(d.run), "%s/300/stat", mc.proc);
  snprintf(d.job, sizeof(d.job), "%s/fs/cgroup/slurm/job_42/cpu.stat", mc.sys);
  atomic_init(&d.stop, false);
  pthread_t th;
  assert_int_equal(pthread_create(&th, NULL, drive, &d), 0);
  struct gm_meter *m = meter_on(&mc, true);
  assert_int_equal(gm_meter_start(m), GM_OK);
  struct gm_exporter_config c = gm_exporter_config_default();
  c.listen = "127.0.0.1:0";
  c.attribute = GM_EXPORTER_RUN | GM_EXPORTER_JOB;
  c.rescan_s = 0.05;
  c.procfs_root = mc.proc;
  c.sysfs_root = mc.sys;
  struct gm_exporter *e = NULL;
  char err[256];
  assert_int_equal(gm_exporter_start(m, &c, &e, err, sizeof(err)), GM_OK);
  sleep_ms(1500);
  struct response r;
  request(gm_exporter_port(e), "GET", "/metrics", NULL, &r);
  assert_int_equal(r.status, 200);
  check_shape(r.body, GM_EXPORTER_TEXT);
#define RUN_L(comp, kind, method)                                              \
  "{subject=\"run\",run_pid=\"300\",command=\"train\",tags=\"k=v\","           \
  "component=\"" comp "\",kind=\"" kind                                        \
  "\",in_total=\"true\",method=\"" method "\"}"
#define JOB_L(comp, kind, method)                                              \
  "{subject=\"job\",job_id=\"42\",component=\"" comp "\",kind=\"" kind         \
  "\",in_total=\"true\",method=\"" method "\"}"
  /* the GPU's only process is the run's: all of it, 250 W x its time */
  double g =
      value_of(r.body, "greenml_attributed_energy_joules_total" RUN_L(
                           "gpu0", "gpu", "attributed by GPU processes"));
  double gs =
      value_of(r.body, "greenml_attributed_share_seconds_total" RUN_L(
                           "gpu0", "gpu", "attributed by GPU processes"));
  assert_true(gs > 0.5);
  assert_double_equal(g, GPU_W * gs, 1e-6 * g);
  /* the job has no process on it */
  assert_double_equal(
      value_of(r.body, "greenml_attributed_energy_joules_total" JOB_L(
                           "gpu0", "gpu", "attributed by GPU processes")),
      0.0, 0.0);
  /* DRAM (6 W) by each one's CPU-time share: a quarter each */
  double rd =
      value_of(r.body, "greenml_attributed_energy_joules_total" RUN_L(
                           "dram", "dram", "attributed by CPU-time share"));
  double rs =
      value_of(r.body, "greenml_attributed_share_seconds_total" RUN_L(
                           "dram", "dram", "attributed by CPU-time share"));
  double jd =
      value_of(r.body, "greenml_attributed_energy_joules_total" JOB_L(
                           "dram", "dram", "attributed by CPU-time share"));
  double js =
      value_of(r.body, "greenml_attributed_share_seconds_total" JOB_L(
                           "dram", "dram", "attributed by CPU-time share"));
  assert_double_equal(rd, DRAM_W * rs, 1e-9 + 1e-9 * rd);
  assert_double_equal(jd, DRAM_W * js, 1e-9 + 1e-9 * jd);
  assert_double_equal(rs / gs, 0.25, 0.03);
  assert_double_equal(js / gs, 0.25, 0.03);
  free(r.body);
  /* the run ends: it is no longer served */
  atomic_store(&d.stop, true);
  pthread_join(th, NULL);
  char *p300 = gmt_path(mc.root, "m/proc/300");
  gmt_rmtree(p300);
  free(p300);
  sleep_ms(300);
  request(gm_exporter_port(e), "GET", "/metrics", NULL, &r);
  assert_int_equal(r.status, 200);
  assert_null(strstr(r.body, "subject=\"run\""));
  assert_non_null(strstr(r.body, "subject=\"job\""));
  free(r.body);
  gm_exporter_stop(e);
  gm_meter_stop(m);
  gm_meter_destroy(m);
  machine_free(&mc);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(renders_known_power_exactly),
      cmocka_unit_test(hostile_label_values_are_escaped),
      cmocka_unit_test(hostile_reason_from_the_meter),
      cmocka_unit_test(lost_gpu_counter_stops),
      cmocka_unit_test(idle_baseline),
      cmocka_unit_test(negotiation_and_addresses),
      cmocka_unit_test(serves_http),
      cmocka_unit_test(finds_runs_and_jobs),
      cmocka_unit_test(serves_runs_and_jobs),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

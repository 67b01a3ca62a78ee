/* cmd_sources.c: `greenml sources [--json]`: every source tried, what it
 * found, why one is unusable and the exact fix; then the components and
 * metrics a measurement would use. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "greenml/json.h"
#include "cli.h"

static const char usage_text[] =
    "usage: greenml sources [--json] [options]\n"
    "\n"
    "Lists every power source greenml tries, what it found, why an unusable\n"
    "one is unusable and the exact fix, then the components (with their\n"
    "provenance) and metrics that 'greenml measure' would record.\n"
    "\n"
    "  --json               machine-readable output on "
    "stdout\n" GM_CLI_METER_HELP "\nEnvironment: GREENML_SYSFS, "
    "GREENML_PROCFS, GREENML_DEVFS replace /sys,\n"
    "/proc, /dev; GREENML_NVML_LIB names the NVML library.\n";

static void print_json(struct gm_meter *m) {
  struct gm_json j;
  gm_json_init(&j);
  gm_json_begin_object(&j);
  gm_json_key(&j, "sources");
  gm_json_begin_array(&j);
  for (size_t i = 0; i < gm_meter_probe_count(m); i++) {
    const struct gm_probe *p = gm_meter_probe(m, i);
    gm_json_begin_object(&j);
    gm_json_key(&j, "source");
    gm_json_string(&j, p->source);
    gm_json_key(&j, "usable");
    gm_json_bool(&j, p->status == GM_OK);
    gm_json_key(&j, "used");
    gm_json_bool(&j, p->used);
    gm_json_key(&j, "status");
    gm_json_string(&j, gm_status_name(p->status));
    gm_json_key(&j, "found");
    gm_json_string(&j, p->found);
    gm_json_key(&j, "reason");
    gm_json_string(&j, p->reason);
    gm_json_key(&j, "fix");
    gm_json_string(&j, p->fix);
    gm_json_end_object(&j);
  }
  gm_json_end_array(&j);
  gm_json_key(&j, "components");
  gm_json_begin_array(&j);
  for (size_t i = 0; i < gm_meter_component_count(m); i++) {
    gm_json_begin_object(&j);
    gm_json_component_info(&j, gm_meter_component(m, i));
    gm_json_end_object(&j);
  }
  gm_json_end_array(&j);
  gm_json_key(&j, "missing");
  size_t nm = gm_meter_missing_count(m);
  gm_json_missing(&j, nm ? gm_meter_missing(m, 0) : NULL, nm);
  gm_json_key(&j, "metrics");
  gm_json_begin_array(&j);
  for (size_t i = 0; i < gm_meter_metric_count(m); i++) {
    gm_json_begin_object(&j);
    gm_json_metric_info(&j, gm_meter_metric(m, i));
    gm_json_end_object(&j);
  }
  gm_json_end_array(&j);
  gm_json_end_object(&j);
  if (j.buf)
    printf("%s\n", j.buf);
  gm_json_release(&j);
}

int cmd_sources(int argc, char **argv) {
  struct gm_cli_meter_opts mo;
  gm_cli_meter_opts_init(&mo);
  bool json = false;
  static const struct option longopts[] = {
      {"json", 0, 0, 'j'}, {"help", 0, 0, 'h'}, GM_CLI_METER_LONGOPTS, {0}};
  int opt;
  optind = 1;
  while ((opt = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
    int r = gm_cli_meter_opt(&mo, opt, optarg, "sources");
    if (r < 0)
      return GM_CLI_OPT_EXIT(r);
    if (r > 0)
      continue;
    if (opt == 'j') {
      json = true;
    } else if (opt == 'h') {
      fputs(usage_text, stdout);
      return 0;
    } else {
      fputs(usage_text, stderr);
      return GM_EXIT_USAGE;
    }
  }
  if (optind < argc) {
    gm_cli_error("sources", "unexpected argument '%s'", argv[optind]);
    return GM_EXIT_USAGE;
  }
  struct gm_meter_config cfg = gm_cli_meter_config(&mo);
  struct gm_meter *m = NULL;
  enum gm_status rc = gm_meter_create(&cfg, &m);
  if (rc != GM_OK) {
    gm_cli_error("sources", "cannot probe the sources: %s", gm_status_str(rc));
    return GM_EXIT_SOFTWARE;
  }
  if (json) {
    print_json(m);
  } else {
    gm_cli_print_probes(stdout, m);
    printf("\ncomponents:\n");
    for (size_t i = 0; i < gm_meter_component_count(m); i++) {
      const struct gm_component_info *c = gm_meter_component(m, i);
      char prov[64];
      gm_cli_fmt_provenance(prov, sizeof(prov), c);
      printf("  %-12s %-5s %-14s %-26s%s\n    %s\n    plausible up to ",
             c->name, gm_kind_name(c->kind), c->source, prov,
             c->in_total ? "" : " (not in total)", c->detail);
      if (c->max_power_w > 0)
        printf("%.1f W: %s\n", c->max_power_w, c->max_power_origin);
      else
        printf("%s\n", c->max_power_origin);
    }
    for (size_t i = 0; i < gm_meter_missing_count(m); i++) {
      const struct gm_missing *x = gm_meter_missing(m, i);
      printf("  %-12s %-5s %-14s %-26s%s\n    %s\n", x->name,
             gm_kind_name(x->kind), x->source[0] ? x->source : "-",
             "MISSING: not measured",
             x->in_total ? " (a total without it is partial)"
                         : " (not in total)",
             x->reason);
    }
    printf("\nmetrics:");
    for (size_t i = 0; i < gm_meter_metric_count(m); i++)
      printf("%s %s [%s]", i ? "," : "", gm_meter_metric(m, i)->name,
             gm_meter_metric(m, i)->unit);
    printf("\n");
  }
  gm_meter_destroy(m);
  return 0;
}

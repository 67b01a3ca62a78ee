/* render.c: built by tests/install/CMakeLists.txt against an installed
 * greenml through find_package(greenml COMPONENTS exporter). Renders a
 * snapshot filled by hand (one component at a known energy and power) in
 * the text format and prints it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <greenml/exporter.h>

int main(void) {
  struct gm_exporter_component c = {.energy_j = 42, .power_w = 6};
  snprintf(c.info.name, sizeof(c.info.name), "dram");
  snprintf(c.info.source, sizeof(c.info.source), "dram-model");
  c.info.kind = GM_KIND_DRAM;
  c.info.domain = GM_DOMAIN_DRAM;
  c.info.provenance = GM_PROV_MODELLED;
  c.info.in_total = true;
  c.idle_w = NAN;
  struct gm_exporter_snapshot s = {.n_components = 1,
                                   .components = &c,
                                   .process_cpu_s = NAN,
                                   .exporter_cpu_s = NAN};
  char *text = NULL;
  if (gm_exporter_render(&s, GM_EXPORTER_TEXT, &text, NULL) != GM_OK)
    return 1;
  fputs(text, stdout);
  free(text);
  return 0;
}

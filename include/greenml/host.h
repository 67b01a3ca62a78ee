/* host.h: the description of the machine a run was measured on. */
#ifndef GREENML_HOST_H
#define GREENML_HOST_H

#include <stdbool.h>

#include "greenml/api.h"
#include "greenml/status.h"

struct gm_meter;

struct gm_host {
  char fingerprint[72]; /* stable key: hostname + CPU + memory + GPUs */
  char hostname[128];
  char cpu_model[128];
  int logical_cpus;
  int sockets;
  double mem_total_bytes;
  char kernel[160]; /* uname -srm */
  bool virtualised;
  char virt_detail[96];  /* how it was detected */
  char dimms_json[2048]; /* JSON array of DIMMs, "[]" when unknown */
  char gpus_json[2048];  /* JSON array of GPUs, "[]" when none */
};

/* Describes this machine, looking under the meter's roots (so tests see the
 * fake trees) and at its GPU components. */
GM_API enum gm_status gm_host_detect(const struct gm_meter *m,
                                     struct gm_host *out);

#endif

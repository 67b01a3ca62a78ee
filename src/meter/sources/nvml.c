/* nvml.c: placeholder until the implementation lands. */
#include <stddef.h>

#include "meter/source.h"

static enum gm_status open_(const struct gm__env *env, void **self,
                            struct gm_probe *probe) {
  (void)env;
  (void)probe;
  *self = NULL;
  return GM_ERR_UNAVAILABLE;
}

const struct gm__source_ops gm__source_nvml = {.name = "nvml", .open = open_};

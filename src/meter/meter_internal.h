/* meter_internal.h: what other library modules (host description) may see
 * of a meter beyond the public API. */
#ifndef GM_METER_INTERNAL_H
#define GM_METER_INTERNAL_H

#include "greenml/meter.h"
#include "meter/source.h"

/* The resolved roots and options the sources were opened with. */
const struct gm__env *gm__meter_env(const struct gm_meter *m);

#endif

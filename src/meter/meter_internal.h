/* meter_internal.h: what other library modules (host description) may see
 * of a meter beyond the public API. */
#ifndef GM_METER_INTERNAL_H
#define GM_METER_INTERNAL_H

#include "greenml/meter.h"
#include "meter/source.h"

/* The resolved roots and options the sources were opened with. */
const struct gm__env *gm__meter_env(const struct gm_meter *m);

/* Why a phase marker was refused (gm_meter_phase_begin/end's rules). */
enum gm__mark_verdict {
  GM__MARK_ACCEPTED,
  GM__MARK_BEFORE_START, /* stamped before gm_meter_start */
  GM__MARK_OUT_OF_ORDER, /* stamped before the last boundary applied */
  GM__MARK_IN_FUTURE     /* stamped after now + GM_METER_MARK_FUTURE_NS */
};

/* gm_meter_phase_begin (begin, name) or gm_meter_phase_end (!begin; name
 * ignored) that also says why a marker was refused: *why (may be NULL) is
 * GM__MARK_ACCEPTED unless the status is GM_ERR_INVALID_ARG for its
 * timestamp. Thread-safe. For the marker listener. */
enum gm_status gm__meter_mark(struct gm_meter *m, bool begin, const char *name,
                              int64_t t_ns, enum gm__mark_verdict *why);

#endif

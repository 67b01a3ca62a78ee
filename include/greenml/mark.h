/* mark.h: phases from inside a measured program. `greenml measure` passes
 * the path of a marker channel (a FIFO) in the environment variable
 * GREENML_MARK; these calls write one line each to it, stamped with
 * CLOCK_MONOTONIC, so the phase boundary is exact whatever the delivery
 * latency. They are async-signal-unsafe but thread-safe, cost one open,
 * write and close (a few microseconds), and never block. */
#ifndef GREENML_MARK_H
#define GREENML_MARK_H

#include "greenml/api.h"
#include "greenml/status.h"

#define GM_MARK_ENV "GREENML_MARK"
#define GM_MARK_NAME_MAX 63

/* Begins the phase `name` (1..63 bytes, no control characters, not only
 * spaces), ending the
 * open one if any. GM_ERR_UNAVAILABLE when not running under `greenml
 * measure` (GREENML_MARK unset), GM_ERR_INVALID_ARG for a bad name,
 * GM_ERR_IO when the channel cannot be written. */
GM_API enum gm_status gm_phase_begin(const char *name);
/* Ends the open phase. */
GM_API enum gm_status gm_phase_end(void);

/* Parses one marker line ("B <t_ns> <name>" or "E <t_ns>"). For measure's
 * reader and for tests. name receives up to GM_MARK_NAME_MAX bytes. */
GM_API enum gm_status gm_mark_parse(const char *line, int *begin,
                                    long long *t_ns, char *name,
                                    unsigned name_size);

#endif

/* mark.h: phases from inside a measured program. `greenml measure` passes
 * the path of a marker channel (a FIFO) in the environment variable
 * GREENML_MARK; gm_phase_begin/gm_phase_end write one line each to it,
 * stamped with CLOCK_MONOTONIC, so the phase boundary is exact whatever the
 * delivery latency. They are async-signal-unsafe but thread-safe, cost one
 * open, write and close (a few microseconds), and never block.
 *
 * The other side of the channel is the listener (gm_mark_listener_*): it
 * owns the FIFO and a reader thread that turns each line into a phase of a
 * meter (gm_meter_phase_begin/end). */
#ifndef GREENML_MARK_H
#define GREENML_MARK_H

#include <stddef.h>

#include "greenml/api.h"
#include "greenml/meter.h"
#include "greenml/status.h"

#define GM_MARK_ENV "GREENML_MARK"
#define GM_MARK_NAME_MAX 63
/* The longest line the listener reads, newline included; a marker needs at
 * most 86 bytes ("B", 19 digits, 63 bytes of name). */
#define GM_MARK_LINE_MAX 4096

/* Whether name is a phase name: 1..63 bytes, no control characters, not
 * only spaces. Every way of beginning a phase checks it but
 * gm_meter_phase_begin, which takes any non-empty name (truncated). */
GM_API bool gm_phase_name_valid(const char *name);

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

/* ---- the listener: the meter's side of the channel ---------------------- */

struct gm_mark_listener;

/* Creates a private directory greenml-XXXXXX (mode 0700) under dir (NULL:
 * $TMPDIR when set, else /tmp) holding the FIFO "mark" (mode 0600), and
 * opens it, so that lines written from now on wait in the pipe (64 KiB)
 * until the reader runs. The channel exists before the meter that will
 * receive its phases: a measured program is forked (and inherits
 * GREENML_MARK) before its meter, which follows its process tree, is
 * created. Errors: GM_ERR_INVALID_ARG (NULL out, dir too long),
 * GM_ERR_NO_MEMORY, and for mkdtemp/mkfifo/open the mapping of errno
 * (GM_ERR_PERMISSION, GM_ERR_UNAVAILABLE for a missing dir, GM_ERR_IO), with
 * a specific message in err (err_size bytes; may be NULL). *out is owned by
 * the caller: gm_mark_listener_close. */
GM_API enum gm_status gm_mark_listener_open(const char *dir,
                                            struct gm_mark_listener **out,
                                            char *err, size_t err_size);

/* The FIFO's path: the value of GREENML_MARK for the measured program.
 * Borrowed, valid until gm_mark_listener_close. */
GM_API const char *gm_mark_listener_path(const struct gm_mark_listener *l);

/* Starts the reader thread, which begins and ends phases of m (borrowed:
 * it must outlive the reader, i.e. until gm_mark_listener_stop). Each line
 * that gm_mark_parse accepts is a marker: it begins or ends a phase at the
 * line's own timestamp (gm_meter_phase_begin/end), in the order of the
 * timestamps, not of arrival. A marker the meter refuses for its timestamp
 * (before the meter started, before the boundary last applied, or more
 * than GM_METER_MARK_FUTURE_NS after it was read) changes nothing and is
 * counted (gm_mark_listener_rejected); one the meter takes without effect
 * (an end with no phase open) is not. Any other line is counted
 * (gm_mark_listener_bad_lines) and otherwise ignored: malformed, holding a
 * NUL byte, or cut short at stop; a line longer than GM_MARK_LINE_MAX is
 * discarded whole, up to its newline, and counted once, and the next line
 * is read as usual.
 * Start it after gm_meter_start: the meter refuses phases before.
 * GM_ERR_INVALID_ARG for NULL, GM_ERR_STATE when already started,
 * GM_ERR_SYSTEM when the thread cannot be created
 * (gm_mark_listener_last_error says why). */
GM_API enum gm_status gm_mark_listener_start(struct gm_mark_listener *l,
                                             struct gm_meter *m);

/* Applies every line already written to the channel (those of a measured
 * program that has exited are all there), then joins the reader thread.
 * Call it before gm_meter_stop: a stopped meter refuses phases. A no-op
 * when not running; after it the listener cannot be started again.
 * GM_ERR_INVALID_ARG for NULL, else GM_OK. */
GM_API enum gm_status gm_mark_listener_stop(struct gm_mark_listener *l);

/* The number of lines ignored so far (see gm_mark_listener_start).
 * Thread-safe. */
GM_API unsigned gm_mark_listener_bad_lines(const struct gm_mark_listener *l);

/* Markers refused by the meter so far, by reason. */
struct gm_mark_rejected {
  unsigned before_start; /* stamped before the meter started */
  unsigned out_of_order; /* stamped before the boundary applied last: the
                            open phase's begin, or the last end */
  unsigned in_future;    /* stamped more than GM_METER_MARK_FUTURE_NS after
                            it was read */
};

/* Fills *out (zeros for a NULL l). Thread-safe. */
GM_API void gm_mark_listener_rejected(const struct gm_mark_listener *l,
                                      struct gm_mark_rejected *out);

/* The last specific error message ("" when none); never NULL. Borrowed,
 * valid until the next call on l. */
GM_API const char *
gm_mark_listener_last_error(const struct gm_mark_listener *l);

/* Stops the reader if it runs, closes the FIFO and removes it and its
 * directory. NULL is a no-op. */
GM_API void gm_mark_listener_close(struct gm_mark_listener *l);

#endif

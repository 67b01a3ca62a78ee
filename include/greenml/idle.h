/* idle.h: an idle baseline: the mean power of every component while the
 * machine does nothing else, measured once and subtracted from later runs
 * (see energy.h for the rule that applies it). */
#ifndef GREENML_IDLE_H
#define GREENML_IDLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "greenml/api.h"
#include "greenml/meter.h"
#include "greenml/status.h"

/* The mean CPU utilisation (the meter's cpu.util, whole machine, from
 * /proc/stat) at or above which an idle window was not idle: `greenml idle`
 * refuses to store such a baseline unless forced, and the bench stores it
 * flagged. 10 %: a quiet machine shows 0-3 % (daemons, the meter itself at
 * well under 1 %); at 10 % the TDP x utilisation model already puts 10 % of
 * the TDP into the "idle" power, and RAPL-measured package power rises
 * with utilisation likewise, so every net energy computed from it would be
 * too low by that much times the run's duration. */
#define GM_IDLE_BUSY_PCT 10.0

/* One component's idle power, and what it was measured with. */
struct gm_idle_entry {
  char name[48];
  char source[24];
  double mean_power_w;
  double sd_power_w;    /* of the interval power */
  uint64_t n_intervals; /* sampling intervals behind the mean; 0: unknown */
  char detail[160]; /* the component's detail when measured (gm_component_info:
                       the device, or the model with its formula and
                       constants); "": not recorded (a baseline stored
                       before greenml recorded it) */
};

struct gm_idle_baseline {
  int64_t id;
  char measured_at[32]; /* UTC, ISO 8601 */
  double duration_s;
  size_t n;
  struct gm_idle_entry *entries; /* owned by the baseline; the set of
                                    components it was measured with */
  /* The meter configuration it was measured with (gm_meter_config), NAN
   * where not recorded: the sampling interval, and the explicit model
   * parameters (0: not given, the model chose its own; the effective values
   * are in each entry's detail). */
  double interval_s;
  double cpu_tdp_w;          /* --cpu-tdp */
  double dimm_capacitance_f; /* --dimm-capacitance */
  /* The whole machine's mean CPU utilisation over the window, %; NAN:
   * unknown (no /proc/stat). busy: it was at or above GM_IDLE_BUSY_PCT. */
  double cpu_util_pct;
  bool busy;
};

GM_API void gm_idle_baseline_free(struct gm_idle_baseline *b); /* NULL: no-op */

/* Measures a baseline: creates a meter from cfg (its sample callbacks are
 * ignored, and it follows no process), samples for duration_ns (> 0), stops
 * it and returns each component's mean and spread of interval power in *out,
 * with duration_s the meter's and measured_at the UTC time at the end, each
 * component's detail and number of intervals, the configuration (interval,
 * --cpu-tdp, --dimm-capacitance) and the mean CPU utilisation over the
 * window with its busy flag (GM_IDLE_BUSY_PCT). A busy window is still
 * returned (GM_OK): refusing or flagging it is the caller's choice. id is
 * 0: storing it is the caller's (gm_store_save_idle).
 *
 * stop (optional) is polled every few milliseconds from the calling thread,
 * and at once when a signal interrupts the wait; when it returns true the
 * measurement ends early, nothing is returned and the status is
 * GM_ERR_INTERRUPTED. Other errors: GM_ERR_INVALID_ARG (bad duration or
 * configuration), GM_ERR_NO_MEMORY, GM_ERR_SYSTEM (the sampler cannot start).
 * On any error *out is NULL and err (err_size bytes, may be NULL) holds a
 * specific message. *out is owned by the caller: gm_idle_baseline_free.
 * Blocks for duration_ns; call it from one thread at a time per cfg. */
GM_API enum gm_status gm_idle_measure(const struct gm_meter_config *cfg,
                                      int64_t duration_ns,
                                      bool (*stop)(void *ctx), void *ctx,
                                      struct gm_idle_baseline **out, char *err,
                                      size_t err_size);

#endif

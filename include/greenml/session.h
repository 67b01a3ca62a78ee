/* session.h: one measured run, from the meter's creation to the stored
 * record and its JSON document, as every front end takes it: `greenml
 * measure`, the Python package (ctypes) and any C program that measures
 * itself. A session owns a meter; it stores the run when given a store,
 * applies the host's idle baseline when asked to, and writes the document
 * that `measure --json` writes. The rules it applies live in run.h
 * (accounting), energy.h (baselines), store.h and carbon.h; the session only
 * puts them in order, once.
 *
 * Order: gm_session_open (the meter; the host in the store), optionally
 * gm_session_set_baseline, gm_session_start (the baseline, the run in the
 * store, the meter's threads), phases, gm_session_stop (the record, stored),
 * gm_session_json, gm_session_close. */
#ifndef GREENML_SESSION_H
#define GREENML_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "greenml/api.h"
#include "greenml/idle.h"
#include "greenml/json.h"
#include "greenml/mark.h"
#include "greenml/meter.h"
#include "greenml/run.h"
#include "greenml/status.h"
#include "greenml/store.h"

/* Which idle baseline a session subtracts. */
enum gm_session_idle {
  GM_SESSION_IDLE_AUTO, /* the host's latest stored baseline, when there is a
                           store and a baseline; none otherwise (with a
                           note, gm_session_idle_note) */
  GM_SESSION_IDLE_NONE  /* none: net energies are unknown */
};

struct gm_session_config {
  /* The meter's configuration. Its on_sample and on_flush are called on
   * the writer thread after the session has handed the sample to the
   * store (and after the store's commit). */
  struct gm_meter_config meter;
  /* Where the run is stored: a store the caller opened (borrowed; it must
   * outlive the session), else a location to open (gm_store_open, after
   * creating its missing directories), else (both NULL) nowhere. */
  struct gm_store *store;
  const char *db;
  enum gm_session_idle idle;
  const char *kind;          /* stored run kind; NULL: "measure" */
  const char *command;       /* what is measured (a command line, a script and
                                a label); NULL: "" */
  const char *tags_json;     /* a JSON object of string values, or NULL */
  double carbon_g_per_kwh;   /* grid intensity; NAN: none */
  const char *carbon_source; /* where the intensity comes from */
  double pue;                /* power usage effectiveness; <= 0: 1.0 */
};

struct gm_session;

/* Defaults: gm_meter_config_default, no store, IDLE_AUTO, kind "measure",
 * no carbon intensity, PUE 1. */
GM_API struct gm_session_config gm_session_config_default(void);

/* Opens the store (cfg->db), creates the meter and records the host in the
 * store. On error *out is NULL and err (err_size bytes, may be NULL) says
 * what failed and the fix: the status of gm_store_open (GM_ERR_DATABASE,
 * GM_ERR_SCHEMA_NEWER, GM_ERR_PARSE, GM_ERR_IO, ...), of gm_meter_create,
 * or of the store's host record. *out is owned by the caller:
 * gm_session_close. */
GM_API enum gm_status gm_session_open(const struct gm_session_config *cfg,
                                      struct gm_session **out, char *err,
                                      size_t err_size);

/* gm_session_open with the configuration as text, for bindings that would
 * rather not mirror C structures (the Python package): n pairs of keys[i]
 * = values[i], borrowed for the call. Keys (any other is refused with
 * GM_ERR_INVALID_ARG naming it):
 *   interval_ns       sampling period in ns (1 ms .. 60 s; default 100 ms)
 *   db                store location ("" or absent: none)
 *   idle              "auto" or "none"
 *   kind, command     as gm_session_config
 *   tags              a JSON object of string values
 *   region            ISO 3166-1 alpha-2 code or WORLD (carbon table)
 *   carbon_intensity  gCO2e/kWh, 0 .. 5000 (not with region)
 *   pue               1.0 .. 5.0
 *   cpu_tdp_w, dimm_capacitance_f   model parameters (> 0)
 *   dmidecode         a saved `dmidecode -t memory` file
 *   no_gpu            "1" or "0"
 *   gpus              as gm_meter_config.gpus ("all", "none", "0,2", UUIDs)
 *   track_pid         a process whose tree's CPU time is reported
 *   sysfs_root, procfs_root, devfs_root, nvml_lib   as gm_meter_config
 * Without region or carbon_intensity the world average applies (as
 * `greenml measure` does). */
GM_API enum gm_status gm_session_open_kv(const char *const *keys,
                                         const char *const *values, size_t n,
                                         struct gm_session **out, char *err,
                                         size_t err_size);

/* Closes the session: stops the meter if it runs (the run is then not
 * finished in the store: it stays incomplete), closes the store it opened.
 * NULL is a no-op. */
GM_API void gm_session_close(struct gm_session *s);

/* Borrowed, valid until gm_session_close. */
GM_API struct gm_meter *gm_session_meter(struct gm_session *s);
GM_API struct gm_store *gm_session_store(struct gm_session *s);
GM_API int64_t gm_session_host_id(const struct gm_session *s); /* 0: none */
GM_API int64_t gm_session_run_id(const struct gm_session *s);  /* 0: none */

/* Before gm_session_start: subtract b (borrowed; it must outlive the
 * session; NULL: none) instead of what cfg->idle chooses. GM_ERR_STATE once
 * started. */
GM_API enum gm_status gm_session_set_baseline(struct gm_session *s,
                                              const struct gm_idle_baseline *b);
/* The baseline the run is accounted with (NULL: none), known from
 * gm_session_start on. */
GM_API const struct gm_idle_baseline *
gm_session_baseline(const struct gm_session *s);
/* Why no baseline applies although cfg->idle is AUTO ("" when one does or
 * none was asked for). */
GM_API const char *gm_session_idle_note(const struct gm_session *s);

/* Loads the baseline (IDLE_AUTO), records the run in the store (which waits
 * out another process's lock: store.h), starts the meter. Errors:
 * GM_ERR_STATE (started twice), the store's status (the run could not be
 * recorded; nothing was measured), the meter's. */
GM_API enum gm_status gm_session_start(struct gm_session *s);

/* Thread-safe while running: gm_meter_phase_begin/end of the session's
 * meter (t_ns: CLOCK_MONOTONIC, 0 = now), under its rules; a name that
 * gm_phase_name_valid refuses is GM_ERR_INVALID_ARG. */
GM_API enum gm_status gm_session_phase_begin(struct gm_session *s,
                                             const char *name, int64_t t_ns);
GM_API enum gm_status gm_session_phase_end(struct gm_session *s, int64_t t_ns);

/* Stops the meter, builds the run record and finishes the run in the store
 * with exit_code (the measured command's status; 0 for a program measuring
 * itself). GM_OK, or the store's status when the run is recorded
 * incomplete or could not be finished: the record, the tally and the
 * document are still available (energy is never lost with samples).
 * GM_ERR_STATE when not started; idempotent afterwards. */
GM_API enum gm_status gm_session_stop(struct gm_session *s, int exit_code);

/* After stop: the record (borrowed), and what the store kept of the
 * samples (GM_ERR_STATE without a store). */
GM_API const struct gm_run_record *
gm_session_record(const struct gm_session *s);
GM_API enum gm_status gm_session_tally(const struct gm_session *s,
                                       struct gm_store_sample_tally *out);

/* Facts only the front end knows, for the document: the CPU time of the
 * measured command (NAN: not measured), of the whole measuring process
 * (NAN: not measured; a program that measures itself leaves it: its own
 * work is in it), the marker channel's counts (NULL: no channel). */
GM_API void gm_session_set_cpu(struct gm_session *s, double command_cpu_s,
                               double process_cpu_s);
GM_API void gm_session_set_markers(struct gm_session *s, unsigned bad_lines,
                                   const struct gm_mark_rejected *rejected);

/* The run's summary document (the JSON of `greenml measure --json`):
 * borrowed, valid until the next call or gm_session_close; NULL before
 * stop or out of memory. */
GM_API const char *gm_session_json(struct gm_session *s);

/* The last specific error message ("" when none); never NULL. */
GM_API const char *gm_session_last_error(const struct gm_session *s);

/* ---- pieces of the document, for the other documents that show them -- */

/* The keys of a component's description (inside an object): name, kind,
 * domain, source, provenance, signal, detail, in_total, max_power_w,
 * max_power_origin. */
GM_API void gm_json_component_info(struct gm_json *j,
                                   const struct gm_component_info *c);
/* An array of missing components. */
GM_API void gm_json_missing(struct gm_json *j, const struct gm_missing *x,
                            size_t n);
/* The keys of a metric's description: name, unit, source. */
GM_API void gm_json_metric_info(struct gm_json *j,
                                const struct gm_metric_info *mi);

/* The k-th warning (from 0) about a component's readings: counter and
 * power disagree, glitches, a stopped counter, a lost device, read errors,
 * resets. false when there is no k-th. */
GM_API bool gm_run_component_warning(const struct gm_run_component *c, size_t k,
                                     char *buf, size_t size);

/* ---- where the store lives by default --------------------------------- */

/* $XDG_DATA_HOME/greenml/greenml.db, else $HOME/.local/share/greenml/
 * greenml.db, else greenml.db. false when it does not fit in size. */
GM_API bool gm_store_default_location(char *buf, size_t size);
/* Creates the missing directories above a file location (mode 0755).
 * GM_OK (also when there are none to make), else the errno's status with
 * the directory named in err. */
GM_API enum gm_status gm_store_make_dirs(const char *location, char *err,
                                         size_t err_size);

#endif
